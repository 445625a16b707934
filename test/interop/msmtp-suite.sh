#!/usr/bin/env bash
# Prepares msmtp's own test suite to run with outbox in msmtp's place:
#
#   bash test/interop/msmtp-suite.sh DIR OUTBOX
#
# msmtp's tests (tests/*.sh, since msmtp 1.8.27) run `../src/msmtp` and
# `../src/msmtpd` from their own folder. This script lays out DIR so that
# they find outbox and a real msmtpd there:
#
#   DIR/source/tests/      the tests, from the msmtp source package of Debian
#                          $INTEROP_MSMTP_SOURCE_DIST (default trixie: 1.8.28), fetched
#                          with apt-get source through a throwaway apt configuration
#                          (DIR/apt) that has only that deb-src line: the machine's
#                          apt sources and lists are not touched
#   DIR/source/src/msmtp   a wrapper that runs OUTBOX
#   DIR/source/src/msmtpd  Debian's msmtpd, from the msmtp-mta package of the machine's
#                          release (unpacked with dpkg-deb, not installed: msmtp-mta
#                          conflicts with Postfix)
#   DIR/bin/               msmtp and msmtpd again, for PATH
#   DIR/ready              one line naming the versions; written last
#
# With INTEROP_MSMTPD=outbox-serve, DIR/source/src/msmtpd (and DIR/bin/msmtpd)
# is instead a wrapper that runs `node OUTBOX serve "$@"`: outbox's server in
# msmtpd's place as well (test/interop/serve.test.ts). Without it, they are
# Debian's msmtpd again; both are written on every call.
#
# Only Debian's archive is used. Prints what it did; exits non-zero, with the
# reason on stderr, when it could not. When DIR/ready exists it does nothing.
# Every apt-get call is bounded in time.
set -euo pipefail

dir=${1:?usage: $0 DIR OUTBOX}
outbox=${2:?usage: $0 DIR OUTBOX}
DIST=${INTEROP_MSMTP_SOURCE_DIST:-trixie}
MIRROR=${INTEROP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
APT_TIME_LIMIT=300

log() { printf 'msmtp suite: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=unpack-deb.sh
. "$(dirname "$0")/unpack-deb.sh"

# outbox in msmtp's place: written on every call, so that another OUTBOX can use a prepared DIR.
#
# With outbox serve as msmtpd, the wrapper first waits (at most 10 s) until the
# --host/--port it was given accepts a connection: msmtp's scripts start msmtpd
# in the background and connect at once, which works with msmtpd (C, listening
# within a millisecond) but races Node's start-up (outbox serve listens after
# 0.2-0.3 s, while outbox as the client connects sooner). Only a call with
# --port waits; the probe is one connection opened and closed (the server sees
# an empty session).
write_msmtp_wrapper() {
  mkdir -p "$dir/source/src" "$dir/bin"
  if [ "${INTEROP_MSMTPD:-}" = outbox-serve ]; then
    {
      printf '#!/usr/bin/env bash\n# outbox in the place of msmtp, for msmtp'"'"'s own tests, once the server listens\n'
      printf 'host=localhost port=\n'
      printf 'for a in "$@"; do case $a in --host=*) host=${a#--host=} ;; --port=*) port=${a#--port=} ;; esac; done\n'
      printf 'if [ -n "$port" ]; then\n  for i in $(seq 100); do (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null \x26\x26 break; sleep 0.1; done\nfi\n'
      printf 'exec %q "$@"\n' "$outbox"
    } >"$dir/source/src/msmtp"
  else
    printf '#!/bin/sh\n# outbox in the place of msmtp, for msmtp'"'"'s own tests\nexec %q "$@"\n' "$outbox" >"$dir/source/src/msmtp"
  fi
  chmod 755 "$dir/source/src/msmtp"
  ln -sfn "$dir/source/src/msmtp" "$dir/bin/msmtp"
}

# msmtpd: Debian's (the default), or outbox serve in its place (INTEROP_MSMTPD=outbox-serve).
write_msmtpd() {
  local debian=$dir/msmtp-mta/usr/bin/msmtpd
  rm -f "$dir/source/src/msmtpd" "$dir/bin/msmtpd"
  if [ "${INTEROP_MSMTPD:-}" = outbox-serve ]; then
    printf '#!/bin/sh\n# outbox serve in the place of msmtpd, for msmtp'"'"'s own tests\nexec %q %q serve "$@"\n' \
      "$(command -v node)" "$outbox" >"$dir/source/src/msmtpd"
    chmod 755 "$dir/source/src/msmtpd"
    ln -s "$dir/source/src/msmtpd" "$dir/bin/msmtpd"
  else
    ln -s "$debian" "$dir/source/src/msmtpd"
    ln -s "$debian" "$dir/bin/msmtpd"
  fi
}

if [ -f "$dir/ready" ]; then write_msmtp_wrapper; write_msmtpd; cat "$dir/ready"; exit 0; fi
rm -rf "$dir"
# apt-get drops to the _apt user to download: it must reach into the folder.
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/apt/parts" "$dir/download" "$dir/source" "$dir/bin" "$dir/home"
chmod 755 "$dir" "$dir/apt" "$dir/download"
chmod 777 "$dir/download"

# --- the tests: msmtp's source from Debian -----------------------------------

printf 'deb-src [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$DIST" >"$dir/apt/sources.list"
apt_options=(
  -o "Dir::Etc::SourceList=$dir/apt/sources.list"
  -o "Dir::Etc::SourceParts=$dir/apt/parts"
  -o "Dir::State::Lists=$dir/apt/lists"
  -o "Dir::Cache=$dir/apt/cache"
  -q
)
log "fetching the msmtp source package of Debian $DIST from $MIRROR"
timeout "$APT_TIME_LIMIT" apt-get "${apt_options[@]}" update >"$dir/apt/update.log" 2>&1 \
  || { tail -n 20 "$dir/apt/update.log" >&2; die "apt-get update for deb-src $DIST failed"; }
# --download-only: the files are checked against the signed Sources index; no dpkg-dev needed.
(cd "$dir/download" && timeout "$APT_TIME_LIMIT" apt-get "${apt_options[@]}" source --download-only msmtp) >"$dir/apt/source.log" 2>&1 \
  || { tail -n 20 "$dir/apt/source.log" >&2; die "apt-get source msmtp ($DIST) failed"; }
orig=$(find "$dir/download" -maxdepth 1 -name 'msmtp_*.orig.tar.*' ! -name '*.asc' | head -n 1)
[ -n "$orig" ] || die "no msmtp_*.orig.tar.* among the downloaded files: $(ls "$dir/download")"
version=${orig##*/msmtp_}
version=${version%%.orig.tar.*}
# The upstream tests only (Debian 1.8.28-3 patches nothing; no dpkg-source needed).
tar -xf "$orig" -C "$dir/source" --strip-components=1 --wildcards '*/tests/*' 2>/dev/null \
  || die "msmtp $version has no tests/ folder (msmtp's tests arrived in 1.8.27)"
compgen -G "$dir/source/tests/test-*.sh" >/dev/null || die "msmtp $version: no tests/test-*.sh"

# --- msmtpd: from the machine's release, unpacked, not installed ----------------

log "fetching msmtp-mta (for msmtpd) from the machine's apt sources"
unpack_deb msmtp-mta "$dir/download" "$dir/apt/download.log" "$dir/msmtp-mta" || die "$UNPACK_DEB_ERROR"
msmtpd=$dir/msmtp-mta/usr/bin/msmtpd
[ -x "$msmtpd" ] || die "msmtp-mta has no usr/bin/msmtpd"
msmtpd_version=$("$msmtpd" --version | head -n 1)

# --- the layout the tests expect ----------------------------------------------

write_msmtp_wrapper
write_msmtpd
ln -sf "$dir/source/src/msmtp" "$dir/bin/msmtp"
printf 'msmtp %s tests (Debian %s source), outbox as msmtp, %s (Debian msmtp-mta %s)\n' \
  "$version" "$DIST" "$msmtpd_version" "$(dpkg-deb -f "$UNPACK_DEB_FILE" Version)" | tee "$dir/ready"
