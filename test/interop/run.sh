#!/usr/bin/env bash
# The interop suite's entry point (`npm run test:interop` builds, then runs
# this): outbox against real Postfix and Dovecot from Debian's packages, msmtp
# as a reference, and real mail clients. See docs/interop.md.
#
#   1. Without root: says it is skipped and exits 0 (with CI=true: fails).
#   2. Installs the Debian packages it needs when they are missing, with
#      service start-up blocked (policy-rc.d) so only our instances run.
#   3. Starts throwaway Postfix and Dovecot instances on loopback (servers.sh).
#   4. Runs the cases with vitest (test/interop/vitest.config.ts); among them
#      msmtp's own test suite with outbox as msmtp (msmtp-suite.test.ts, which
#      fetches it from Debian's archive through msmtp-suite.sh).
#   5. Stops every process it started, by PID, whatever happened, and removes
#      the temporary directory (INTEROP_KEEP=1 keeps it, with the logs).
#
# The last line is always `interop: N passed, M failed`; the exit status is
# non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

# xz-utils: msmtp-suite.sh unpacks msmtp's source (.orig.tar.xz) for msmtp's own tests.
# swaks: a client of outbox serve (serve.test.ts).
# procmail, fetchmail, cron: real MDAs, a real fetchmail and a real cron daemon around outbox's local delivery (mda.test.ts).
PACKAGES=(postfix dovecot-core dovecot-lmtpd dante-server msmtp mutt git git-email libmailtools-perl bsd-mailx php-cli openssl xz-utils swaks procmail fetchmail cron)
APT_TIME_LIMIT=900   # seconds, for each apt-get call
VITEST_TIME_LIMIT=900

SERVERS=
RESULTS=
POLICY_OURS=

say() { printf 'interop: %s\n' "$*"; }
# The one closing line the CI script reads, after everything is stopped.
finish() {
  cleanup
  trap - EXIT
  printf 'interop: %s passed, %s failed\n' "$1" "$2"
  exit "$3"
}

# --- packages -----------------------------------------------------------------

POLICY=/usr/sbin/policy-rc.d
POLICY_SAVED=

# While packages install, no service may start: a machine-wide Postfix or Dovecot
# is none of our business. A policy-rc.d that exits 101 tells invoke-rc.d (and
# deb-systemd-invoke) to start nothing. One that was there before is put back.
block_services() {
  if [ -e "$POLICY" ]; then
    POLICY_SAVED=$(mktemp)
    cp -p "$POLICY" "$POLICY_SAVED"
  fi
  printf '#!/bin/sh\n# outbox interop: no service starts while packages install\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  POLICY_OURS=1
}

unblock_services() {
  [ -n "$POLICY_OURS" ] || return 0
  if [ -n "$POLICY_SAVED" ]; then
    cp -p "$POLICY_SAVED" "$POLICY" && rm -f "$POLICY_SAVED"
  else
    rm -f "$POLICY"
  fi
  POLICY_OURS=
}

missing_packages() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || printf '%s\n' "$pkg"
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -gt 0 ] || return 0
  say "installing ${missing[*]}"
  block_services
  # Postfix asks how to configure the machine's mail system: not at all, we bring our own.
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  local status=0 log
  log=$(mktemp)
  DEBIAN_FRONTEND=noninteractive timeout "$APT_TIME_LIMIT" apt-get update -q >"$log" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive timeout "$APT_TIME_LIMIT" \
      apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >>"$log" 2>&1 || status=$?
  fi
  unblock_services
  if [ "$status" -ne 0 ]; then
    say "apt-get failed (status $status) installing ${missing[*]}; its last lines:"
    tail -n 30 "$log"
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  mapfile -t missing < <(missing_packages)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "still missing after apt-get: ${missing[*]}"
    return 1
  fi
}

# Idempotent: run by finish, and by the EXIT trap when the script is interrupted.
cleanup() {
  unblock_services
  if [ -n "$SERVERS" ]; then
    bash test/interop/servers.sh stop "$SERVERS"
    if [ "${INTEROP_KEEP:-}" = 1 ]; then
      say "kept $SERVERS (logs: postfix/maillog, dovecot/dovecot.log)"
    else
      rm -rf "$SERVERS"
    fi
    SERVERS=
  fi
  [ -z "${RESULTS:-}" ] || rm -rf "$RESULTS"
  RESULTS=
}

# --- main -----------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then
    say "needs root to install/start Postfix and Dovecot, and CI must never skip it"
    finish 0 1 1
  fi
  say "skipped (needs root to install/start Postfix and Dovecot)"
  exit 0
fi

if ! node bin/outbox --version >/dev/null 2>&1; then
  say "bin/outbox does not run: build it first with \`npm run build\` (npm run test:interop does)"
  finish 0 1 1
fi

RESULTS=$(mktemp -d)
VITEST_PID=
# Interrupted: end the cases (by PID: timeout passes the signal on to vitest),
# then the EXIT trap stops the servers.
on_signal() {
  if [ -n "$VITEST_PID" ]; then
    kill -TERM "$VITEST_PID" 2>/dev/null
    wait "$VITEST_PID" 2>/dev/null
  fi
  say "interrupted"
  finish 0 1 "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

install_packages || finish 0 1 1

SERVERS=$(bash test/interop/servers.sh start) || { SERVERS=; say "could not start Postfix and Dovecot"; finish 0 1 1; }
export INTEROP_SETUP=$SERVERS/setup.json

vitest_status=0
# In the background and waited for, so that a signal is handled at once.
# Arguments are vitest's file filters: `npm run test:interop -- serve` runs serve.test.ts only.
timeout "$VITEST_TIME_LIMIT" ./node_modules/.bin/vitest run --config test/interop/vitest.config.ts \
  --reporter=default --reporter=json --outputFile="$RESULTS/vitest.json" "$@" </dev/null &
VITEST_PID=$!
wait "$VITEST_PID" || vitest_status=$?
VITEST_PID=

passed=0
failed=0
if [ -s "$RESULTS/vitest.json" ]; then
  # Passed and failed cases; a file that failed outside any case (it did not
  # load, a hook threw) counts as one failure. Skipped cases are named.
  read -r passed failed < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    let failed = r.numFailedTests;
    const skipped = [];
    for (const file of r.testResults) {
      const cases = file.assertionResults ?? [];
      if (file.status === "failed" && !cases.some((c) => c.status === "failed")) failed += 1;
      for (const c of cases) {
        if (c.status === "skipped" || c.status === "pending" || c.status === "todo") skipped.push([...(c.ancestorTitles ?? []), c.title].join(" > "));
      }
    }
    for (const name of skipped) console.error(`interop: skipped: ${name}`);
    console.log(r.numPassedTests, failed);
  ' "$RESULTS/vitest.json")
fi
# An unreadable report counts as a failure.
[ -n "$passed" ] || passed=0
[ -n "$failed" ] || failed=1
if [ "$vitest_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  say "vitest exited with status $vitest_status"
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  for log in "$SERVERS/postfix/maillog" "$SERVERS/dovecot/dovecot.log"; do
    [ -f "$log" ] && { say "last lines of $log:"; tail -n 40 "$log"; }
  done
  finish "$passed" "$failed" 1
fi
finish "$passed" "$failed" 0
