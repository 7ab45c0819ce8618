#!/bin/sh
# deps.sh - install the Debian packages Roost's build and tests need.
# Quiet and idempotent: does nothing when everything is present.
# Installing Dovecot (the test oracle) must not start its system service,
# so a policy-rc.d that denies service starts is in place during the install.
set -eu

PKGS="gcc make pkg-config libc6-dev libssl-dev libyaml-dev libsystemd-dev zlib1g-dev libbz2-dev liblz4-dev libzstd-dev liblzma-dev
libpam0g-dev libcrypt-dev libargon2-dev check python3 clang libclang-rt-14-dev llvm openssl
dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-submissiond
libpam-wrapper libnss-wrapper postfix swaks fail2ban
dpkg-dev debhelper fakeroot lintian mandoc
isync curl getmail6 interimap fetchmail"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo "$0" "$@"
	fi
	echo "deps: missing packages:$missing (run as root)" >&2
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	own_policy=1
fi
cleanup() { [ "$own_policy" = 1 ] && rm -f "$policy"; }
trap cleanup EXIT

apt_install() {
	apt-get install -y -qq -o Dpkg::Options::=--force-confdef \
		-o Dpkg::Options::=--force-confold --no-install-recommends \
		$missing </dev/null >/tmp/roost-deps.log 2>&1
}
if ! apt_install; then
	apt-get update -qq </dev/null >/dev/null 2>&1 || true
	if ! apt_install; then
		cat /tmp/roost-deps.log >&2
		exit 1
	fi
fi
# The oracle must never run as the system service during our tests.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemctl stop dovecot.service dovecot.socket >/dev/null 2>&1 || true
	systemctl disable dovecot.service dovecot.socket >/dev/null 2>&1 || true
fi
exit 0
