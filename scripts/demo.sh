#!/bin/sh
# demo.sh BIN_DIR - run Roost in the foreground on unprivileged ports with
# an embedded config, a demo user and a welcome message, in a private run
# folder (ROOST_DEMO_DIR, default ./demo-run). Works as root (the mail
# user is then "nobody") and as an ordinary user (mail runs as you).
set -eu

bin=$(cd "$1" && pwd)
dir=${ROOST_DEMO_DIR:-$(pwd)/demo-run}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -rf "$dir/run" "$dir/home"
mkdir -p "$dir/run" "$dir/home/demo"
chmod 755 "$dir" "$dir/home"

if [ "$(id -u)" = 0 ]; then
	uid=$(id -u nobody) gid=$(id -g nobody)
	login_user=dovenull
	id dovenull >/dev/null 2>&1 || login_user=nobody
	internal_user=root
else
	uid=$(id -u) gid=$(id -g)
	login_user=$(id -un)
	internal_user=$(id -un)
fi

pass=$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
hash=$("$bin/doveadm" pw -s SHA512-CRYPT -p "$pass")
printf 'demo:%s:%s:%s::%s/home/demo::\n' "$hash" "$uid" "$gid" "$dir" \
	> "$dir/passwd"
chmod 644 "$dir/passwd"

# a self-signed certificate, made on the spot
if [ ! -f "$dir/cert.pem" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
		-subj "/CN=localhost" -keyout "$dir/key.pem" \
		-out "$dir/cert.pem" >/dev/null 2>&1
fi
chmod 644 "$dir/cert.pem"

cat > "$dir/dovecot.conf" <<EOF
# Roost demo configuration (scripts/demo.sh). Dovecot 2.3 syntax.
protocols = imap pop3
listen = 127.0.0.1, ::1
base_dir = $dir/run
state_dir = $dir/run/state
log_path = /dev/stderr
mail_location = maildir:~/Maildir
first_valid_uid = 1
default_login_user = $login_user
default_internal_user = $internal_user
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT $dir/passwd
}
userdb {
  driver = passwd-file
  args = $dir/passwd
}
service imap-login {
  inet_listener imap {
    port = 10143
  }
  inet_listener imaps {
    port = 10993
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 10110
  }
  inet_listener pop3s {
    port = 10995
  }
}
EOF

printf 'From: Roost <postmaster@localhost>\nTo: demo@localhost\nSubject: Welcome to Roost\nDate: %s\n\nThis message was delivered by dovecot-lda (Roost).\nRETR it, DELE it, QUIT: the demo mailbox is under\n%s/home/demo/Maildir\n' \
	"$(LC_ALL=C date -R)" "$dir" > "$dir/welcome.eml"
if [ "$(id -u)" = 0 ]; then
	chown -R "$uid:$gid" "$dir/home/demo"
fi
"$bin/dovecot-lda" -c "$dir/dovecot.conf" -d demo < "$dir/welcome.eml"

cat <<EOF

Roost demo on 127.0.0.1 and ::1:
  IMAP on port 10143 (STARTTLS) and IMAPS on 10993,
  POP3 on port 10110 (STLS) and POP3S on 10995
  user: demo   password: $pass

  openssl s_client -connect 127.0.0.1:10993 -quiet      (then: a LOGIN demo $pass)
  openssl s_client -connect 127.0.0.1:10143 -starttls imap -quiet
  curl -k imaps://demo:$pass@localhost:10993/INBOX -X 'CAPABILITY'

  curl -k pop3s://demo:$pass@localhost:10995/1
  curl -k --ssl-reqd pop3://demo:$pass@localhost:10110/
  openssl s_client -connect localhost:10995 -quiet
  python3 -c 'import poplib; p=poplib.POP3("localhost",10110); p.user("demo"); p.pass_("$pass"); print(p.stat(), p.retr(1)[1]); p.quit()'

Config: $dir/dovecot.conf   (doveconf -c $dir/dovecot.conf -n)
Mail:   $dir/home/demo/Maildir
Stop with Ctrl-C.

EOF
exec "$bin/dovecot" -F -c "$dir/dovecot.conf"
