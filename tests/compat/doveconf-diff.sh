#!/bin/bash
# doveconf-diff.sh - differential test of Roost's doveconf against Dovecot's.
#
# usage: doveconf-diff.sh [-v] [-k PATTERN] [OURS] [THEIRS]
#   OURS    doveconf under test      (default: <repo>/build/bin/doveconf)
#   THEIRS  reference doveconf       (default: /usr/bin/doveconf, Debian 12's 2.3.19)
#   -k PAT  run only the cases whose line in cases.txt matches the extended
#           regular expression PAT (e.g. -k '^2[0-9]-', -k ' -S', -k @stock)
#   -v      show full diffs (default: at most 40 lines per failing case)
#
# Every case in cases.txt is "<config> <args...>". Both programs are run from
# the config's directory, with the same relative "-c <config>" path, through a
# symlink named "doveconf", with the same minimal environment. Compared:
# exit code, stdout minus its leading block of lines starting with '#', and
# stderr byte for byte. See README.md.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# Knobs read from the environment (which is cleared further down).
cache_root=${ROOST_COMPAT_CACHE:-/var/tmp/roost-compat-cache}
stock_deb=${ROOST_STOCK_DEB:-}
jobs=${ROOST_COMPAT_JOBS:-}

verbose=0
pattern=
while getopts ":vk:h" opt; do
	case $opt in
	v) verbose=1 ;;
	k) pattern=$OPTARG ;;
	h)
		sed -n '2,9s/^# \{0,1\}//p' "$0"
		exit 0 ;;
	:) echo "doveconf-diff: option -$OPTARG needs an argument" >&2; exit 2 ;;
	*) echo "doveconf-diff: unknown option -$OPTARG (usage: doveconf-diff.sh [-v] [-k PATTERN] [OURS] [THEIRS])" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -gt 2 ]; then
	echo "usage: doveconf-diff.sh [-v] [-k PATTERN] [OURS] [THEIRS]" >&2
	exit 2
fi
ours=${1:-$root/build/bin/doveconf}
theirs=${2:-/usr/bin/doveconf}

abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$PWD/$1" ;;
	esac
}

if [ ! -x "$theirs" ] || [ -d "$theirs" ]; then
	echo "doveconf-diff: reference doveconf not found or not executable: $theirs" >&2
	echo "doveconf-diff: install Debian's dovecot-core (and -imapd -pop3d -lmtpd -submissiond) first" >&2
	exit 1
fi
if [ ! -x "$ours" ] || [ -d "$ours" ]; then
	echo "doveconf-diff: doveconf under test not found or not executable: $ours" >&2
	echo "doveconf-diff: build it first (make), or pass its path as the first argument" >&2
	exit 1
fi
ours=$(abspath "$ours")
theirs=$(abspath "$theirs")

cases_file=$here/cases.txt
if [ ! -r "$cases_file" ]; then
	echo "doveconf-diff: missing $cases_file" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/doveconf-diff.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# Private copy of the corpus, so generated files never land in the repo.
cp -a "$here/configs" "$work/configs" || exit 1
for gen in "$work"/configs/*.gen; do
	[ -e "$gen" ] || continue
	out=${gen%.gen}
	if ! (cd "$work/configs" && bash "$(basename "$gen")" > "$out"); then
		echo "doveconf-diff: generator failed: configs/$(basename "$gen")" >&2
		exit 1
	fi
done

# Both programs are called "doveconf" so their messages carry the same prefix.
mkdir -p "$work/bin-ours" "$work/bin-theirs"
ln -s "$ours" "$work/bin-ours/doveconf"
ln -s "$theirs" "$work/bin-theirs/doveconf"

# ---------------------------------------------------------------------------
# The pristine Debian stock tree (@stock), taken from the dovecot-core package
# itself, never from the machine's /etc/dovecot. Cached per package version.
stock_state=unset   # unset | ok | failed
stock_error=
get_stock() {
	[ "$stock_state" = unset ] || return 0
	stock_state=failed
	local version cache deb tmp
	version=$(dpkg-query -W -f='${Version}' dovecot-core 2>/dev/null)
	[ -n "$version" ] || version=unknown
	cache=$cache_root/dovecot-core_${version//:/%3a}
	if [ ! -r "$cache/usr/share/dovecot/dovecot.conf" ]; then
		tmp=$(mktemp -d "$work/deb.XXXXXX")
		deb=$stock_deb
		if [ -n "$deb" ] && [ ! -r "$deb" ]; then
			stock_error="ROOST_STOCK_DEB=$deb is not readable"
			return 1
		fi
		if [ -z "$deb" ]; then
			# _apt must be able to write into the download directory
			chmod 0777 "$tmp"
			(cd "$tmp" && { apt-get download "dovecot-core=$version" ||
				apt-get download dovecot-core; } >"$tmp/apt.log" 2>&1)
			deb=$(ls "$tmp"/dovecot-core_*.deb 2>/dev/null | head -n 1)
		fi
		if [ -z "$deb" ]; then
			deb=$(ls /var/cache/apt/archives/dovecot-core_*.deb 2>/dev/null | head -n 1)
		fi
		if [ -z "$deb" ] || [ ! -r "$deb" ]; then
			stock_error="could not download dovecot-core (see 'apt-get download dovecot-core'; run apt-get update first, or set ROOST_STOCK_DEB=/path/to/dovecot-core.deb)"
			return 1
		fi
		rm -rf "$cache.tmp.$$"
		mkdir -p "$cache.tmp.$$" &&
			dpkg-deb -x "$deb" "$cache.tmp.$$" &&
			[ -r "$cache.tmp.$$/usr/share/dovecot/dovecot.conf" ] || {
			rm -rf "$cache.tmp.$$"
			stock_error="could not extract $deb"
			return 1
		}
		rm -rf "$cache"
		mv "$cache.tmp.$$" "$cache" || { stock_error="could not write cache $cache"; return 1; }
	fi
	cp -a "$cache/usr/share/dovecot" "$work/stock" || { stock_error="could not copy stock tree"; return 1; }
	stock_state=ok
}

# ---------------------------------------------------------------------------
# Both programs get the same minimal environment: the runner's own
# environment is reduced to it here, so that no env(1) is needed per call.
for v in $(compgen -e); do
	unset "$v" 2>/dev/null
done
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent LC_ALL=C
export ROOST_COMPAT_ENV=from-the-environment

# slurp FILE VAR: read FILE into VAR without a subprocess. Returns 0 when
# the whole file was read, 1 when it contains a NUL byte (bash strings cannot
# hold one; the caller then falls back to cmp).
slurp() {
	local -n _dst=$2
	_dst=
	if IFS= read -r -d '' _dst <"$1"; then
		return 1
	fi
	return 0
}

# strip_header VAR: drop the leading block of lines that start with '#'.
strip_header() {
	local -n _s=$1
	while [ "${_s:0:1}" = '#' ]; do
		case $_s in
		*$'\n'*) _s=${_s#*$'\n'} ;;
		*) _s= ;;
		esac
	done
}

show_diff() {
	# show_diff LABEL OURS THEIRS
	local label=$1 a=$2 b=$3
	if [ "$verbose" = 1 ]; then
		diff -u --label "theirs $label" --label "ours $label" "$b" "$a"
	else
		diff -u --label "theirs $label" --label "ours $label" "$b" "$a" |
			head -n 40 | cut -c1-300
	fi
}

# ---------------------------------------------------------------------------
# Read the cases.
case_line=()
case_text=()
lineno=0
need_stock=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=${line%$'\r'}
	trimmed=${line#"${line%%[![:space:]]*}"}
	case $trimmed in
	'' | '#'*) continue ;;
	esac
	if [ -n "$pattern" ] && ! [[ $trimmed =~ $pattern ]]; then
		continue
	fi
	case_line+=("$lineno")
	case_text+=("$trimmed")
	case $trimmed in
	@stock*) need_stock=1 ;;
	esac
done <"$cases_file"
total=${#case_text[@]}
if [ "$total" -eq 0 ]; then
	echo "doveconf-diff: no case matched" >&2
	exit 1
fi
[ "$need_stock" = 1 ] && get_stock

# run_case I: run case number I, leave $work/r/I.ok or $work/r/I.fail
# (the latter holding the report lines).
run_case() {
	local i=$1 words conf dir base r ok rc_t rc_o out_t out_o err_t err_o
	local exact=1 label rep
	local -a args
	read -r -a words <<<"${case_text[$i]}"
	conf=${words[0]}
	args=("${words[@]:1}")
	printf -v label '%3d %s' "${case_line[$i]}" "${case_text[$i]}"
	label=${label:0:160}
	rep=$work/r/$i
	if [ "$conf" = @stock ]; then
		if [ "$stock_state" != ok ]; then
			printf 'FAIL %s\n     stock tree unavailable: %s\n' "$label" "$stock_error" >"$rep.fail"
			return
		fi
		dir=$work/stock
		base=dovecot.conf
	else
		case $conf in
		*/*) dir=$work/configs/${conf%/*} ;;
		*) dir=$work/configs ;;
		esac
		base=${conf##*/}
		if [ ! -e "$dir/$base" ]; then
			printf 'FAIL %s\n     no such config: configs/%s\n' "$label" "$conf" >"$rep.fail"
			return
		fi
	fi

	r=$work/r/$i.tmp
	cd "$dir" || exit 1
	"$work/bin-theirs/doveconf" -c "$base" "${args[@]}" \
		>"$r.theirs.out" 2>"$r.theirs.err" </dev/null
	rc_t=$?
	"$work/bin-ours/doveconf" -c "$base" "${args[@]}" \
		>"$r.ours.out" 2>"$r.ours.err" </dev/null
	rc_o=$?
	cd "$work" || exit 1

	slurp "$r.theirs.out" out_t || exact=0
	slurp "$r.ours.out" out_o || exact=0
	slurp "$r.theirs.err" err_t || exact=0
	slurp "$r.ours.err" err_o || exact=0
	strip_header out_t
	strip_header out_o
	ok=1
	[ "$rc_t" = "$rc_o" ] || ok=0
	if [ "$exact" = 1 ]; then
		[ "$out_t" == "$out_o" ] || ok=0
		[ "$err_t" == "$err_o" ] || ok=0
	else
		# NUL bytes somewhere: compare files byte for byte
		sed -n '/^#/!{:b;p;n;bb}' "$r.theirs.out" >"$r.theirs.body"
		sed -n '/^#/!{:b;p;n;bb}' "$r.ours.out" >"$r.ours.body"
		cmp -s "$r.theirs.body" "$r.ours.body" || ok=0
		cmp -s "$r.theirs.err" "$r.ours.err" || ok=0
	fi
	if [ "$ok" = 1 ]; then
		: >"$rep.ok"
		return
	fi
	{
		echo "FAIL $label"
		if [ "$rc_t" != "$rc_o" ]; then
			echo "     exit code: ours=$rc_o theirs=$rc_t"
		fi
		sed -n '/^#/!{:b;p;n;bb}' "$r.theirs.out" >"$r.theirs.body"
		sed -n '/^#/!{:b;p;n;bb}' "$r.ours.out" >"$r.ours.body"
		if ! cmp -s "$r.theirs.body" "$r.ours.body"; then
			show_diff stdout "$r.ours.body" "$r.theirs.body" | sed 's/^/     /'
		fi
		if ! cmp -s "$r.theirs.err" "$r.ours.err"; then
			show_diff stderr "$r.ours.err" "$r.theirs.err" | sed 's/^/     /'
		fi
	} >"$rep.fail"
}

# Run the cases on a few parallel workers; report in cases.txt order.
mkdir -p "$work/r"
[ -n "$jobs" ] || jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=2
[ "$jobs" -le 4 ] || jobs=4
pids=()
for ((w = 0; w < jobs; w++)); do
	(
		# a runaway doveconf is killed after 30 s of CPU time (cheaper
		# than a timeout(1) process per call)
		ulimit -t 30
		for ((i = w; i < total; i += jobs)); do
			run_case "$i"
		done
	) &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid"
done

passed=0
for ((i = 0; i < total; i++)); do
	if [ -e "$work/r/$i.ok" ]; then
		passed=$((passed + 1))
		printf 'ok   %3d %s\n' "${case_line[$i]}" "${case_text[$i]:0:155}"
	elif [ -e "$work/r/$i.fail" ]; then
		cat "$work/r/$i.fail"
	else
		printf 'FAIL %3d %s\n     (the runner did not finish this case)\n' "${case_line[$i]}" "${case_text[$i]:0:155}"
	fi
done

echo "$total cases, $passed passed"
echo "$passed passed, $((total - passed)) failed"
[ "$passed" -eq "$total" ] || exit 1
exit 0
