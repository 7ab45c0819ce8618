#!/bin/bash
# test_package.sh - what the roost package and its parts promise
# (packaging/README.md), in five parts:
#   units    systemd-analyze verify of packaging/systemd (Documentation=
#            man pages resolved against man/)
#   man      every page mandoc -Tlint and groff -ww clean, .so targets
#            present, every doveadm command and every Roost page a page
#            names exists
#   deb      `make deb`, then the .deb's file list, links, conffiles and
#            Provides/Conflicts/Replaces, and lintian: every tag it
#            reports must be justified in packaging/README.md
#   scripts  the package's postinst/postrm run against fake roots
#            ($DPKG_ROOT) with adduser, systemctl & co. stubbed: default
#            tree only without dovecot.conf, an admin's tree untouched,
#            certificate made (or snakeoil linked), purge keeps edits
#   swap     package-swap.sh: Dovecot -> apt install ./roost.deb ->
#            Dovecot in a throwaway overlay root (same logins, UIDs,
#            flags, UIDLs both ways)
# Usage: test_package.sh BUILD_BIN_DIR [part...]. The deb and scripts
# parts skip, saying why, when dpkg-buildpackage/debhelper are missing.
# Nothing is installed on this machine; every file is in a temp dir.
set -u
BIN=${1:?usage: test_package.sh BUILD_BIN_DIR [part...]}
shift
PARTS=${*:-units man deb scripts swap}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/roost-package.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION command...
	d=$1
	shift
	if "$@"; then ok; else bad "$d"; fi
}

part_units() {
	mkdir -p "$T/man/man1" "$T/man/man5" "$T/man/man7" "$T/man/man8"
	cp "$SRC"/man/*.1 "$T/man/man1/"
	cp "$SRC"/man/*.5 "$T/man/man5/"
	cp "$SRC"/man/*.7 "$T/man/man7/"
	cp "$SRC"/man/*.8 "$T/man/man8/"
	if ! command -v systemd-analyze >/dev/null; then
		echo "units: SKIP (no systemd-analyze)"
		return
	fi
	out=$(cd "$SRC/packaging/systemd" && MANPATH="$T/man" \
		systemd-analyze verify ./*.service ./*.socket 2>&1)
	check "systemd-analyze verify: $out" [ -z "$out" ]
	s="$SRC/packaging/systemd/dovecot.service"
	for line in Type=notify "ExecStart=/usr/sbin/dovecot -F" \
		"ExecReload=/usr/bin/doveadm reload" Alias=roost.service; do
		check "dovecot.service lacks $line" grep -qxF "$line" "$s"
	done
	check "dovecot.service must not set NoNewPrivileges (PAM helpers)" \
		sh -c "! grep -q '^NoNewPrivileges=yes' '$s'"
	for pair in dovecot:imap:143 dovecot-imaps:imaps:993 \
		dovecot-pop3:pop3:110 dovecot-pop3s:pop3s:995 \
		dovecot-submission:submission:587 \
		dovecot-submissions:submissions:465; do
		IFS=: read -r unit name port <<<"$pair"
		f="$SRC/packaging/systemd/$unit.socket"
		check "$unit.socket name" grep -qxF "FileDescriptorName=$name" "$f"
		check "$unit.socket port" grep -qxF "ListenStream=$port" "$f"
		check "$unit.socket service" \
			grep -qxF "Service=dovecot.service" "$f"
	done
}

part_man() {
	if ! command -v mandoc >/dev/null; then
		bad "mandoc missing (apt-get install mandoc: scripts/deps.sh)"
		return
	fi
	for page in "$SRC"/man/*.[1-8]; do
		name=$(basename "$page")
		if head -n1 "$page" | grep -q '^\.so '; then
			target=$(head -n1 "$page" | sed 's/^\.so man[0-9]\///')
			check "$name: .so target $target missing" \
				[ -f "$SRC/man/$target" ]
			continue
		fi
		out=$(mandoc -Tlint -W warning "$page" 2>&1)
		check "mandoc -Tlint $name: $out" [ -z "$out" ]
		out=$(groff -man -Tutf8 -ww "$page" 2>&1 >/dev/null)
		check "groff -ww $name: $out" [ -z "$out" ]
		# every Roost page a page refers to exists
		for ref in $(grep -o '^\.BR \(dove[a-z.-]*\|roost\|deliver\)\\\?-\?[a-z.\\-]* ([0-9])' "$page" |
			sed 's/^\.BR //; s/\\-/-/g; s/ (\([0-9]\))$/.\1/'); do
			check "$name refers to missing $ref" [ -f "$SRC/man/$ref" ]
		done
	done
	for p in dovecot.1 doveconf.1 doveadm.1 dovecot-lda.1 deliver.1 \
		dovecot.conf.5 roost.7 roost.8; do
		check "man/$p missing" [ -f "$SRC/man/$p" ]
	done
	# every command doveadm lists has its page (doveadm help CMD)
	for cmd in $("$BIN/doveadm" 2>&1 | awk 'NR > 2 { print $1 }'); do
		check "man/doveadm-$cmd.1 missing (doveadm help $cmd)" \
			[ -f "$SRC/man/doveadm-$cmd.1" ]
	done
}

DEB=""
part_deb() {
	if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
		(cd "$SRC" && ./scripts/deps.sh) >/dev/null 2>&1 || true
	fi
	if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
		echo "deb: SKIP (dpkg-buildpackage/debhelper not installable here)"
		return
	fi
	start=$(date +%s)
	if ! make -C "$SRC" deb >"$T/make-deb.log" 2>&1; then
		tail -30 "$T/make-deb.log" >&2
		bad "make deb failed"
		return
	fi
	echo "deb: make deb took $(( $(date +%s) - start )) s"
	DEB=$(ls "$SRC"/build/deb/roost_*.deb)
	dpkg-deb -c "$DEB" | awk '{ print substr($1, 1, 1), $6, $8 }' \
		> "$T/contents"
	has() { grep -qxF -e "$1" "$T/contents"; }
	check "/usr/sbin/roost is not the one real binary" has "- ./usr/sbin/roost "
	for l in "./usr/sbin/dovecot roost" "./usr/bin/doveadm ../sbin/roost" \
		"./usr/bin/doveconf ../sbin/roost" \
		"./usr/lib/dovecot/dovecot-lda ../../sbin/roost" \
		"./usr/lib/dovecot/deliver dovecot-lda" \
		"./usr/lib/dovecot/checkpassword-reply ../../sbin/roost"; do
		check "link $l" has "l $l"
	done
	for f in ./lib/systemd/system/dovecot.service \
		./lib/systemd/system/dovecot.socket \
		./lib/systemd/system/dovecot-imaps.socket \
		./lib/systemd/system/dovecot-pop3.socket \
		./lib/systemd/system/dovecot-pop3s.socket \
		./lib/systemd/system/dovecot-submission.socket \
		./lib/systemd/system/dovecot-submissions.socket \
		./etc/pam.d/dovecot ./usr/lib/sysusers.d/roost.conf \
		./usr/lib/tmpfiles.d/roost.conf ./usr/share/dovecot/dh.pem \
		./usr/share/roost/dovecot/dovecot.conf \
		./usr/share/roost/dovecot/conf.d/10-auth.conf \
		./usr/share/roost/dovecot/conf.d/auth-system.conf.ext \
		./usr/share/roost/dovecot/conf.d/10-ssl.conf \
		./usr/share/man/man1/dovecot.1.gz ./usr/share/man/man1/doveconf.1.gz \
		./usr/share/man/man1/doveadm.1.gz \
		./usr/share/man/man1/dovecot-lda.1.gz \
		./usr/share/man/man5/dovecot.conf.5.gz \
		./usr/share/man/man7/roost.7.gz ./usr/share/man/man8/roost.8.gz; do
		check "file $f" has "- $f "
	done
	check "nothing may be shipped under /etc/dovecot" \
		sh -c "! grep -q '\./etc/dovecot' '$T/contents'"
	# the Dovecot paths are where Debian's dovecot-core has them
	if dpkg -L dovecot-core >/dev/null 2>&1; then
		for p in /usr/sbin/dovecot /usr/bin/doveadm /usr/bin/doveconf \
			/usr/lib/dovecot/dovecot-lda /usr/lib/dovecot/deliver \
			/usr/lib/dovecot/checkpassword-reply /etc/pam.d/dovecot \
			/lib/systemd/system/dovecot.service \
			/lib/systemd/system/dovecot.socket; do
			check "$p is not where dovecot-core has it" \
				sh -c "dpkg -L dovecot-core | grep -qxF '$p'"
		done
	fi
	mkdir -p "$T/ctl"
	dpkg-deb -e "$DEB" "$T/ctl"
	check "conffiles must be /etc/pam.d/dovecot only" \
		[ "$(cat "$T/ctl/conffiles")" = "/etc/pam.d/dovecot" ]
	for field in Provides Conflicts Replaces; do
		v=$(dpkg-deb -f "$DEB" "$field")
		for p in dovecot-core dovecot-imapd dovecot-pop3d \
			dovecot-submissiond dovecot-lmtpd; do
			check "$field lacks $p ($v)" \
				sh -c "echo '$v' | tr -d ' ' | tr , '\n' | grep -qxF '$p'"
		done
	done
	if command -v lintian >/dev/null; then
		lintian --pedantic -I "$DEB" 2>/dev/null |
			sed -n 's/^[EWIPX]: roost[^:]*: \([a-z0-9.+-]*\).*/\1/p' |
			sort -u > "$T/tags"
		while read -r tag; do
			check "lintian tag $tag not justified in packaging/README.md" \
				grep -qF "\`$tag\`" "$SRC/packaging/README.md"
		done < "$T/tags"
		echo "deb: lintian tags: $(tr '\n' ' ' < "$T/tags")"
	else
		bad "lintian missing (scripts/deps.sh installs it)"
	fi
}

# A fake root for the maintainer scripts: the package's files unpacked,
# the stubs first in PATH.
make_root() {
	r=$1
	mkdir -p "$r"
	dpkg-deb -x "$DEB" "$r"
	mkdir -p "$r/etc/ssl/certs" "$r/etc/ssl/private"
}
run_script() { # run_script ROOT SCRIPT ARGS...
	r=$1
	s=$2
	shift 2
	DPKG_ROOT="$r" PATH="$T/stubs:$BIN:/usr/bin:/bin:/usr/sbin:/sbin" \
		sh -e "$T/ctl/$s" "$@" >>"$T/scripts.log" 2>&1
}
tree_sums() { (cd "$1" && find . -type f -o -type l | sort |
	while read -r f; do
		if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
		else echo "$f $(md5sum < "$f")"; fi
	done); }

part_scripts() {
	if [ -z "$DEB" ]; then
		echo "scripts: SKIP (no .deb was built)"
		return
	fi
	mkdir -p "$T/stubs"
	for s in adduser deb-systemd-helper deb-systemd-invoke systemctl \
		systemd-tmpfiles systemd-sysusers invoke-rc.d update-rc.d \
		dpkg-statoverride ucf ucfr; do
		printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\nexit 0\n' \
			"$s" "$T" > "$T/stubs/$s"
		chmod 755 "$T/stubs/$s"
	done
	# users missing in the fake root's view
	printf '#!/bin/sh\nexit 2\n' > "$T/stubs/getent"
	chmod 755 "$T/stubs/getent"

	# 1. a fresh root: the default tree, protocols.d, a certificate
	r="$T/fresh"
	make_root "$r"
	check "postinst configure (fresh)" run_script "$r" postinst configure ""
	for f in dovecot.conf conf.d/10-auth.conf conf.d/10-mail.conf \
		conf.d/10-ssl.conf conf.d/auth-system.conf.ext; do
		check "fresh: /etc/dovecot/$f not installed" \
			cmp -s "$r/etc/dovecot/$f" "$r/usr/share/roost/dovecot/$f"
	done
	check "fresh: protocols.d" grep -qx 'protocols = $protocols imap' \
		"$r/usr/share/dovecot/protocols.d/imapd.protocol"
	check "fresh: pop3d.protocol" grep -qx 'protocols = $protocols pop3' \
		"$r/usr/share/dovecot/protocols.d/pop3d.protocol"
	check "fresh: certificate" openssl x509 -noout \
		-in "$r/etc/dovecot/private/dovecot.pem"
	check "fresh: key matches" sh -c "[ \"\$(openssl x509 -noout -pubkey \
		-in '$r/etc/dovecot/private/dovecot.pem')\" = \"\$(openssl pkey \
		-pubout -in '$r/etc/dovecot/private/dovecot.key')\" ]"
	check "fresh: key mode 600" [ "$(stat -c %a \
		"$r/etc/dovecot/private/dovecot.key")" = 600 ]
	check "fresh: private mode 700" [ "$(stat -c %a \
		"$r/etc/dovecot/private")" = 700 ]
	check "fresh: users created" grep -q \
		"adduser --system --group --home /usr/lib/dovecot .*dovecot$" \
		"$T/calls"
	check "fresh: dovenull created" grep -q "adduser .*dovenull$" "$T/calls"
	check "fresh: no service started with DPKG_ROOT set" \
		sh -c "! grep -q '^deb-systemd-invoke' '$T/calls'"
	# the installed tree reads back as Debian's stock tree does
	out=$("$BIN/doveconf" -c "$r/etc/dovecot/dovecot.conf" -n 2>&1 |
		grep -v '^#')
	check "fresh tree: doveconf -n: $out" sh -c "echo '$out' |
		grep -qx '  driver = pam'"
	# a rerun (upgrade) changes nothing
	before=$(tree_sums "$r/etc/dovecot")
	check "postinst configure (upgrade)" run_script "$r" postinst \
		configure 0.1.0
	check "upgrade: /etc/dovecot changed" \
		[ "$before" = "$(tree_sums "$r/etc/dovecot")" ]

	# 2. an admin's tree: nothing touched, nothing added
	r="$T/admin"
	make_root "$r"
	mkdir -p "$r/etc/dovecot/conf.d" "$r/etc/dovecot/private"
	printf 'protocols = imap\nssl = no\n!include conf.d/*.conf\n' \
		> "$r/etc/dovecot/dovecot.conf"
	printf '# edited\nauth_mechanisms = plain login\n' \
		> "$r/etc/dovecot/conf.d/10-auth.conf"
	before=$(tree_sums "$r/etc/dovecot")
	check "postinst configure (admin tree)" run_script "$r" postinst \
		configure ""
	check "admin tree was changed" \
		[ "$before" = "$(tree_sums "$r/etc/dovecot")" ]

	# 3. Debian's stock tree kept after dovecot-core left, its cert
	#    missing, snakeoil present: linked as Debian's postinst does
	r="$T/stock"
	make_root "$r"
	cp -R "$r/usr/share/roost/dovecot" "$r/etc/dovecot"
	echo "# the admin's own comment" >> "$r/etc/dovecot/conf.d/10-mail.conf"
	echo cert > "$r/etc/ssl/certs/ssl-cert-snakeoil.pem"
	echo key > "$r/etc/ssl/private/ssl-cert-snakeoil.key"
	before=$(tree_sums "$r/etc/dovecot")
	check "postinst configure (stock tree)" run_script "$r" postinst \
		configure ""
	# the configured /etc/dovecot/private/dovecot.pem, under the root
	check "stock: cert not linked to snakeoil" [ "$(readlink \
		"$r/etc/dovecot/private/dovecot.pem")" = \
		/etc/ssl/certs/ssl-cert-snakeoil.pem ]
	check "stock: key not linked to snakeoil" [ "$(readlink \
		"$r/etc/dovecot/private/dovecot.key")" = \
		/etc/ssl/private/ssl-cert-snakeoil.key ]
	check "stock: only private/ may change" [ "$before" = \
		"$(tree_sums "$r/etc/dovecot" | grep -v '^\./private/')" ]

	# 4. remove and purge: protocols.d gone; purge removes the default
	#    files still as installed, keeps an edited one, and the state
	r="$T/fresh"
	echo "# mine" >> "$r/etc/dovecot/conf.d/10-logging.conf"
	check "postrm remove" run_script "$r" postrm remove
	check "remove: protocols.d entries left" \
		[ ! -e "$r/usr/share/dovecot/protocols.d/imapd.protocol" ]
	check "remove: config must stay" [ -f "$r/etc/dovecot/dovecot.conf" ]
	check "postrm purge" run_script "$r" postrm purge
	check "purge: unchanged dovecot.conf left" \
		[ ! -e "$r/etc/dovecot/dovecot.conf" ]
	check "purge: edited 10-logging.conf removed" \
		[ -f "$r/etc/dovecot/conf.d/10-logging.conf" ]
	check "purge: /var/lib/roost left" [ ! -e "$r/var/lib/roost" ]
	if [ "$fail" -gt 0 ]; then
		cat "$T/scripts.log" >&2
	fi
}

part_swap() {
	if [ -z "$DEB" ]; then
		echo "swap: SKIP (no .deb was built)"
		return
	fi
	start=$(date +%s)
	"$SRC/tests/integration/package-swap.sh" "$DEB" > "$T/swap.log" 2>&1
	rc=$?
	grep '^swap: ' "$T/swap.log"
	echo "swap: took $(( $(date +%s) - start )) s"
	case $rc in
	0) ok ;;
	77) ;;
	*) cat "$T/swap.log" >&2; bad "package-swap.sh" ;;
	esac
}

for p in $PARTS; do
	"part_$p"
done
echo "test_package: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
