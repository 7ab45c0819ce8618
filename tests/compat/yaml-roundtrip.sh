#!/bin/bash
# yaml-roundtrip.sh - doveconf -n --yaml must read back to the same config.
#
# usage: yaml-roundtrip.sh [-v] DOVECONF
#   For every config in configs/*.conf (and the .conf a configs/*.conf.gen
#   generates), and for /etc/dovecot/dovecot.conf when present (only read):
#     DOVECONF -n -c X               must succeed, else the config is skipped
#     DOVECONF -n --yaml -c X        > tmp.yaml
#     DOVECONF -n -c tmp.yaml        must print what "-n -c X" printed,
#                                    leading '#' lines aside
#   Each is run from the config's own directory (includes are relative).
#   Prints "ok"/"FAIL"/"skip" per config and a summary; exits 1 on a failure.
#   -v  show full diffs (default: at most 40 lines)
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
verbose=0
if [ "${1:-}" = -v ]; then
	verbose=1
	shift
fi
if [ $# -ne 1 ]; then
	echo "usage: yaml-roundtrip.sh [-v] DOVECONF" >&2
	exit 2
fi
case $1 in
/*) doveconf=$1 ;;
*) doveconf=$PWD/$1 ;;
esac
if [ ! -x "$doveconf" ] || [ -d "$doveconf" ]; then
	echo "yaml-roundtrip: doveconf not found or not executable: $doveconf" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/yaml-roundtrip.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# A private copy of the corpus, so generated configs never land in the repo.
cp -a "$here/configs" "$work/configs" || exit 1
for gen in "$work"/configs/*.conf.gen; do
	[ -e "$gen" ] || continue
	(cd "$work/configs" && bash "$(basename "$gen")" > "${gen%.gen}") ||
		rm -f "${gen%.gen}"
done

# The same environment as doveconf-diff.sh ($ENV: in config 50).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent LC_ALL=C
export ROOST_COMPAT_ENV=from-the-environment
unset ROOST_CONFIG_DIR

# Drop the leading block of '#' lines (version, OS, hostname).
strip_header() {
	awk 'body || !/^#/ { body = 1; print }' "$1"
}

show() {
	if [ "$verbose" = 1 ]; then
		cat
	else
		head -n 40 | cut -c1-300
	fi
}

pass=0 fail=0 skip=0
failed=()

# check DIR FILE LABEL
check() {
	local dir=$1 file=$2 label=$3 out=$work/out
	rm -rf "$out" && mkdir "$out"
	if ! (cd "$dir" && timeout 60 "$doveconf" -n -c "$file" \
		>"$out/orig.txt" 2>"$out/orig.err" </dev/null); then
		printf 'skip %s (doveconf -n fails)\n' "$label"
		skip=$((skip + 1))
		return
	fi
	if ! (cd "$dir" && timeout 60 "$doveconf" -n --yaml -c "$file" \
		>"$out/tmp.yaml" 2>"$out/yaml.err" </dev/null); then
		printf 'FAIL %s: doveconf -n --yaml failed\n' "$label"
		show <"$out/yaml.err"
	elif ! (cd "$dir" && timeout 60 "$doveconf" -n -c "$out/tmp.yaml" \
		>"$out/back.txt" 2>"$out/back.err" </dev/null); then
		printf 'FAIL %s: reading the YAML back failed\n' "$label"
		show <"$out/back.err"
	else
		strip_header "$out/orig.txt" >"$out/orig.body"
		strip_header "$out/back.txt" >"$out/back.body"
		if cmp -s "$out/orig.body" "$out/back.body"; then
			printf 'ok   %s\n' "$label"
			pass=$((pass + 1))
			return
		fi
		printf 'FAIL %s: doveconf -n differs after the YAML round trip\n' \
			"$label"
		diff -u --label "$label" --label "$label (via YAML)" \
			"$out/orig.body" "$out/back.body" | show
	fi
	fail=$((fail + 1))
	failed+=("$label")
}

for conf in "$work"/configs/*.conf; do
	[ -e "$conf" ] || continue
	check "$work/configs" "$(basename "$conf")" "$(basename "$conf")"
done
if [ -r /etc/dovecot/dovecot.conf ]; then
	check /etc/dovecot dovecot.conf /etc/dovecot/dovecot.conf
fi

total=$((pass + fail + skip))
echo "yaml round trip: $total configs, $pass ok, $fail failed," \
	"$skip skipped (invalid)"
if [ "$fail" -gt 0 ]; then
	printf 'failed: %s\n' "${failed[*]}"
	exit 1
fi
exit 0
