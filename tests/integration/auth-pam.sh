#!/bin/sh
# auth-pam.sh - passdb pam, passwd and shadow and userdb passwd through
# the real PAM and NSS stacks, without touching /etc: pam_wrapper reads
# PAM service files from a temporary directory (pam_matrix checks the
# passwords), nss_wrapper serves passwd/group/shadow from temporary files.
# Usage: auth-pam.sh /path/to/auth-db-probe
set -u

PROBE=${1:?usage: auth-pam.sh /path/to/auth-db-probe}
# the wrappers have no versioned soname, so ldconfig doesn't list them
find_lib() {
	for d in $(pkg-config --variable=libdir "$2" 2>/dev/null) \
		"/usr/lib/$(cc -print-multiarch 2>/dev/null)" /usr/lib64 \
		/usr/lib /usr/local/lib; do
		if [ -f "$d/$1" ]; then
			echo "$d/$1"
			return
		fi
	done
	echo "$1"
}
PAM_WRAPPER_LIB=$(find_lib libpam_wrapper.so pam_wrapper)
NSS_WRAPPER_LIB=$(find_lib libnss_wrapper.so nss_wrapper)
PAM_MATRIX=$(find_lib pam_wrapper/pam_matrix.so pam_wrapper)
for f in "$PAM_WRAPPER_LIB" "$NSS_WRAPPER_LIB" "$PAM_MATRIX"; do
	if [ ! -f "$f" ]; then
		echo "auth-pam: $f missing (install libpam-wrapper and" \
			"libnss-wrapper: scripts/deps.sh)" >&2
		exit 1
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/roost-auth-pam.XXXXXX")
trap 'rm -rf "$T"' EXIT

HASH_ALICE=$(openssl passwd -6 -salt saltsalt secret)
HASH_BOB=$(openssl passwd -6 -salt pepper12 bobpw)
mkdir -p "$T/pam.d"
cat > "$T/passwd" <<EOP
alice:$HASH_ALICE:1000:1000:Alice:/home/alice:/bin/sh
bob:x:1001:1001:Bob:/home/bob:/bin/sh
locked:!$HASH_ALICE:1002:1002::/home/locked:/bin/sh
daemon1:x:10:10::/:/bin/false
EOP
cat > "$T/group" <<EOP
alice:x:1000:
bob:x:1001:
locked:x:1002:
vmail:x:5000:
EOP
cat > "$T/shadow" <<EOP
bob:$HASH_BOB:19000:0:99999:7:::
alice:$HASH_ALICE:19000:0:99999:7:::
EOP
printf 'alice:secret:roost-test\ncarol:carolpw:imap\n' > "$T/matrix"
# "imap": what "*" (the service name) picks for the probe's lookups
for svc in roost-test other-svc imap; do
	for type in auth account password session; do
		echo "$type required $PAM_MATRIX passdb=$T/matrix"
	done > "$T/pam.d/$svc"
done
# pam_unix itself, asking the NSS wrapper for users
PAM_UNIX=$(find_lib security/pam_unix.so pam)
for type in auth account password session; do
	echo "$type required $PAM_UNIX"
done > "$T/pam.d/unix-test"

# DISABLE_DEEPBIND: sanitizer runtimes refuse RTLD_DEEPBIND (pam_wrapper
# 1.1.4 reads its switch under the name UID_WRAPPER_DISABLE_DEEPBIND).
pass=0
fail=0
# run NAME EXPECTED-LINES -- probe args: every expected line must be in
# the probe's output
run() {
	name=$1
	expected=$2
	shift 2
	[ "${1:-}" = "--" ] && shift
	out=$(env LD_PRELOAD="$PAM_WRAPPER_LIB $NSS_WRAPPER_LIB" \
		PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		PAM_WRAPPER_DISABLE_DEEPBIND=1 NSS_WRAPPER_DISABLE_DEEPBIND=1 \
		UID_WRAPPER_DISABLE_DEEPBIND=1 \
		NSS_WRAPPER_PASSWD="$T/passwd" NSS_WRAPPER_GROUP="$T/group" \
		NSS_WRAPPER_SHADOW="$T/shadow" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
		"$PROBE" "$@" 2>"$T/stderr")
	ok=1
	printf '%s\n' "$expected" > "$T/expected"
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		if ! printf '%s\n' "$out" | grep -qxF -- "$line"; then
			ok=0
			echo "  missing: $line"
		fi
	done < "$T/expected"
	if [ $ok = 1 ]; then
		pass=$((pass + 1))
		echo "ok: $name"
	else
		fail=$((fail + 1))
		echo "FAIL: $name"
		printf '%s\n' "$out" | sed 's/^/  out: /'
		sed 's/^/  err: /' "$T/stderr"
	fi
}

# passdb pam (pam_matrix under pam_wrapper)
run "pam good password" "result=OK
field user=alice" -- passdb pam roost-test alice secret
run "pam bad password" "result=PASSWORD_MISMATCH
reason=pam_authenticate() failed: Authentication failure (Password mismatch?)" \
	-- passdb pam roost-test alice wrong
# pam_matrix answers PAM_AUTH_ERR for users it doesn't know
run "pam unknown user (pam_matrix)" "result=PASSWORD_MISMATCH
reason=pam_authenticate() failed: Authentication failure (Password mismatch?)" \
	-- passdb pam roost-test nosuch secret
run "pam user not allowed for the service" "result=PASSWORD_MISMATCH" \
	-- passdb pam other-svc alice secret
run "pam session=yes setcred=yes" "result=OK" \
	-- passdb pam "session=yes setcred=yes roost-test" alice secret
run "pam service from %s" "result=OK
field user=carol" -- passdb pam "*" carol carolpw
run "pam failure_show_msg=yes" "result=PASSWORD_MISMATCH
field reason=Password: " -- passdb pam "failure_show_msg=yes roost-test" alice wrong
# PAM_USER_UNKNOWN: pam_unix asks NSS (the wrapper) for the user first.
# (Its password check reads /etc/shadow itself, so only this case fits.)
if [ -f "$PAM_UNIX" ]; then
	run "pam_unix unknown user" "result=USER_UNKNOWN
reason=unknown user" -- passdb pam unix-test nosuch-roost secret
fi

# passdb passwd (crypt of pw_passwd)
run "passwd good password" "result=OK
field user=alice" -- passdb passwd "" alice secret
run "passwd bad password" "result=PASSWORD_MISMATCH
reason=Password mismatch" -- passdb passwd "" alice wrong
run "passwd unknown user" "result=USER_UNKNOWN
reason=unknown user" -- passdb passwd "" nosuch secret
run "passwd locked account" "result=USER_DISABLED
reason=invalid password field '!...'" -- passdb passwd "" locked secret
run "passwd shadowed entry" "result=PASSWORD_MISMATCH" \
	-- passdb passwd "" bob bobpw
run "passwd credentials" "result=OK
password=$HASH_ALICE" -- lookup passwd "" alice

# passdb shadow
run "shadow good password" "result=OK
field user=bob" -- passdb shadow "" bob bobpw
run "shadow bad password" "result=PASSWORD_MISMATCH
reason=Password mismatch" -- passdb shadow "" bob secret
run "shadow unknown user" "result=USER_UNKNOWN
reason=unknown user" -- passdb shadow "" nosuch x

# userdb passwd
run "userdb passwd" "result=OK
field system_groups_user=alice
field uid=1000
field gid=1000
field home=/home/alice" -- userdb passwd "" alice
run "userdb passwd unknown" "result=USER_UNKNOWN
reason=unknown user" -- userdb passwd "" nosuch
run "userdb passwd iterate" "user alice
user bob
user locked
result=OK" -- iterate passwd "" 1000
run "userdb static uid/gid names" "result=OK
field uid=1000
field gid=5000" -- userdb static "uid=alice gid=vmail" anyone

echo "auth-pam: $pass passed, $fail failed"
[ $fail = 0 ]
