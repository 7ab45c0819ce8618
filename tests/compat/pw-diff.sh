#!/bin/bash
# pw-diff.sh - differential test of Roost's `doveadm pw` against Dovecot's.
#
# usage: pw-diff.sh [-v] [OURS] [THEIRS]
#   OURS    doveadm under test   (default: <repo>/build/bin/doveadm)
#   THEIRS  reference doveadm    (default: /usr/bin/doveadm, Debian 12's 2.3.19)
#   -v      print both sides of every failing check
#
# Checks, one line each ("ok   <check>" / "FAIL <check>"):
#   cross/<S>   a hash Dovecot makes in scheme S verifies with ours (same
#               "(verified)" line) and one ours makes verifies with Dovecot's
#   same/<S>    deterministic schemes: both print the same hash
#   cmp/<name>  an invocation (bad hashes, bad options, prompts read from
#               stdin, formatters...): same stdout, stderr and exit code
# Both programs run through symlinks named "doveadm" in a scratch
# directory, with a minimal environment. Exit status 1 if any check fails.
# Dovecot reads /etc/dovecot (read only); nothing there is changed.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
verbose=0
if [ "${1:-}" = -v ]; then verbose=1; shift; fi
ours=${1:-$root/build/bin/doveadm}
theirs=${2:-/usr/bin/doveadm}
if [ ! -x "$theirs" ]; then
	echo "pw-diff: reference $theirs not found (install dovecot-core)" >&2
	exit 1
fi
if [ ! -x "$ours" ]; then
	echo "pw-diff: $ours not found (run make)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ours" "$tmp/theirs"
ln -s "$(readlink -f "$ours")" "$tmp/ours/doveadm"
ln -s "$(readlink -f "$theirs")" "$tmp/theirs/doveadm"

pass=0
fail=0
PW=secret

# run SIDE STDIN-TEXT ARGS... : output in $tmp/SIDE.{out,err,rc}. A hard
# CPU limit keeps a runaway hash (huge rounds) from hanging the run.
run() {
	local side=$1 input=$2
	shift 2
	(
		cd "$tmp/$side" || exit 99
		ulimit -t 60
		printf '%s' "$input" | env -i PATH=/usr/bin:/bin HOME=/nonexistent \
			LC_ALL=C ./doveadm "$@" >"$tmp/$side.out" 2>"$tmp/$side.err"
		echo $? >"$tmp/$side.rc"
	)
}

result() {
	local ok=$1 name=$2
	if [ "$ok" = 1 ]; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name"
	fi
}

show_side() {
	local side=$1
	echo "  --- $side: rc=$(cat "$tmp/$side.rc")"
	sed 's/^/  out| /' "$tmp/$side.out" | head -20
	sed 's/^/  err| /' "$tmp/$side.err" | head -20
}

# cmp NAME STDIN ARGS... : both sides must print and exit alike
cmp_case() {
	local name=$1 input=$2
	shift 2
	run ours "$input" "$@"
	run theirs "$input" "$@"
	if cmp -s "$tmp/ours.out" "$tmp/theirs.out" &&
		cmp -s "$tmp/ours.err" "$tmp/theirs.err" &&
		cmp -s "$tmp/ours.rc" "$tmp/theirs.rc"; then
		result 1 "cmp/$name"
	else
		result 0 "cmp/$name"
		echo "  args: $*"
		show_side ours
		show_side theirs
	fi
}

# cmp_head NAME LINES ARGS... : same exit code and first LINES of stderr
# (for usage listings, whose command set differs)
cmp_head() {
	local name=$1 lines=$2
	shift 2
	run ours "" "$@"
	run theirs "" "$@"
	if cmp -s "$tmp/ours.rc" "$tmp/theirs.rc" &&
		cmp -s <(head -n "$lines" "$tmp/ours.err") \
			<(head -n "$lines" "$tmp/theirs.err") &&
		cmp -s "$tmp/ours.out" "$tmp/theirs.out"; then
		result 1 "cmp/$name"
	else
		result 0 "cmp/$name"
		show_side ours
		show_side theirs
	fi
}

# cross SCHEME [USER]: Dovecot's hash checked by ours and the reverse
cross() {
	local s=$1 user=${2:-} uargs=() hash ok=1
	[ -n "$user" ] && uargs=(-u "$user")
	run theirs "" pw -s "$s" -p "$PW" "${uargs[@]}"
	hash=$(cat "$tmp/theirs.out")
	run ours "" pw -t "$hash" -p "$PW" "${uargs[@]}"
	if [ "$(cat "$tmp/ours.rc")" != 0 ] ||
		[ "$(cat "$tmp/ours.out")" != "$hash (verified)" ]; then
		ok=0
		[ $verbose = 1 ] && { echo "  theirs made: $hash"; show_side ours; }
	fi
	run ours "" pw -s "$s" -p "$PW" "${uargs[@]}"
	hash=$(cat "$tmp/ours.out")
	run theirs "" pw -t "$hash" -p "$PW" "${uargs[@]}"
	if [ "$(cat "$tmp/theirs.rc")" != 0 ] ||
		[ "$(cat "$tmp/theirs.out")" != "$hash (verified)" ]; then
		ok=0
		[ $verbose = 1 ] && { echo "  ours made: $hash"; show_side theirs; }
	fi
	result $ok "cross/$s"
	if [ $ok = 0 ] && [ $verbose = 0 ]; then
		echo "  (run with -v for details)"
	fi
}

# ---- every scheme, both directions ----
run theirs "" pw -l
schemes=$(cat "$tmp/theirs.out")
for s in $schemes; do
	case $s in
	PLAIN-TRUNC) ;; # its generated form fails its own check in Dovecot too
	DIGEST-MD5) cross "$s" alice@example.com ;;
	*) cross "$s" ;;
	esac
done
cross CRYPT.b64
cross SHA512-CRYPT.hex
cross ssha256.HEX
cross SCRAM-SHA-256.b64

# ---- deterministic schemes: same bytes ----
for s in PLAIN CLEAR CLEARTEXT PLAIN-TRUNC PLAIN-MD4 PLAIN-MD5 LDAP-MD5 \
	SHA SHA1 SHA256 SHA512 CRAM-MD5 HMAC-MD5 sha.hex SHA256.b64 \
	PLAIN.base64 cram-md5.B64 PLAIN-MD5.b64; do
	cmp_case "same-$s" "" pw -s "$s" -p "$PW"
done
for u in alice alice@example.com a@b@c ''; do
	cmp_case "same-DIGEST-MD5-user-$u" "" pw -s DIGEST-MD5 -u "$u" -p "$PW"
done
cmp_case same-empty-password "" pw -s SHA256 -p ''
cmp_case same-utf8-password "" pw -s PLAIN-MD5 -p 'pässwörd€'

# ---- listing ----
cmp_case list "" pw -l
cmp_case list-with-others "" pw -l -s SHA -p x
cmp_case list-extra-arg "" pw -l extra

# ---- -t: stored forms, good and bad ----
S6='$6$4p23YGEhScTKrIDG$WUzcZOQVnxFxq/fCbiUXAH.Y02OjKLJl1v3UMzHISRRkEpO9KWd7ZSPnEVCQl.0A8pVnKX4CkmHzrpx./8.8Z1'
M1='$1$nrRUenPe$dg423cIDOW1FIO13Mbqm61'
B2='$2y$05$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ.'
Y='$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.'
A2ID='$argon2id$v=19$m=65536,t=3,p=1$Vb3vptxyb8KCZYuNpE4/nw$mwrQFPwU8QfzD32TYA9sqxYGHmHrRHzqOOd10QYQYfg'
SC1='4096,kZDZuw2ftO5kcEHFNl2wRg==,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=,/ZpMr2U2lLoVGmQSFSTLevJQo0s='
PB='$1$ljts2JHqYyMdnTLH$5000$c3c784fc52e76128b10c2745267112e7de7de54a'
OTP='sha1 1024 f0934c805cb8bfdb 4dbdcee850aab354'
i=0
while IFS= read -r hash; do
	[ -z "$hash" ] && continue
	i=$((i + 1))
	cmp_case "t$(printf %02d $i) $hash" "" pw -t "$hash" -p "$PW"
done <<EOF
{PLAIN}secret
{plain}secret
{PLAIN}wrong
{PLAIN}
{PLAIN}}secret
{PLAIN
{}secret
{FOO}x
secret
$M1
$M1\$junk
{MD5-CRYPT}$M1\$junk
{MD5-CRYPT}$S6
{MD5}$S6
{MD5}xx
{MD5}5ebe2294ecd0e0f08eab7690d2a6ee69
{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==
{SHA512-CRYPT}$B2
{SHA512-CRYPT}$M1
{DES-CRYPT}$S6
{CRYPT}$Y
{CRYPT}xx
{CRYPT}
{CRYPT}*0
{CRYPT}GgsGpqkhcXsVw
{CRYPT}\$2y\$05\$short
{CRYPT}\$2y\$99\$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ.
{BLF-CRYPT}$S6
{BLF-CRYPT}
{BLF-CRYPT}\$2y\$
{BLF-CRYPT}\$2y\$05\$short
{BLF-CRYPT}\$2q\$05\$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ.
{SHA}xx
{SHA}!!!!
{SHA}AAAA
{SHA}c2VjcmV0
{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ
{SHA}5en6G6MezRroT3XKqkdPOmY/BfR=
{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ==
{SHA}5en6G6MezRro T3XKqkdPOmY/BfQ=
{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=x
{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4
{SHA.hex}E5E9FA1BA31ECD1AE84F75CAAA474F3A663F05F4
{SHA.hex}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f
{SHA.foo}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4
{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee6x
{PLAIN-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==
{LDAP-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69
{PLAIN.b64}c2VjcmV0
{PLAIN.hex}736563726574
{PLAIN.hex}73656372657
{PLAIN.b64}c2VjcmV0!
{SSHA}eSV6
{SSHA}eSV6SE4Yl4XMCi/Hs/se7ZM/RmGOX1B3
{SSHA512}!!
{SMD5}SRA7cnp459MzyT2ngwwLCLiE/2A=
{CRAM-MD5}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=
{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56
{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747
{PLAIN-TRUNC}6-secret
{PLAIN-TRUNC}3-secret
{PLAIN-TRUNC}secret
{PLAIN-TRUNC}x-secret
{ARGON2I}$A2ID
{ARGON2ID}garbage
{ARGON2ID}\$argon2d\$v=19\$m=65536,t=3,p=1\$Vb3vptxyb8KCZYuNpE4/nw\$mwrQFPwU8QfzD32TYA9sqxYGHmHrRHzqOOd10QYQYfg
{PBKDF2}$PB
{PBKDF2}\$2\$ljts2JHqYyMdnTLH\$5000\$c3c7
{PBKDF2}\$1\$ljts2JHqYyMdnTLH\$5000
{PBKDF2}\$1\$ljts2JHqYyMdnTLH\$x\$c3c784fc52e76128b10c2745267112e7de7de54a
{PBKDF2}\$1\$ljts2JHqYyMdnTLH\$5000\$c3c7
{PBKDF2}\$1\$ljts2JHqYyMdnTLH\$0\$c3c784fc52e76128b10c2745267112e7de7de54a
{SCRAM-SHA-1}$SC1
{SCRAM-SHA-1}4096,kZDZuw2ftO5kcEHFNl2wRg==,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=
{SCRAM-SHA-1}100,kZDZuw2ftO5kcEHFNl2wRg==,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=,/ZpMr2U2lLoVGmQSFSTLevJQo0s=
{SCRAM-SHA-1}4096,kZDZuw2ftO5kcEHFNl2wRg==,SI3u0zl6pEFSP2hQkg2=,/ZpMr2U2lLoVGmQSFSTLevJQo0s=
{SCRAM-SHA-1}4096,kZDZuw2ftO5kcEHFNl2wRg==,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=,/ZpMr2U2lLoVGmQSFSTLevJQo0
{SCRAM-SHA-1}4096,!!!,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=,/ZpMr2U2lLoVGmQSFSTLevJQo0s=
{SCRAM-SHA-256}$SC1
{OTP}$OTP
{OTP}SHA1 1024 f0934c805cb8bfdb 4dbdcee850aab354
{OTP}sha1 1024 F0934C805CB8BFDB 4DBDCEE850AAB354
{OTP}sha1 1024 f0934c805cb8bfdb
{OTP}sha2 1024 f0934c805cb8bfdb 4dbdcee850aab354
{OTP}garbage
{DIGEST-MD5}b1726872c344b6dc8365b774f8fd6412
EOF
cmp_case digest-t-user "" pw -t '{DIGEST-MD5}b1726872c344b6dc8365b774f8fd6412' \
	-p "$PW" -u alice@example.com
cmp_case digest-t-wrong-user "" pw -t '{DIGEST-MD5}b1726872c344b6dc8365b774f8fd6412' \
	-p "$PW" -u alice
cmp_case empty-plain-empty-pass "" pw -t '{PLAIN}' -p ''

# ---- options and errors ----
cmp_case default-scheme-is-crypt-bcrypt-V "" pw -p "$PW" -V -s PLAIN
cmp_case V-plain "" pw -s PLAIN -p "$PW" -V
cmp_case V-sha-hex "" pw -s SHA.hex -p "$PW" -V
cmp_case unknown-scheme "" pw -s FOO -p "$PW"
cmp_case unknown-scheme-lower "" pw -s foo -p "$PW"
cmp_case unknown-scheme-with-t "" pw -s FOO -p "$PW" -t '{PLAIN}secret'
cmp_case digest-no-user "" pw -s DIGEST-MD5 -p "$PW"
cmp_case digest-no-user-t "" pw -s PLAIN -p "$PW" -t '{DIGEST-MD5}b1726872c344b6dc8365b774f8fd6412'
cmp_case bad-option "" pw -x
cmp_case long-option "" pw --help
cmp_case missing-arg-r "" pw -r
cmp_case missing-arg-s "" pw -s
cmp_case extra-args "" pw -s PLAIN -p "$PW" a b
cmp_case extra-first "" pw a -s PLAIN -p "$PW"
cmp_case rounds-text "" pw -r abc -s SHA256 -p "$PW"
cmp_case rounds-plain "" pw -r 7 -s PLAIN -p "$PW"
cmp_case global-bad-option "" -x pw -l
cmp_case global-missing-f "" -f
cmp_case formatter-unknown "" -f foo pw -l
cmp_case formatter-tab "" -f tab pw -s PLAIN -p "$PW"
cmp_case formatter-json "" -f json pw -l
cmp_case formatter-flow "" -f flow pw -l
cmp_case formatter-table "" -f table pw -l
cmp_case debug-verbose "" -v pw -s PLAIN -p "$PW"
cmp_case o-ok "" -o mail_debug=yes pw -s PLAIN -p "$PW"
cmp_case o-missing-eq "" -o foo pw -l
cmp_case c-missing "" -c /nonexistent/dovecot.conf pw -l
printf 'garbage {\n' >"$tmp/bad.conf"
cmp_case c-bad-config "" -c "$tmp/bad.conf" pw -l
printf '# empty\n' >"$tmp/empty.conf"
cmp_case c-empty-config "" -c "$tmp/empty.conf" pw -s PLAIN -p "$PW"

# ---- passwords read from stdin (no terminal: no prompt) ----
cmp_case stdin-twice "secret
secret
" pw -s PLAIN
cmp_case stdin-mismatch-then-eof "secret
other
" pw -s PLAIN
cmp_case stdin-three-mismatches "a
b
c
d
e
f
" pw -s PLAIN
cmp_case stdin-cr "a
b
" pw -s SHA
cmp_case stdin-no-newline "secret" pw -s PLAIN
cmp_case stdin-empty "" pw -s PLAIN
cmp_case stdin-test "secret
" pw -t '{PLAIN}secret'
cmp_case stdin-test-wrong "wrong
" pw -t '{PLAIN}secret'

# ---- the front end ----
cmp_head no-command 2
cmp_head help 2 help
cmp_head unknown-command 2 foo
cmp_head unknown-command-args 2 foo bar pw

total=$((pass + fail))
echo "doveadm pw differential: $pass of $total checks equal Dovecot's behaviour"
[ $fail = 0 ]
