#!/bin/sh
# package-swap.sh - the swap, end to end, in a throwaway root: an
# overlay of this machine's / (changes go to a tmpfs, never to the real
# root) in new mount and network namespaces, entered with chroot. There
# Debian's Dovecot (installed on this machine as the test oracle) serves
# a system user once over IMAP and POP3 (UIDVALIDITY, UIDs, flags,
# UIDLs recorded), then `apt-get install ./roost_*.deb` swaps it out
# (dovecot-* removed by the Conflicts, /etc/dovecot untouched), Roost
# started as /usr/sbin/dovecot -F (no systemd in the chroot) must let the
# same user in with the same password through PAM and show the same
# UIDVALIDITY, UIDs, flags and UIDLs; `doveadm reload` and `doveadm stop`
# (the unit's ExecReload/ExecStop) work; then the reverse swap installs
# Dovecot back from apt's cache and it serves the same data again.
# Usage: package-swap.sh ROOST_DEB. Exit 77 = skipped (not root, no
# unshare/overlayfs, Dovecot not installed or its .debs not in the cache).
set -eu
DEB=${1:?usage: package-swap.sh ROOST_DEB}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	echo "swap: SKIP (needs root and unshare)"
	exit 77
fi
for p in dovecot-core dovecot-imapd dovecot-pop3d; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	   ! ls /var/cache/apt/archives/${p}_*.deb >/dev/null 2>&1; then
		echo "swap: SKIP ($p not installed, or its .deb not in apt's cache)"
		exit 77
	fi
done
if [ "${ROOST_SWAP_INSIDE:-}" != 1 ]; then
	ROOST_SWAP_INSIDE=1 exec unshare --mount --net --fork -- "$0" "$@"
fi

O=$(mktemp -d /tmp/roost-swap.XXXXXX)
mount -t tmpfs tmpfs "$O"
mkdir "$O/upper" "$O/work" "$O/root"
if ! mount -t overlay overlay \
	-o "lowerdir=/,upperdir=$O/upper,workdir=$O/work" "$O/root"; then
	echo "swap: SKIP (overlayfs not available)"
	exit 77
fi
R=$O/root
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
ip link set lo up
cp "$DEB" "$R/tmp/roost.deb"
cp "$HERE/package-swap-client.py" "$R/tmp/client.py"
cp "$HERE/package-swap-inside.sh" "$R/tmp/inside.sh"
rc=0
chroot "$R" /usr/bin/env SWAP_QUICK="${SWAP_QUICK:-}" /bin/sh /tmp/inside.sh ||
	rc=$?
umount -l "$O" 2>/dev/null || true
rm -rf "$O"
exit $rc
