#!/bin/bash
# check-known.sh DOVECONF - run the doveconf differential test and compare
# its failures with known-failures.txt: every case not listed must pass, and
# a listed case that now passes is reported so the list only shrinks.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$here/doveconf-diff.sh" "$@" > "$out" 2>&1
grep -E '^(ok|FAIL)' "$out" | sed -E 's/^(ok|FAIL) +[0-9]+ /\1 /' > "$out.res"
known=$(grep -v '^#' "$here/known-failures.txt" | grep -v '^$')
rc=0
while IFS= read -r line; do
	status=${line%% *}; case_=${line#* }
	if [ "$status" = FAIL ] && ! grep -qxF -- "$case_" <<<"$known"; then
		echo "NEW FAILURE: $case_"
		grep -A40 -F -- "$case_" "$out" | sed -n '2,40p' | sed '/^\(ok\|FAIL\) /,$d'
		rc=1
	elif [ "$status" = ok ] && grep -qxF -- "$case_" <<<"$known"; then
		echo "now passing (remove from known-failures.txt): $case_"
	fi
done < "$out.res"
total=$(wc -l < "$out.res"); pass=$(grep -c '^ok ' "$out.res")
echo "doveconf differential: $pass of $total cases equal Dovecot's output" \
	"($(grep -c . <<<"$known") known failures listed)"
rm -f "$out.res"
exit $rc
