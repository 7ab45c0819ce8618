#!/bin/bash
# postfix-sasl.sh - a real Postfix (Debian's) authenticates SMTP clients
# through Roost's auth socket, as `smtpd_sasl_type = dovecot` does on
# Dovecot hosts. Postfix runs from a temporary config directory and spool
# on 127.0.0.1:$PORT; swaks is the SMTP client. Needs root.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
roost=${ROOST:-$top/build/bin/roost}
port=${PORT:-2587}
tmp=$(mktemp -d /tmp/roost-postfix.XXXXXX)
pfdir=$tmp/postfix
fail=0
cleanup() {
	[ -n "${KEEP:-}" ] && return
	postfix -c "$pfdir" stop >/dev/null 2>&1
	[ -n "${auth_pid:-}" ] && kill "$auth_pid" 2>/dev/null && wait "$auth_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT

for cmd in postfix swaks postconf; do
	command -v $cmd >/dev/null || { echo "postfix-sasl: $cmd missing"; exit 1; }
done
chmod 755 "$tmp"
mkdir -p "$pfdir" "$tmp/spool" "$tmp/data" "$tmp/home"
chown postfix "$tmp/data"
printf 'alice:{PLAIN}secret:%d:%d::%s/home::\n' 1000 1000 "$tmp" > "$tmp/users"

cat > "$tmp/roost.conf" <<CONF
base_dir = $tmp/run
protocols =
ssl = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = $tmp/users
}
userdb {
  driver = passwd-file
  args = $tmp/users
}
service auth {
  unix_listener $tmp/sasl-auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
CONF
"$roost" auth -c "$tmp/roost.conf" 2>"$tmp/auth.log" &
auth_pid=$!
for _ in $(seq 100); do [ -S "$tmp/sasl-auth" ] && break; sleep 0.05; done
[ -S "$tmp/sasl-auth" ] || { echo "roost auth did not start"; cat "$tmp/auth.log"; exit 1; }

# A minimal Postfix: only smtpd on a loopback port, no local delivery.
cat > "$pfdir/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $tmp/spool
data_directory = $tmp/data
mail_owner = postfix
myhostname = roost-test.localdomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $tmp/sasl-auth
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
maillog_file_prefixes = /tmp
maillog_file = $tmp/maillog
CONF
cat > "$pfdir/master.cf" <<CONF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CONF
if ! postfix -c "$pfdir" start >"$tmp/postfix-start.log" 2>&1; then
	cat "$tmp/maillog" 2>/dev/null | tail -5
	echo "postfix did not start:"; cat "$tmp/postfix-start.log"; exit 1
fi
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
	sleep 0.1
done

check() {	# check NAME EXPECTED_CODE swaks-args...
	local name=$1 want=$2; shift 2
	local out
	out=$(swaks --server 127.0.0.1 --port "$port" --quit-after AUTH \
		--from test@example.com --to alice@example.com "$@" 2>&1)
	if grep -qE "^<[-~*]+ +$want " <<<"$out"; then
		echo "ok   $name"
	else
		echo "FAIL $name (wanted $want)"; echo "$out" | tail -5
		fail=1
	fi
}
check "PLAIN good password" 235 --auth PLAIN --auth-user alice --auth-password secret
check "LOGIN good password" 235 --auth LOGIN --auth-user alice --auth-password secret
check "PLAIN bad password" 535 --auth PLAIN --auth-user alice --auth-password wrong
check "unknown user" 535 --auth PLAIN --auth-user nobody --auth-password x
if grep -q 'EHLO' /dev/null; then :; fi
ehlo=$(swaks --server 127.0.0.1 --port "$port" --quit-after EHLO 2>&1)
if grep -q '250-AUTH PLAIN LOGIN' <<<"$ehlo"; then
	echo "ok   Postfix offers the mechanisms Roost announced"
else
	echo "FAIL EHLO AUTH line"; echo "$ehlo" | grep AUTH; fail=1
fi
if grep -q secret "$tmp/auth.log"; then
	echo "FAIL a password reached the auth log"; fail=1
fi
[ $fail = 0 ] && echo "postfix-sasl: all passed" || echo "postfix-sasl: FAILED"
exit $fail
