#!/usr/bin/env bash
# The package as users get it: `npm pack`, then `npm install -g` of the
# tarball into a throwaway prefix, then every way of running it from there
# (names, a send, the queue, the server, man pages, completions, units, the
# Debian alternatives of docs/install.md), with a home, a PATH and a working
# folder outside this work tree. Prints "pack: N passed, M failed"; .ci/run
# adds that to its total. Needs man (installs man-db with apt-get when
# missing and root). Everything it starts is stopped by PID.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pids=()
passed=0
failed=0

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' <<<"$2"; return 0; }
# check NAME COMMAND...: one check, passed when COMMAND exits 0; its output is shown when it fails.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
finish() {
  echo "pack: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# Waits (at most 10 s) until FILE has a line matching PATTERN.
wait_for() {
  local file=$1 pattern=$2 i
  for ((i = 0; i < 100; i++)); do
    grep -qE "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

if ! command -v man >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing man-db"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq man-db >/dev/null
  fi
fi

echo "== npm pack"
if ! (cd "$repo" && npm pack --pack-destination "$tmp" --json >"$tmp/pack.json" 2>"$tmp/pack.log"); then
  not_ok "npm pack" "$(tail -n 20 "$tmp/pack.log")"
  finish
fi
tarball="$tmp/$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].filename)' "$tmp/pack.json")"
ok "npm pack ($(basename "$tarball"))"
check "npm pack gave the work tree its package.json back (prepare kept for a clone's npm install)" \
  bash -c 'cd "$1" && [ ! -e .package.json.before-pack ] && grep -q "\"prepare\": \"npm run build\"" package.json' _ "$repo"

contents=$(tar tzf "$tarball")
check "the tarball has the build, the pages, the completions and the units" \
  bash -c 'for f in bin/outbox dist/bundle/outbox.cjs dist/bundle/outbox.cache dist/man/outbox.1 dist/man/outbox-serve.1 dist/man/outboxrc.5 dist/completion/outbox.bash dist/completion/_outbox contrib/systemd/outbox-serve.socket contrib/systemd/outbox-queue.timer; do grep -qx "package/$f" <<<"$1" || { echo "missing: $f"; exit 1; }; done' _ "$contents"
check "the tarball has no sources, tests or tsc output" \
  bash -c '! grep -E "^package/(src|test|scripts|bench|dist/cli|dist/config)/" <<<"$1"' _ "$contents"

echo "== npm install -g --prefix"
prefix="$tmp/prefix"
if (cd "$tmp" && npm install -g --prefix "$prefix" --no-audit --no-fund "$tarball" >"$tmp/install.log" 2>&1); then
  ok "npm install -g of the tarball"
else
  not_ok "npm install -g of the tarball" "$(tail -n 20 "$tmp/install.log")"
  finish
fi
# Any warning fails (install scripts, engines, deprecations …) but the registry's network retries, which say nothing about the package.
check "the install printed no warning" bash -c '! grep -iE "warn" "$1" | grep -viE "fetch|retry|ECONNRESET|ETIMEDOUT|EAI_AGAIN"' _ "$tmp/install.log"
check "the installed package.json has no install-time script (prepare is stripped at pack time)" \
  node -e 'const s = require(process.argv[1]).scripts ?? {}; for (const k of ["preinstall", "install", "postinstall", "prepare"]) if (s[k]) { console.log(k); process.exit(1); }' "$prefix/lib/node_modules/outbox/package.json"

# From here on: only the installed package, with a fresh home, outside the work tree.
home="$tmp/home"
mkdir -p "$home" "$tmp/links"
export HOME=$home OUTBOX_SYSTEM_CONFIG="$tmp/no-system-msmtprc" OUTBOX_BACKGROUND_FLUSH=off
export PATH="$prefix/bin:$PATH"
unset XDG_CONFIG_HOME XDG_STATE_HOME XDG_CACHE_HOME NODE_PATH
cd "$tmp" || finish

check "outbox is the installed one" test "$(command -v outbox)" = "$prefix/bin/outbox"
version=$(outbox --version 2>&1)
check "outbox --version" grep -qE "^outbox version [0-9]+\.[0-9]+\.[0-9]+$" <<<"$version"
check "--version names the user configuration file and the queue folder" \
  grep -qzE "User configuration file name: $home/.msmtprc.*Queue folder: $home/.local/state/outbox/queue" <<<"$version"
check "outbox --help" bash -c 'outbox --help | grep -q "^Queue options:"'
check "iconv-lite is found from the installed package (a non-UTF-8 locale)" env LC_ALL=C outbox --version
check "outboxd, installed beside outbox, is outbox serve" bash -c 'outboxd --version | grep -q "^outbox serve version"'

echo "== outbox serve, a send, the queue"
outbox serve --port=0 --maildir="$tmp/Maildir" --log="$tmp/serve.log" 2>"$tmp/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
if wait_for "$tmp/serve.log" 'listening on .* port [0-9]+'; then
  ok "outbox serve starts ($(grep -oE 'port [0-9]+' "$tmp/serve.log" | head -n 1))"
else
  not_ok "outbox serve starts" "$(cat "$tmp/serve.log" "$tmp/serve.err" 2>/dev/null)"
fi
port=$(grep -oE 'port [0-9]+' "$tmp/serve.log" | head -n 1 | cut -d' ' -f2)
send() { printf 'Subject: %s\n\npacked\n' "$2" | "$1" --host=127.0.0.1 --port="${port:-1}" -f a@example.org -- b@example.net; }
check "a mail sent by outbox to outbox serve" send outbox "from the tarball"
check "... arrives in the Maildir" bash -c 'grep -rqs "^Subject: from the tarball" "$1"/new' _ "$tmp/Maildir"

ln -s "$prefix/bin/outbox" "$tmp/links/sendmail"
ln -s "$prefix/bin/outbox" "$tmp/links/mailq"
check "a link named sendmail sends" send "$tmp/links/sendmail" "as sendmail"
check "... and the mail arrives" bash -c 'grep -rqs "^Subject: as sendmail" "$1"/new' _ "$tmp/Maildir"
check "a mail queued with queue always (server unreachable)" \
  bash -c "printf 'Subject: queued\n\nq\n' | outbox --host=127.0.0.1 --port=1 --queue=always -f a@example.org -- queued@example.net"
check "a link named mailq lists it" bash -c '"$1" | grep -q "queued@example.net"' _ "$tmp/links/mailq"

sink_port_file="$tmp/sink.port"
node "$repo/test/pack/sink.mjs" "$sink_port_file" &
pids+=("$!")
wait_for "$sink_port_file" '^[0-9]+$'
check "a send to the build's SMTP sink" \
  bash -c "printf 'Subject: sink\n\nx\n' | outbox --host=127.0.0.1 --port=$(cat "$sink_port_file" 2>/dev/null || echo 1) -f a@example.org -- c@example.net"

if kill -TERM "$serve_pid" 2>/dev/null; then
  wait "$serve_pid"
  status=$?
  if [ "$status" -eq 0 ]; then ok "outbox serve stops on SIGTERM with status 0"; else not_ok "outbox serve stops on SIGTERM with status 0" "status $status"; fi
else
  not_ok "outbox serve was still running to be stopped"
fi

echo "== man, completion, units"
manpath="$prefix/share/man"
for page in "1 outbox" "1 outbox-serve" "5 outboxrc"; do
  set -- $page
  check "man -M $manpath $1 $2" bash -c 'MANPAGER=cat MANWIDTH=80 man -M "$1" "$2" "$3" | grep -q "^NAME"' _ "$manpath" "$1" "$2"
done
check "man outbox, with only PATH to go by, finds the installed page" \
  bash -c 'found=$(env -u MANPATH man -w outbox) && [ "$(readlink -f "$found")" = "$(readlink -f "$1/man1/outbox.1")" ] || { echo "found: $found"; exit 1; }' _ "$manpath"
check "man outbox documents the exit statuses" bash -c 'MANPAGER=cat man -M "$1" outbox | grep -q "EX_TEMPFAIL"' _ "$manpath"
check "the bash completion loads and completes from the installed package" \
  bash -c 'source "$1"; COMP_WORDS=(outbox --queue-r); COMP_CWORD=1; _outbox; [ "${COMPREPLY[*]}" = "--queue-run --queue-remove" ]' _ "$prefix/lib/node_modules/outbox/dist/completion/outbox.bash"
if command -v systemd-analyze >/dev/null; then
  units="$tmp/units"
  mkdir -p "$units"
  for unit in "$prefix"/lib/node_modules/outbox/contrib/systemd/*; do
    sed "s|^ExecStart=outbox|ExecStart=$prefix/bin/outbox|" "$unit" >"$units/$(basename "$unit")"
  done
  # With the installed man pages on MANPATH, Documentation=man:… is checked too.
  check "systemd-analyze verify of the installed units" \
    bash -c 'out=$(MANPATH="$1" systemd-analyze verify "$2"/* 2>&1) && [ -z "$out" ] || { echo "$out"; exit 1; }' _ "$manpath" "$units"
fi

echo "== Debian alternatives (docs/install.md)"
if command -v update-alternatives >/dev/null; then
  alt=(update-alternatives --altdir "$tmp/alt" --admindir "$tmp/admin" --log "$tmp/alt.log")
  mkdir -p "$tmp/alt" "$tmp/admin" "$tmp/sbin" "$tmp/bin"
  check "update-alternatives --install sendmail (and mailq) → outbox" \
    "${alt[@]}" --install "$tmp/sbin/sendmail" sendmail "$prefix/bin/outbox" 25 --slave "$tmp/bin/mailq" mailq "$prefix/bin/outbox"
  check "sendmail -t sends through it" \
    bash -c "printf 'To: d@example.net\nSubject: alternatives\n\nx\n' | '$tmp/sbin/sendmail' --host=127.0.0.1 --port=$(cat "$sink_port_file" 2>/dev/null || echo 1) -f a@example.org -t"
  check "its mailq lists the queue" bash -c '"$1" | grep -q "queued@example.net"' _ "$tmp/bin/mailq"
  check "update-alternatives --remove takes the links away" \
    bash -c '"${@:3}" --remove sendmail "$2/bin/outbox" && [ ! -e "$1/sbin/sendmail" ] && [ ! -e "$1/bin/mailq" ]' _ "$tmp" "$prefix" "${alt[@]}"
fi

finish
