#!/usr/bin/env bash
# tests/fuzz/run-fuzzer.sh BUILD_DIR SECONDS CORPUS TARGET.c SOURCE.c...
# Builds a libFuzzer target with clang (ASan+UBSan, any report fatal) from
# the given sources and runs it for SECONDS over a copy of CORPUS. meson's
# own compiler may be gcc, so the fuzzer is built here, not by meson.
set -euo pipefail
build_dir=$1 seconds=$2 corpus=$3
shift 3
source_dir=$(cd -- "$(dirname -- "$0")/../.." && pwd)

if ! command -v clang >/dev/null; then
    if [[ ${CI:-} == true ]]; then
        echo "Bail out! clang is needed for the fuzz target (package clang)"
        exit 1
    fi
    echo "1..0 # SKIP clang is not installed"
    exit 0
fi

work=$(mktemp -d -t banger-fuzz.XXXXXX)
trap 'rm -rf -- "$work"' EXIT

# shellcheck disable=SC2046 # pkg-config output is a list of flags
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$build_dir" -I"$source_dir/src/common" -I"$source_dir/src/helper" \
    -I"$build_dir/src/common" \
    $(pkg-config --cflags glib-2.0 gio-2.0) \
    "$@" -o "$work/fuzzer" $(pkg-config --libs glib-2.0 gio-2.0)

mkdir "$work/corpus"
cp -- "$corpus"/* "$work/corpus/" 2>/dev/null || true
# Crash inputs go to the temp dir (not the caller's cwd) and are shown below.
if "$work/fuzzer" -max_total_time="$seconds" -timeout=5 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    echo "1..1"
    echo "ok 1 - $(basename -- "$1" .c): ${runs:-?} inputs in ${seconds}s, no crash"
else
    echo "1..1"
    echo "not ok 1 - $(basename -- "$1" .c) found a crash"
    sed 's/^/# /' "$work/log" | tail -n 60
    for artifact in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
        [[ -e $artifact ]] || continue
        echo "# input $(basename -- "$artifact"), base64: $(base64 -w0 <"$artifact")"
    done
    exit 1
fi
