#!/usr/bin/env bash
# Prepares Debian's Exim as a client of `outbox serve` (serve-exim.test.ts):
#
#   bash test/interop/serve-exim.sh DIR
#
# Exim is the one SMTP client in Debian that sends BDAT (RFC 3030): its smtp
# transport uses CHUNKING whenever the server offers it (hosts_try_chunking
# defaults to *). swaks 20201014, msmtp, Postfix's smtp client, Python's
# smtplib and Perl's Net::SMTP send none.
#
# exim4-daemon-light is downloaded from the machine's apt sources and
# unpacked into DIR/exim with dpkg-deb, not installed: exim4 conflicts with
# Postfix. The binary looks up its user, Debian-exim, by name when it starts,
# so that system user is made if it is missing (as exim4-base's postinst
# would). The configuration the tests write sets exim_path, the spool and
# the log inside DIR, so nothing else on the machine is used.
#
# Prints the path of the binary and its version to DIR/ready, written last;
# when DIR/ready exists it does nothing. Exits non-zero, with the reason on
# stderr, when it could not. Every apt-get call is bounded in time.
set -euo pipefail

dir=${1:?usage: $0 DIR}
APT_TIME_LIMIT=300

die() { printf 'serve-exim: %s\n' "$*" >&2; exit 1; }
# shellcheck source=unpack-deb.sh
. "$(dirname "$0")/unpack-deb.sh"

[ -e "$dir/ready" ] && exit 0
mkdir -p "$dir/download"

unpack_deb exim4-daemon-light "$dir/download" "$dir/download.log" "$dir/exim" || die "$UNPACK_DEB_ERROR"
exim=$dir/exim/usr/sbin/exim4
[ -x "$exim" ] || die "exim4-daemon-light has no usr/sbin/exim4"

if ! id Debian-exim >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim ||
    die "cannot make the system user Debian-exim that Debian's exim binary runs as"
fi

printf '%s\t%s\n' "$exim" "$(dpkg-deb -f "$UNPACK_DEB_FILE" Version)" >"$dir/ready"
cat "$dir/ready"
