#!/usr/bin/env bash
# Coverage-guided fuzzing of hello-protocol's decoders with cargo fuzz (libFuzzer): the targets of
# fuzz/ (fuzz/README.md says what each asserts), each run on its corpus in fuzz/corpus/TARGET.
#
#   scripts/fuzz.sh --ci                 # CI: format and lints, each corpus replayed, 30 s of fuzzing each
#   scripts/fuzz.sh                      # long runs: 10 minutes a target, the corpus grown, then minimized
#   scripts/fuzz.sh --runs 10000000      # 10 million executions a target
#   scripts/fuzz.sh --seconds 60 v1_codec
#   scripts/fuzz.sh --runs 0             # replay each corpus, then minimize it
#
# Exits 1 when a target crashes, panics, times out or runs out of memory, and prints the
# reproducer's path and the command that replays it. cargo-fuzz is installed into target/tools
# when missing. Toolchain: nightly when rustup has one, else stable with RUSTC_BOOTSTRAP=1
# (--toolchain chooses), as a sanitizer takes -Z flags; without one (the default) stable builds
# the targets as it is. CI's new inputs go to
# target/fuzz/corpus-ci and are not kept; a long run adds its new inputs to fuzz/corpus and then
# minimizes it (cargo fuzz cmin), so that the committed corpus stays small.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cargo_fuzz_version=0.13.2
tools="$root/target/tools"
target_dir="$root/target/fuzz"
ci=no
seconds=""
runs=""
toolchain=auto
sanitizer=none
targets=()

usage() {
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<EOF
Options:
  --ci                  format and clippy of fuzz/, every corpus replayed, then --seconds 30 a target
  --seconds N           fuzz each target for N seconds (default 600, 30 with --ci)
  --runs N              fuzz each target for N executions (with --seconds too: whichever ends first)
  --toolchain T         auto (nightly if rustup has it, else stable), nightly, or stable
                        (stable runs with RUSTC_BOOTSTRAP=1)
  --sanitizer S         none (default) or address
  TARGET...             the targets to run (default: every one in fuzz/Cargo.toml)
EOF
}

while (($#)); do
    case "$1" in
    --ci) ci=yes ;;
    --seconds) seconds="$2" && shift ;;
    --runs) runs="$2" && shift ;;
    --toolchain) toolchain="$2" && shift ;;
    --sanitizer) sanitizer="$2" && shift ;;
    -h | --help) usage && exit 0 ;;
    -*) echo "fuzz: unknown option '$1' (try --help)" >&2 && exit 2 ;;
    *) targets+=("$1") ;;
    esac
    shift
done
# (libFuzzer takes -max_total_time=0 for no limit.)
[[ -z "$seconds" || "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds takes a number over 0" >&2 && exit 2; }
[[ -z "$runs" || "$runs" =~ ^[0-9]+$ ]] || { echo "fuzz: --runs takes a number" >&2 && exit 2; }
[[ "$sanitizer" == none || "$sanitizer" == address ]] ||
    { echo "fuzz: --sanitizer is none or address, not '$sanitizer'" >&2 && exit 2; }
if [[ -z "$seconds" && -z "$runs" ]]; then
    if [[ "$ci" == yes ]]; then seconds=30; else seconds=600; fi
fi

# shellcheck source=lib/steps.sh
source "$root/scripts/lib/steps.sh"

# --- tools ---------------------------------------------------------------------------------------

export PATH="$tools/bin:$PATH"
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $cargo_fuzz_version\$"; then
    step "install cargo-fuzz $cargo_fuzz_version into target/tools"
    # A debug build: cargo-fuzz only drives cargo, and builds so in about 1 min here, not 4.
    cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked --debug --root "$tools"
fi

case "$toolchain" in
auto) if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then toolchain=nightly; else toolchain=stable; fi ;;
nightly | stable) ;;
*) echo "fuzz: --toolchain is auto, nightly or stable, not '$toolchain'" >&2 && exit 2 ;;
esac
if [[ "$toolchain" == nightly ]]; then
    export RUSTUP_TOOLCHAIN=nightly
else
    # Stable takes the -Z flags of the sanitizers only with RUSTC_BOOTSTRAP; cargo fuzz then
    # takes the compiler for a nightly one too.
    if command -v rustup >/dev/null; then export RUSTUP_TOOLCHAIN=stable; fi
    export RUSTC_BOOTSTRAP=1
fi
echo "fuzz: $(rustc --version), cargo-fuzz $cargo_fuzz_version, sanitizer $sanitizer${RUSTC_BOOTSTRAP:+, RUSTC_BOOTSTRAP=1}"

known=()
while read -r name; do known+=("$name"); done < <(cargo fuzz list --fuzz-dir fuzz)
((${#targets[@]})) || targets=("${known[@]}")
for target in "${targets[@]}"; do
    [[ " ${known[*]} " == *" $target "* ]] ||
        { echo "fuzz: no target '$target' (known: ${known[*]})" >&2 && exit 2; }
done

# --- checks and build ----------------------------------------------------------------------------

if [[ "$ci" == yes ]]; then
    step "cargo fmt --check (fuzz/)"
    cargo fmt --manifest-path fuzz/Cargo.toml -- --check
    step "cargo clippy -D warnings (fuzz/)"
    # Without libFuzzer's C++, which a check does not link (fuzz/Cargo.toml's default feature).
    CARGO_TARGET_DIR="$target_dir/lint-$toolchain" cargo clippy --manifest-path fuzz/Cargo.toml \
        --locked --all-targets --no-default-features --quiet -- -D warnings
fi

# -O: release, as libFuzzer wants speed; -a: debug assertions, so that an overflow panics. One
# build folder for each toolchain and sanitizer, so that switching does not rebuild.
build_flags=(--fuzz-dir fuzz --target-dir "$target_dir/$toolchain-$sanitizer" -O -a
    --sanitizer "$sanitizer")
step "cargo fuzz build (${targets[*]})"
for target in "${targets[@]}"; do
    cargo fuzz build "${build_flags[@]}" "$target"
done

# --- runs ----------------------------------------------------------------------------------------

logs="$target_dir/logs"
mkdir -p "$logs"
failed=()
summary=()

# Runs TARGET with the libFuzzer options that follow and its corpus directories first; logs to
# LOG. Fails, with the reproducer printed, when the target found a crash.
fuzz_run() {
    local target="$1" log="$2" && shift 2
    local options=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
    [[ -f "fuzz/dicts/$target.dict" ]] && options+=("-dict=fuzz/dicts/$target.dict")
    if cargo fuzz run "${build_flags[@]}" "$target" "$@" -- "${options[@]}" "${libfuzzer[@]}" \
        >"$log" 2>&1; then
        return 0
    fi
    local artifact
    artifact="$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | cut -d' ' -f5)"
    # What went wrong: a panic's message, or libFuzzer's or a sanitizer's verdict.
    grep -E -A3 'panicked at' "$log" | head -8 | sed 's/^/    /' || true
    grep -E '^(==[0-9]+== ?ERROR|SUMMARY)' "$log" | head -3 | sed 's/^/    /' || true
    echo "    FAILED: $target; full log $log"
    if [[ -n "$artifact" ]]; then
        echo "    reproducer: $artifact"
        echo "    replay it:  PATH=\"target/tools/bin:\$PATH\" ${RUSTC_BOOTSTRAP:+RUSTC_BOOTSTRAP=1 }cargo +$toolchain fuzz run ${build_flags[*]} $target $artifact"
    fi
    failed+=("$target")
    return 1
}

# The figures of a run, from libFuzzer's last status line and its final stats.
figures() {
    local log="$1" status execs rate rss
    status="$(grep -E '#[0-9]+.*cov: ' "$log" | tail -1 || true)"
    execs="$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" | tail -1 | awk '{print $2}' || true)"
    rate="$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | tail -1 | awk '{print $2}' || true)"
    rss="$(grep -oE 'stat::peak_rss_mb: +[0-9]+' "$log" | tail -1 | awk '{print $2}' || true)"
    printf '%s execs, %s exec/s, %s, peak RSS %s MB' "${execs:-?}" "${rate:-?}" \
        "$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$status" || echo 'no status')" \
        "${rss:-?}"
}

# The bytes of the inputs in a corpus folder.
corpus_bytes() { find "$1" -type f -printf '%s\n' | awk '{ sum += $1 } END { print sum + 0 }'; }

for target in "${targets[@]}"; do
    corpus="fuzz/corpus/$target"
    mkdir -p "$corpus"
    libfuzzer=()
    if [[ "$ci" == yes ]]; then
        step "$target: replay the corpus ($(find "$corpus" -type f | wc -l) inputs, $(corpus_bytes "$corpus") bytes)"
        libfuzzer=(-runs=0)
        if fuzz_run "$target" "$logs/$target-replay.log" "$corpus"; then
            echo "    $(figures "$logs/$target-replay.log")"
        else
            continue
        fi
        scratch="$target_dir/corpus-ci/$target"
        rm -rf "$scratch" && mkdir -p "$scratch"
        corpora=("$scratch" "$corpus")
    else
        corpora=("$corpus")
    fi
    libfuzzer=()
    [[ -n "$seconds" ]] && libfuzzer+=("-max_total_time=$seconds")
    [[ -n "$runs" ]] && libfuzzer+=("-runs=$runs")
    step "$target: fuzz (${libfuzzer[*]})"
    started=$SECONDS
    if fuzz_run "$target" "$logs/$target.log" "${corpora[@]}"; then
        line="$target: $(figures "$logs/$target.log"), $((SECONDS - started)) s, no crash"
        echo "    $line"
        summary+=("$line")
    else
        continue
    fi
    if [[ "$ci" == no ]]; then
        step "$target: minimize the corpus (cargo fuzz cmin)"
        libfuzzer=()
        # The fewest inputs that reach every edge the corpus reaches (set cover, edges without
        # their hit counts): a tenth of a plain cmin's inputs for the same coverage.
        cargo fuzz cmin "${build_flags[@]}" "$target" "$corpus" -- -set_cover_merge=1 \
            -use_counters=0 >"$logs/$target-cmin.log" 2>&1 ||
            { echo "    cmin FAILED, see $logs/$target-cmin.log" && failed+=("$target cmin"); }
        echo "    $corpus: $(find "$corpus" -type f | wc -l) inputs, $(corpus_bytes "$corpus") bytes;" \
            "$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$(grep INITED "$logs/$target.log" | tail -1)" || true) before"
    fi
done

end_step
printf '\n'
for line in "${summary[@]}"; do echo "fuzz: $line"; done
if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]} (reproducers above)"
    exit 1
fi
