#!/bin/sh
# run.sh SECONDS - run every fuzz harness for SECONDS each, seeded from the
# config corpus. Exits non-zero on the first crash or leak found.
set -eu
secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
for bin in "$top"/build/fuzz/fuzz_*; do
	name=$(basename "$bin")
	corpus="$top/tests/fuzz/corpus-$name"
	mkdir -p "$corpus"
	if [ "$name" = fuzz_dialect ]; then
		for f in "$top"/tests/compat/dialects/*/*.conf; do
			cp "$f" "$corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
		done
	fi
	if [ "$name" = fuzz_config_parser ]; then
		cp "$top"/tests/compat/configs/*.conf "$corpus"/ 2>/dev/null || true
	fi
	if [ -d "$top/tests/fuzz/seeds-$name" ]; then
		cp "$top/tests/fuzz/seeds-$name"/* "$corpus"/
	fi
	dict=
	if [ -f "$top/tests/fuzz/$name.dict" ]; then
		dict="-dict=$top/tests/fuzz/$name.dict"
	fi
	echo "fuzzing $name for $secs s"
	(cd "$top" && "$bin" -max_total_time="$secs" -max_len=65536 \
		-timeout=10 $dict -artifact_prefix="$top/tests/fuzz/" "$corpus")
done
