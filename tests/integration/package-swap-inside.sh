#!/bin/sh
# Run by package-swap.sh inside the throwaway root (chroot, own network
# namespace). Prints "swap: ..." lines; exit 0 = every check passed.
set -eu
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail=0
ok() { echo "swap: ok: $*"; }
bad() { echo "swap: FAIL: $*"; fail=1; }
# no service may be started by a maintainer script here
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
# speed: no man-db index rebuild, no fsync (the root is thrown away)
rm -f /var/lib/man-db/auto-update
echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/roost-test-unsafe-io

# a system user with a password and mail in the spool (mbox INBOX, the
# stock mail_location)
useradd -m -s /bin/sh swapuser
echo 'swapuser:Swap-pw-1' | chpasswd
for i in 1 2 3; do
	printf 'From s@example.org Thu Nov 26 10:0%s:00 2026\nFrom: s@example.org\nSubject: message %s\nMessage-ID: <%s@swap>\n\nbody %s\n\n' \
		"$i" "$i" "$i" "$i"
done > /var/mail/swapuser
chown swapuser:mail /var/mail/swapuser
chmod 660 /var/mail/swapuser
# the stock tree's certificate (absent on this machine): an existing one
# must be kept by the roost postinst
if [ ! -e /etc/dovecot/private/dovecot.pem ]; then
	mkdir -p /etc/dovecot/private
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=swap \
		-keyout /etc/dovecot/private/dovecot.key \
		-out /etc/dovecot/private/dovecot.pem >/dev/null 2>&1
fi

serve() { # serve NAME: start /usr/sbin/dovecot -F, wait for 143 and 110
	/usr/sbin/dovecot -F > "/tmp/$1.log" 2>&1 &
	echo $! > "/tmp/$1.pid"
	python3 /tmp/client.py wait || { cat "/tmp/$1.log"; return 1; }
}

# 1. Dovecot serves once; the client sets a flag and records the state
serve dovecot
python3 /tmp/client.py record /tmp/dovecot.state
doveadm stop
wait "$(cat /tmp/dovecot.pid)" 2>/dev/null || true
ok "Dovecot served: $(tr '\n' ' ' < /tmp/dovecot.state)"
find /etc/dovecot -type f -exec md5sum {} + | sort > /tmp/etc.before

# 2. the swap
start=$(date +%s)
if apt-get install -y /tmp/roost.deb > /tmp/apt-roost.log 2>&1; then
	ok "apt-get install ./roost.deb ($(( $(date +%s) - start )) s)"
else
	tail -20 /tmp/apt-roost.log
	bad "apt-get install ./roost.deb"
	exit 1
fi
for p in dovecot-core dovecot-imapd dovecot-pop3d; do
	s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || echo gone)
	case "$s" in
	rc*|gone) ok "$p removed ($s)" ;;
	*) bad "$p still installed ($s)" ;;
	esac
done
[ "$(readlink /usr/sbin/dovecot)" = roost ] && ok "/usr/sbin/dovecot -> roost" ||
	bad "/usr/sbin/dovecot is $(ls -l /usr/sbin/dovecot)"
find /etc/dovecot -type f -exec md5sum {} + | sort > /tmp/etc.after
if cmp -s /tmp/etc.before /tmp/etc.after; then
	ok "/etc/dovecot untouched"
else
	diff /tmp/etc.before /tmp/etc.after
	bad "/etc/dovecot changed"
fi
[ ! -e /usr/share/roost/dovecot/dovecot.conf ] &&
	bad "template tree missing" || ok "template tree in /usr/share/roost"
getent passwd dovenull >/dev/null && ok "user dovenull" || bad "no dovenull"

# 3. Roost serves the same user the same mail
serve roost
python3 /tmp/client.py write /tmp/dovecot.state && ok "Roost: same login, UIDVALIDITY, UIDs, flags, UIDLs; \\Seen set" ||
	bad "Roost differs from Dovecot"
if grep -q 'Error:' /tmp/roost.log; then
	grep 'Error:' /tmp/roost.log
	bad "Roost logged errors"
fi
grep -q "starting up for imap, pop3" /tmp/roost.log && ok "Roost log: starting up for imap, pop3" ||
	bad "Roost start line: $(head -3 /tmp/roost.log)"
if doveadm reload && sleep 2 && python3 /tmp/client.py wait &&
	python3 /tmp/client.py compare /tmp/dovecot.state; then
	ok "doveadm reload"
else
	cat /tmp/roost.log
	bad "doveadm reload"
fi
doveadm stop && ok "doveadm stop" || bad "doveadm stop"
wait "$(cat /tmp/roost.pid)" 2>/dev/null || true

[ -n "${SWAP_QUICK:-}" ] && exit $fail
# 4. and back: Dovecot from apt's cache
start=$(date +%s)
if apt-get install -y --no-download dovecot-core dovecot-imapd dovecot-pop3d \
	> /tmp/apt-dovecot.log 2>&1; then
	ok "reverse swap: apt-get install dovecot-* ($(( $(date +%s) - start )) s)"
else
	tail -20 /tmp/apt-dovecot.log
	bad "reverse swap"
	exit 1
fi
dpkg-query -W -f='${db:Status-Abbrev}' roost 2>/dev/null | grep -q '^[ri]i' &&
	bad "roost still installed" || ok "roost removed"
/usr/sbin/dovecot --version | grep -q '^2\.3\.' && ok "Dovecot back" ||
	bad "/usr/sbin/dovecot is not Dovecot"
serve dovecot2
python3 /tmp/client.py compare /tmp/dovecot.state && ok "Dovecot again: same state, with Roost's \\Seen" ||
	bad "Dovecot sees different state after Roost"
doveadm stop || true
exit $fail
