#!/usr/bin/env bash
# Throwaway Postfix and Dovecot instances for the interop suite, on loopback
# only, with their own configuration, queue and mail folders under one
# temporary directory.
#
#   bash test/interop/servers.sh start        # prints the directory; its setup.json describes it
#   bash test/interop/servers.sh stop DIR     # stops what `start` started there, by PID
#
# run.sh uses both; they also let you keep the servers up while writing a case:
#   dir=$(bash test/interop/servers.sh start)
#   INTEROP_SETUP=$dir/setup.json npx vitest run --config test/interop/vitest.config.ts
#   bash test/interop/servers.sh stop "$dir"
#
# Needs root (Postfix and Dovecot start as root and drop privileges) and the
# packages run.sh installs. Every wait is bounded.
set -Eeuo pipefail

# The test domain Postfix delivers (virtual mailboxes) and Dovecot accepts (LMTP).
DOMAIN=example.test
# fast_flush_domains: ETRN for this domain is accepted (for the extensions issue).
FLUSH_DOMAIN=flush.example.test
# Mail users, the same in Postfix and in Dovecot. `full` has a tiny quota in
# Dovecot, so LMTP refuses it after the data (a per-recipient failure).
USERS=(alice bob carol full)
PASSWORD='Interop-Pass-1'
SIZE_LIMIT=1048576
TEMPFAIL_RCPT=alice+tempfail@$DOMAIN
TEMPFAIL_DATA_SENDER=tempfail-data@sender.test
REJECT_DATA_SENDER=reject-data@sender.test
# 8-bit mail for a server without 8BITMIME (issue 15): a fourth smtpd listener that
# discards the 8BITMIME keyword and hands what it takes to Dovecot over LMTP (its own
# content_filter, so no main.cf setting that a case may change, such as transport_maps,
# is involved), and a user Postfix accepts and Dovecot stores, so a case reads what
# Dovecot stores.
EIGHTBIT_USER=eightbit
MAIL_UID=65534 # nobody: delivery needs no system user of its own
MAIL_GID=65534

log() { printf 'interop servers: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Free TCP ports on 127.0.0.1, chosen by the kernel. All are held open until the
# last is chosen, so they are distinct; a race with another program is possible
# in principle but unlikely in the moment before the servers bind them.
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = [];
    const next = () => {
      if (servers.length === n) {
        console.log(servers.map((s) => s.address().port).join(" "));
        servers.forEach((s) => s.close());
        return;
      }
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => { servers.push(s); next(); });
    };
    next();
  ' "$1"
}

# Polls until 127.0.0.1:$1 accepts a connection, for at most $2 seconds.
wait_for_port() {
  local port=$1 deadline=$((SECONDS + $2))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

make_certificates() {
  local dir=$1
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj '/CN=outbox interop test CA' \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$dir/server.key" -out "$dir/server.csr" -subj '/CN=localhost' 2>/dev/null
  printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 7 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
  chmod 600 "$dir/ca.key" "$dir/server.key"
}

write_postfix_config() {
  local base=$1 smtp=$2 submission=$3 smtps=$4 sevenbit=$5 lmtp=$6
  local conf=$base/postfix/conf
  mkdir -p "$conf" "$base/postfix/queue" "$base/postfix/data" "$base/mail"
  chown postfix: "$base/postfix/data"
  chown "$MAIL_UID:$MAIL_GID" "$base/mail"
  : >"$conf/vmailbox"
  for user in "${USERS[@]}" "$EIGHTBIT_USER"; do printf '%s@%s %s/\n' "$user" "$DOMAIN" "$user" >>"$conf/vmailbox"; done
  # Refusals on demand, for exit-status cases: a temporary one at RCPT, and a
  # temporary and a permanent one after the data (chosen by the sender).
  printf '%s %s\n' "$TEMPFAIL_RCPT" '450 4.2.0 Mailbox busy, try again later (interop)' >"$conf/recipient_access"
  printf '%s %s\n' \
    "$TEMPFAIL_DATA_SENDER" '451 4.3.0 Temporary failure after the data (interop)' \
    "$REJECT_DATA_SENDER" '554 5.7.1 Refused after the data (interop)' >"$conf/sender_access"
  # Greylisting on demand: empty at first; a case writes its recipients into it
  # (`450 4.7.1 …`) and empties it again (helpers.ts setGreylist). A hash: map,
  # not texthash:, because smtpd notices a changed one before it accepts the
  # next connection ("table … has changed -- restarting"): no reload, no race.
  : >"$conf/greylist_access"

  cat >"$conf/main.cf" <<EOF
# A throwaway Postfix for outbox's interop suite. Written by test/interop/servers.sh.
compatibility_level = 3.6
queue_directory = $base/postfix/queue
data_directory = $base/postfix/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $base/postfix/maillog
maillog_file_prefixes = $base/postfix
myhostname = postfix.interop.test
mydomain = interop.test
myorigin = \$myhostname
smtpd_banner = \$myhostname ESMTP Postfix (outbox interop)

# Loopback only; nothing ever leaves the machine.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
relay_domains =
default_transport = error:no outside delivery in tests
relay_transport = error:no outside delivery in tests
mydestination =
local_recipient_maps =
local_transport = error:no local delivery in tests
alias_maps =
alias_database =
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
# Headers arrive as the client sent them: no added Date/Message-ID/From, no rewriting.
local_header_rewrite_clients =

# Mail for the test domain goes to Maildirs the tests read; unknown users get 550 at RCPT.
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_base = $base/mail
virtual_mailbox_maps = texthash:$conf/vmailbox
virtual_uid_maps = static:$MAIL_UID
virtual_gid_maps = static:$MAIL_GID
smtpd_reject_unlisted_recipient = yes
recipient_delimiter = +
smtpd_recipient_restrictions = check_recipient_access texthash:$conf/recipient_access, check_recipient_access hash:$conf/greylist_access
smtpd_end_of_data_restrictions = check_sender_access texthash:$conf/sender_access

message_size_limit = $SIZE_LIMIT
smtputf8_enable = yes
smtpd_etrn_restrictions = permit_mynetworks, reject
fast_flush_domains = $FLUSH_DOMAIN
# DSN, CHUNKING and PIPELINING are on by default (smtpd_discard_ehlo_keywords is empty).

# TLS for the submission (STARTTLS) and smtps (implicit TLS) listeners; the plain one offers none.
smtpd_tls_chain_files = $base/tls/server.key, $base/tls/server.pem
smtpd_tls_security_level = none
smtpd_tls_loglevel = 1

# SASL through the throwaway Dovecot's auth service, switched on per listener.
smtpd_sasl_type = dovecot
smtpd_sasl_path = $base/dovecot/run/auth-postfix
smtpd_sasl_auth_enable = no
EOF
  postmap -c "$conf" "hash:$conf/greylist_access"

  cat >"$conf/master.cf" <<EOF
# service type  private unpriv chroot wakeup maxproc command
127.0.0.1:$smtp inet n - n - - smtpd
127.0.0.1:$submission inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:$smtps inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:$sevenbit inet n - n - - smtpd
  -o syslog_name=postfix/sevenbit
  -o smtpd_discard_ehlo_keywords=8bitmime
  -o content_filter=lmtp:inet:127.0.0.1:$lmtp
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
}

write_dovecot_config() {
  local base=$1 lmtp=$2
  local dir=$base/dovecot
  mkdir -p "$dir/run" "$dir/state" "$base/lmtp-mail"
  chown "$MAIL_UID:$MAIL_GID" "$base/lmtp-mail"
  : >"$dir/users"
  for user in "${USERS[@]}" "$EIGHTBIT_USER"; do
    local extra=
    # A quota smaller than any mail: Dovecot accepts the RCPT and refuses the data.
    [ "$user" = full ] && extra='userdb_quota_rule=*:storage=1B'
    printf '%s@%s:{PLAIN}%s:%s:%s::%s/lmtp-mail/%s::%s\n' \
      "$user" "$DOMAIN" "$PASSWORD" "$MAIL_UID" "$MAIL_GID" "$base" "$user" "$extra" >>"$dir/users"
  done
  chmod 644 "$dir/users"

  cat >"$dir/dovecot.conf" <<EOF
# A throwaway Dovecot for outbox's interop suite. Written by test/interop/servers.sh.
base_dir = $dir/run
state_dir = $dir/state
instance_name = outbox-interop-${base##*.}
hostname = lmtp.interop.test
protocols = lmtp
listen = 127.0.0.1
log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256
mail_location = maildir:$base/lmtp-mail/%n
first_valid_uid = 1
mail_plugins = quota
lmtp_rcpt_check_quota = no

passdb {
  driver = passwd-file
  args = $dir/users
}
userdb {
  driver = passwd-file
  args = $dir/users
}
plugin {
  quota = count:User quota
  quota_rule = *:storage=100M
  quota_vsizes = yes
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
# Failed logins are answered at once and never slow down later ones from
# 127.0.0.1 (Dovecot's defaults: a 2 s delay, then a penalty doubling up to 15 s).
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
}

# Dante as a SOCKS5 proxy on loopback: no authentication, and only to loopback targets.
write_dante_config() {
  local base=$1 port=$2
  mkdir -p "$base/dante"
  cat >"$base/dante/danted.conf" <<DANTE
logoutput: $base/dante/danted.log
internal: 127.0.0.1 port = $port
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
}
socks pass {
  from: 127.0.0.0/8 to: 127.0.0.0/8
  log: connect
}
DANTE
}

write_setup() {
  local base=$1 smtp=$2 submission=$3 smtps=$4 lmtp=$5 socks=$6 sevenbit=$7
  SEVENBIT_PORT=$sevenbit EIGHTBIT_ADDRESS=$EIGHTBIT_USER@$DOMAIN TEMPFAIL_RCPT=$TEMPFAIL_RCPT TEMPFAIL_DATA_SENDER=$TEMPFAIL_DATA_SENDER REJECT_DATA_SENDER=$REJECT_DATA_SENDER \
    node -e '
    const [base, smtp, submission, smtps, lmtp, socks, domain, flush, password, sizeLimit, ...users] = process.argv.slice(1);
    const setup = {
      dir: base,
      host: "127.0.0.1",
      domain,
      password,
      users: Object.fromEntries(users.map((u) => [u, `${u}@${domain}`])),
      tls: { ca: `${base}/tls/ca.pem`, cert: `${base}/tls/server.pem`, key: `${base}/tls/server.key`, names: ["localhost", "127.0.0.1"] },
      postfix: {
        configDir: `${base}/postfix/conf`,
        queueDir: `${base}/postfix/queue`,
        maillog: `${base}/postfix/maillog`,
        mailboxes: `${base}/mail`,
        ports: { smtp: +smtp, submission: +submission, smtps: +smtps },
        sizeLimit: +sizeLimit,
        flushDomain: flush,
        // Refusals on demand: RCPT TO this address gets 450; mail from these senders gets 451 / 554 after the data.
        tempfailRecipient: process.env.TEMPFAIL_RCPT,
        tempfailAfterDataSender: process.env.TEMPFAIL_DATA_SENDER,
        rejectAfterDataSender: process.env.REJECT_DATA_SENDER,
        // A hash: access map checked at RCPT, empty at first (helpers.ts setGreylist rewrites it).
        greylistMap: `${base}/postfix/conf/greylist_access`,
      },
      // Issue 15: Postfix without 8BITMIME (smtpd_discard_ehlo_keywords), and the user whose mail
      // it passes to Dovecot over LMTP, stored in the Maildir <dovecot.mailboxes>/eightbit.
      sevenbit: { port: +process.env.SEVENBIT_PORT, recipient: process.env.EIGHTBIT_ADDRESS },
      dovecot: {
        config: `${base}/dovecot/dovecot.conf`,
        log: `${base}/dovecot/dovecot.log`,
        authSocket: `${base}/dovecot/run/auth-postfix`,
        mailboxes: `${base}/lmtp-mail`,
        ports: { lmtp: +lmtp },
        quotaUser: `full@${domain}`,
      },
      // Dante, a SOCKS5 proxy that resolves names itself (as Tor does).
      socks: { port: +socks, log: `${base}/dante/danted.log` },
      // Folders free for the cases: HOME for clients, and their scratch files.
      home: `${base}/home`,
      scratch: `${base}/scratch`,
    };
    require("node:fs").writeFileSync(`${base}/setup.json`, JSON.stringify(setup, null, 2) + "\n");
  ' "$base" "$smtp" "$submission" "$smtps" "$lmtp" "$socks" "$DOMAIN" "$FLUSH_DOMAIN" "$PASSWORD" "$SIZE_LIMIT" "${USERS[@]}"
}

start_all() {
  [ "$(id -u)" = 0 ] || die "needs root"
  local base
  base=$(mktemp -d "${TMPDIR:-/tmp}/outbox-interop.XXXXXX")
  # Postfix and Dovecot drop to their own users and to nobody for delivery: they must reach in.
  chmod 755 "$base"
  # From here on, a failure stops what was started and removes the directory.
  trap 'stop_all "$base" >&2; rm -rf "$base"; exit 1' ERR INT TERM
  mkdir -p "$base/home" "$base/scratch"
  local ports smtp submission smtps lmtp socks sevenbit
  ports=$(free_ports 6)
  read -r smtp submission smtps lmtp socks sevenbit <<<"$ports"
  make_certificates "$base/tls"
  write_postfix_config "$base" "$smtp" "$submission" "$smtps" "$sevenbit" "$lmtp"
  write_dovecot_config "$base" "$lmtp"
  write_dante_config "$base" "$socks"
  write_setup "$base" "$smtp" "$submission" "$smtps" "$lmtp" "$socks" "$sevenbit"

  # Dovecot first: Postfix's SASL listeners talk to its auth socket.
  dovecot -c "$base/dovecot/dovecot.conf" || { tail -n 20 "$base/dovecot/dovecot.log" >&2 2>/dev/null; false; }
  wait_for_port "$lmtp" 20 || { log "Dovecot LMTP did not listen on $lmtp within 20 s"; tail -n 20 "$base/dovecot/dovecot.log" >&2; false; }

  postfix -c "$base/postfix/conf" check >&2
  postfix -c "$base/postfix/conf" start >&2
  local port
  for port in "$smtp" "$submission" "$smtps" "$sevenbit"; do
    wait_for_port "$port" 20 || { log "Postfix did not listen on $port within 20 s"; tail -n 20 "$base/postfix/maillog" >&2; false; }
  done
  danted -f "$base/dante/danted.conf" -p "$base/dante/danted.pid" -D
  wait_for_port "$socks" 20 || { log "Dante did not listen on $socks within 20 s"; tail -n 20 "$base/dante/danted.log" >&2; false; }
  trap - ERR INT TERM
  log "Postfix on 127.0.0.1:$smtp (plain), :$submission (STARTTLS+AUTH), :$smtps (TLS+AUTH), :$sevenbit (no 8BITMIME); Dovecot LMTP on :$lmtp; Dante SOCKS5 on :$socks"
  echo "$base"
}

# Waits at most $2 seconds for process $1 to end; then kills it.
end_process() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "process $pid did not stop within $2 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
      return
    fi
    sleep 0.2
  done
}

# The processes in the session led by $1 (Postfix's and Dovecot's masters each lead one).
session_members() {
  ps -eo pid=,sid= | awk -v sid="$1" '$2 == sid { print $1 }'
}

# The PID in pid file $1, if that process is still the one we started (its command line has $2).
master_pid() {
  local pid
  pid=$({ tr -dc 0-9 <"$1"; } 2>/dev/null || true)
  [ -n "$pid" ] || return 0
  case "$(ps -o args= -p "$pid" 2>/dev/null || true)" in
    *"$2"*) echo "$pid" ;;
  esac
}

stop_all() {
  local base=$1 pid
  [ -f "$base/setup.json" ] || { log "no interop setup in $base"; return 0; }
  local postfix_pid dovecot_pid dante_pid
  postfix_pid=$(master_pid "$base/postfix/queue/pid/master.pid" '/postfix/sbin/master')
  dovecot_pid=$(master_pid "$base/dovecot/run/master.pid" "dovecot -c $base/dovecot/dovecot.conf")
  dante_pid=$(master_pid "$base/dante/danted.pid" "danted -f $base/dante/danted.conf")
  if [ -n "$dante_pid" ]; then
    kill -TERM "$dante_pid" 2>/dev/null || true
    end_process "$dante_pid" 15
  fi
  if [ -n "$postfix_pid" ]; then
    postfix -c "$base/postfix/conf" stop >/dev/null 2>&1 || kill -TERM "$postfix_pid" 2>/dev/null || true
    end_process "$postfix_pid" 15
  fi
  if [ -n "$dovecot_pid" ]; then
    kill -TERM "$dovecot_pid" 2>/dev/null || true
    end_process "$dovecot_pid" 15
  fi
  # A master's children normally leave with it; any that did not are ended by PID.
  for pid in $postfix_pid $dovecot_pid $dante_pid; do
    local member
    for member in $(session_members "$pid"); do
      log "ending leftover process $member: $(ps -o args= -p "$member" 2>/dev/null || true)"
      kill -KILL "$member" 2>/dev/null || true
    done
  done
}

case "${1:-}" in
  start) start_all ;;
  stop) [ -n "${2:-}" ] || die "usage: $0 stop DIR"; stop_all "$2" ;;
  *) die "usage: $0 start | stop DIR" ;;
esac
