#!/usr/bin/env bash
# Fuzzing (not a test): runs every cargo-fuzz target of the repository for a
# fixed budget each and reports crashes. Needs the nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`).
#
#   bench/fuzz.sh [SECONDS]       seconds per target (default 600)
#   FUZZ_TARGETS="load template"  only these targets
#
# Seeds: the repository's own playbooks, inventories and templates, so the
# fuzzer starts from realistic input. The growing corpus and any crash
# (artifacts/<target>/crash-*) stay in each fuzz directory (git-ignored).
# A crash found here becomes a regression test in that crate's normal tests.
set -uo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_PER_TARGET="${1:-600}"

# crate directory | target | seed directories (relative to the repository)
TARGETS=(
    "engine/yaml|load|playbooks roles inventory/sandbox/group_vars"
    "engine/inventory|ini_parser|inventory/sandbox engine/inventory/tests/fixtures"
    "engine/inventory|yaml_parser|engine/inventory/tests/fixtures"
    "engine/inventory|host_pattern|"
    "engine/templar|template|roles"
    "modules|frame_decoder|"
)

if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
    echo "cargo-fuzz on the nightly toolchain is needed: rustup toolchain install nightly && cargo install cargo-fuzz" >&2
    exit 2
fi

# Seeds are copied flat into a scratch directory per target (libFuzzer reads
# files of one directory, not trees).
seeds_for() { # OUT_DIR SEED_DIRS...
    local out="$1" d f i=0
    shift
    mkdir -p "$out"
    for d in "$@"; do
        [ -d "$REPO_ROOT/$d" ] || continue
        while IFS= read -r -d '' f; do
            i=$((i + 1))
            cp "$f" "$out/seed-$i"
        done < <(find "$REPO_ROOT/$d" -type f -size -64k -print0)
    done
}

scratch="$(mktemp -d /tmp/rsible-fuzz-seeds.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
failed=()
summary=()
for entry in "${TARGETS[@]}"; do
    IFS='|' read -r crate target seeds <<< "$entry"
    if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $target "* ]]; then
        continue
    fi
    seed_dir="$scratch/$target"
    # shellcheck disable=SC2086 # seeds is a space-separated list of directories
    seeds_for "$seed_dir" $seeds
    corpus="$REPO_ROOT/$crate/fuzz/corpus/$target"
    mkdir -p "$corpus"
    log="$scratch/$target.log"
    echo "== $crate: $target for ${SECONDS_PER_TARGET}s"
    # -timeout: one input taking longer than this is reported as a hang.
    # -rss_limit_mb: one input needing more memory is reported as a crash.
    (cd "$REPO_ROOT/$crate" && cargo +nightly fuzz run "$target" "$corpus" "$seed_dir" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1) > "$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
    if [ "$rc" -ne 0 ]; then
        failed+=("$target")
        echo "   FAILED (exit $rc) after $runs runs; the crash and its input:" >&2
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -20 >&2
        if [ "$runs" -eq 0 ]; then
            summary+=("$target: did not run (build failed? see the lines above)")
        else
            summary+=("$target: CRASH after $runs runs")
        fi
    else
        echo "   ok: $runs runs, no crash"
        summary+=("$target: $runs runs in ${SECONDS_PER_TARGET}s, no crash")
    fi
done
echo "== summary"
printf '%s\n' "${summary[@]}"
[ "${#failed[@]}" -eq 0 ]
