#!/usr/bin/env bash
# Coverage-guided fuzzing of one decoder with AFL++ (cargo-afl, stable toolchain).
#
#   scripts/fuzz.sh TARGET SECONDS     fuzz TARGET for SECONDS, then keep a minimised corpus
#   scripts/fuzz.sh list               the targets (flotilla_node::fuzz::TARGETS)
#
# The corpus lives in fuzz/corpus/TARGET/ (committed; seeded by `flotilla-fuzz seed` when
# empty). A crash is copied to fuzz/regressions/TARGET/ and the script exits 1: fix the
# decoder, keep the input there, and `cargo test -p flotilla-node fuzz` replays it for ever.
# AFL's working state goes to fuzz/out/ (not committed). One target at a time: AFL++ takes
# a whole core.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz"

TARGETS="wire_frame signed_event invite_code rr_codec stored_record markdown"
if [ "${1:-}" = list ] || [ $# -ne 2 ]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS; targets: $TARGETS" >&2
    [ "${1:-}" = list ] && exit 0 || exit 2
fi
target=$1
seconds=$2
case " $TARGETS " in *" $target "*) ;; *) echo "fuzz.sh: unknown target $target" >&2; exit 2 ;; esac

if ! cargo afl --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-afl from crates.io" >&2
    cargo install --locked cargo-afl
fi
# AFL++'s runtime, built once per cargo-afl version.
cargo afl config --build >/dev/null 2>&1 || true

export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target}
# cargo-afl builds everything (libp2p, sled, axum...) instrumented with one codegen unit;
# opt-level 1 instead of its default 3 makes that build about 3x shorter on 2 cores, for
# fewer executions per second. AFL_OPT_LEVEL=3 for long runs.
export AFL_OPT_LEVEL=${AFL_OPT_LEVEL:-1}
cargo afl build --release --quiet
bin=$CARGO_TARGET_DIR/release/flotilla-fuzz

if [ -z "$(ls -A "corpus/$target" 2>/dev/null)" ]; then
    "$bin" seed corpus
fi

out=out/$target
rm -rf "$out"
mkdir -p "$out"
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_SKIP_CRASHES=1 AFL_AUTORESUME=1
cargo afl fuzz -V "$seconds" -i "corpus/$target" -o "$out" -- "$bin" "$target" \
    > "$out/afl.log" 2>&1 || { tail -20 "$out/afl.log" >&2; exit 1; }

stats=$out/default/fuzzer_stats
execs=$(awk -F: '/^execs_done/ {gsub(/ /, "", $2); print $2}' "$stats")
crashes=$(awk -F: '/^saved_crashes/ {gsub(/ /, "", $2); print $2}' "$stats")
hangs=$(awk -F: '/^saved_hangs/ {gsub(/ /, "", $2); print $2}' "$stats")

# Keep the corpus: the old inputs plus AFL's queue (each queue entry added coverage when it
# was found), named by content so reruns do not duplicate. (afl-cmin could shrink it more, but
# cargo-afl's afl-cmin picks up a system afl-showmap of another version when there is one.)
mkdir -p "corpus/$target"
for f in "$out/default/queue"/id*; do
    [ -e "$f" ] || continue
    # AFL links the starting inputs into its queue: those are already in the corpus.
    kept="corpus/$target/q-$(sha1sum "$f" | cut -c1-16)"
    [ -e "$kept" ] || cp "$f" "$kept"
done
size=$(ls "corpus/$target" | wc -l)

if [ "${crashes:-0}" != 0 ]; then
    mkdir -p "regressions/$target"
    for f in "$out/default/crashes"/id*; do
        [ -e "$f" ] && cp "$f" "regressions/$target/crash-$(sha1sum "$f" | cut -c1-12)"
    done
fi
echo "fuzz $target: ${seconds} s, $execs executions, $crashes crashes, $hangs hangs, corpus $size inputs"
[ "${crashes:-0}" = 0 ]
