#!/usr/bin/env bash
# The first thing a session with a GPU runs (under 5 minutes on an H100/H200): the payload's paths on CUDA, then the
# benchmark with varying lengths, twice, so the spread between runs is seen.
#
#   bash benchmarks/gpu_smoke.sh            # from the repository root, on the device machine
#   SMOKE_DRY=1 bash benchmarks/gpu_smoke.sh   # print the commands only (what a CPU session can check)
#
# 1. CUDA equivalence: the f5 tests (tests/f5, tiny random models) with the harness on CUDA
#    (F5_HARNESS_DEVICE=cuda): every path of the series against pristine on the GPU: defaults (01, 06, 07: 07's
#    one-batch-in-the-calling-thread branch really taken), a call failing mid-sample then calls of the same and of
#    other lengths, streaming, 04's compile and its warm-up failure, 05's real CUDA graphs (capture, replay with new
#    inputs, a dtype change, reloaded weights, edit_mask, E2TTS fallback, two threads on their own CUDA streams).
#    Deselected: the two tests that assert the CPU's own behaviour (05 falling back off CUDA, the CPU's thread pool).
#    Exact-equality assertions may fail on CUDA where a kernel is not deterministic from process to process: read the
#    failure (the size of the difference) before calling it a defect.
# 2. benchmarks/f5_rtf.py --steps final --vary-lengths (F5TTS_v1_Base, fp16 as load_checkpoint casts it, NFE 16,
#    3 and 10 s, every call a length of its own), run twice (run 1 and run 2 are printed apart: the spread between
#    them is part of the result); SMOKE_EPSS=1 adds the EPSS 7-step opt-in (--nfe 7) once (past the 5 minutes).
# Each part has its own time limit (SMOKE_TEST_S, SMOKE_BENCH_S) so the script ends within the device's 10 minutes
# per command even when a part hangs.
#
# Needs on the device machine: the F5 stack (torch with CUDA, vocos, torchdiffeq, soundfile, ... see
# docs/payload.md "To run it on a machine with a GPU"), pytest, pyyaml and click (f5quilt builds the patched tree),
# the sdist in $F5QUILT_CACHE/sdist. Wheels carried in .whl/ are installed into /tmp/site first.
set -u
cd "$(dirname "$0")/.."
PY=${F5_PYTHON:-python3}
OUT=${OUT:-/tmp/gpu_smoke}
SMOKE_TEST_S=${SMOKE_TEST_S:-100}
SMOKE_BENCH_S=${SMOKE_BENCH_S:-90}
export F5QUILT_CACHE=${F5QUILT_CACHE:-$PWD/.cache}
run() {  # run LIMIT_S CMD...: print it, run it (unless SMOKE_DRY), never stop the script
    local limit=$1; shift
    echo "+ [${limit}s] $*"
    [ -n "${SMOKE_DRY:-}" ] && return 0
    local t0=$SECONDS
    timeout "$limit" "$@"
    local rc=$?
    echo "  -> rc $rc in $((SECONDS - t0)) s"
    return 0
}

if [ -z "${SMOKE_DRY:-}" ]; then
    mkdir -p "$OUT"
    if compgen -G ".whl/*.whl" >/dev/null && [ ! -d /tmp/site ]; then
        "$PY" -m pip install -q --no-deps --target /tmp/site .whl/*.whl
    fi
    [ -d /tmp/site ] && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    "$PY" - <<'EOF' || { echo "no CUDA device or F5 stack: stopping"; exit 2; }
import torch, vocos, torchdiffeq, soundfile, pytest, yaml, click  # noqa: F401
assert torch.cuda.is_available(), "torch sees no CUDA device"
print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__, "cudnn", torch.backends.cudnn.version())
EOF
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}

echo "== 1. CUDA equivalence of every path (tests/f5 with the harness on CUDA)"
F5_HARNESS_DEVICE=cuda F5QUILT_F5_PYTHON=$PY F5QUILT_REQUIRE_F5=1 \
    run "$SMOKE_TEST_S" "$PY" -m pytest -q -p no:cacheprovider -m f5 tests/f5 -rfE \
    -k "not falls_back_to_cfm_sample_off_cuda and not keep_their_thread_pool"

echo "== 2. benchmark, varying lengths, two runs (RTF = median of the calls' RTFs; min/max = spread within a run)"
for i in 1 2; do
    run "$SMOKE_BENCH_S" "$PY" benchmarks/f5_rtf.py --steps final --vary-lengths --seconds 3 10 \
        --resample-seconds --runs 4 --warmup 1 --phase-runs 0 --json "$OUT/final_run$i.json"
done
if [ -n "${SMOKE_EPSS:-}" ]; then
    echo "== 3. EPSS 7 steps with 05 (opt-in; NFE 16 stays the headline)"
    run "$SMOKE_BENCH_S" "$PY" benchmarks/f5_rtf.py --steps final --vary-lengths --nfe 7 --seconds 10 \
        --resample-seconds --runs 4 --warmup 1 --phase-runs 0 --json "$OUT/final_nfe7.json"
fi
