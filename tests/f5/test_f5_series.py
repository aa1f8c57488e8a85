"""The F5-TTS speed-up series (patches/series) against pristine F5-TTS 1.1.22.

Each side runs in its own subprocess importing f5_tts from its own tree (f5_harness.py), with a tiny
random CFM + DiT (dim 64, depth 2, heads 2, ff_mult 2, text_dim 32, conv_layers 2) and a tiny random
vocos vocoder, on the CPU. Waves are compared exactly unless a tolerance is stated.
"""

import os

import pytest


pytestmark = pytest.mark.f5

# torch.compile (inductor) changes kernels: fused/reordered float32 arithmetic. Measured here: max |diff|
# about 1e-8 on waves of peak about 0.02; the bound leaves room for other CPUs and compilers.
COMPILE_ATOL = 1e-5
COMPILE_BACKEND = os.environ.get("F5QUILT_F5_COMPILE_BACKEND", "inductor")

SEED = 1234
NFE = 4


def values(t):
    return None if t is None else t["data"]


def max_abs_diff(a, b):
    assert a["shape"] == b["shape"], (a["shape"], b["shape"])
    return max((abs(x - y) for x, y in zip(a["data"], b["data"])), default=0.0)


def common_scenarios(ref):
    """Scenarios that run unchanged on both trees."""
    return [
        {"name": "ip_mono", "kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED},
        {"name": "ip_stereo", "kind": "infer_process", "ref": ref["stereo"], "nfe": NFE, "seed": SEED + 1,
         "gen_text": "The quick brown fox jumps over the lazy dog."},
        {"name": "ibp_two_batches", "kind": "infer_batch_process", "ref": ref["stereo"], "nfe": NFE,
         "batches": ["First part of the text.", "And the second part."]},
        {"name": "api_default", "kind": "api", "calls": [
            {"ref": ref["mono"], "seed": SEED},
            {"ref": ref["mono"], "seed": SEED, "file_spec": str(ref["dir"] / "spec.png")},
        ]},
    ]


@pytest.fixture(scope="session")
def pristine(f5_trees, f5_run, ref_wavs):
    return f5_run(f5_trees[0], common_scenarios(ref_wavs))


@pytest.fixture(scope="session")
def patched(f5_trees, f5_run, ref_wavs):
    ref = ref_wavs
    return f5_run(f5_trees[1], common_scenarios(ref) + [
        {"name": "ip_mono_again", "kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED},
        {"name": "ip_skip", "kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED,
         "kwargs": {"skip_spectrogram": True}},
        {"name": "ip_no_amp", "kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED,
         "kwargs": {"mixed_precision": False}},
        {"name": "ibp_two_batches_skip", "kind": "infer_batch_process", "ref": ref["stereo"], "nfe": NFE,
         "batches": ["First part of the text.", "And the second part."], "kwargs": {"skip_spectrogram": True}},
        {"name": "api_no_amp", "kind": "api", "init": {"mixed_precision": False},
         "calls": [{"ref": ref["mono"], "seed": SEED}]},
        {"name": "autocast", "kind": "autocast_dtype", "cases": [
            {"device": "cpu"},
            {"device": "mps"},
            {"device": None},
            {"device": "cuda", "cap": [9, 0], "bf16": True, "name": "NVIDIA H100"},
            {"device": "cuda:1", "cap": [8, 6], "bf16": True, "name": "NVIDIA GeForce RTX 3090"},
            {"device": "cuda", "cap": [8, 0], "bf16": False, "name": "NVIDIA A100"},
            {"device": "cuda", "cap": [7, 5], "bf16": True, "name": "Tesla T4"},
            {"device": "cuda", "cap": [7, 0], "bf16": False, "name": "Tesla V100"},
            {"device": "cuda", "cap": [6, 1], "bf16": False, "name": "NVIDIA GeForce GTX 1080"},
            {"device": "cuda", "cap": [8, 6], "bf16": True, "name": "AMD Radeon RX 7900 XTX [ZLUDA]"},
        ]},
    ])


# --- the series leaves the output alone -------------------------------------------------------------


@pytest.mark.parametrize("name", ["ip_mono", "ip_stereo"])
def test_infer_process_same_wave_and_spectrogram(pristine, patched, name):
    assert pristine[name]["sr"] == patched[name]["sr"] == 24000
    assert values(patched[name]["wave"]) == values(pristine[name]["wave"])
    assert values(patched[name]["spec"]) == values(pristine[name]["spec"])


def test_infer_batch_process_two_batches(pristine, patched):
    # the batches run in worker threads that share torch's global RNG, so only shapes are deterministic
    p, q = pristine["ibp_two_batches"], patched["ibp_two_batches"]
    assert p["wave"]["shape"] == q["wave"]["shape"]
    assert p["spec"]["shape"] == q["spec"]["shape"]


def test_api_same_wave(pristine, patched):
    for call in ("call0", "call1"):
        assert values(patched["api_default"][call]["wave"]) == values(pristine["api_default"][call]["wave"])


# --- 01 reference-audio tensor cache -------------------------------------------------------------------


def test_cache_hit_on_second_call(patched):
    assert patched["ip_mono"]["loads"] == 1
    assert patched["ip_mono_again"]["loads"] == 0  # served from the cache: torchaudio.load not called
    assert values(patched["ip_mono_again"]["wave"]) == values(patched["ip_mono"]["wave"])


def test_cache_identical_bounded_and_keyed_on_file(f5_trees, f5_run, ref_wavs, tmp_path):
    a, b, c = (str(tmp_path / f"{n}.wav") for n in "abc")
    res = f5_run(f5_trees[1], [
        {"name": "mk", "kind": "cache", "ops": [["touch", a, 0.5, 1], ["touch", b, 0.6, 2], ["touch", c, 0.7, 3]]},
        {"name": "c", "kind": "cache", "ops": [
            ["clear"], ["size", 2],
            ["load", a], ["load", a], ["info"],                   # 0, 1, 2: miss then hit
            ["load", b], ["load", c], ["info"],                   # 3, 4, 5: a evicted (LRU of 2)
            ["load", a], ["info"],                                # 6, 7: miss again
            ["touch", a, 0.8, 4], ["load", a], ["info"],          # 8, 9: rewritten file: new key, new tensor
            ["size", 0], ["clear"], ["load", b], ["load", b], ["info"],  # 10, 11, 12: size 0 disables it
        ]},
    ])
    ops = res["c"]["ops"]
    assert ops[0]["audio"] == ops[1]["audio"] and ops[0]["id"] == ops[1]["id"]  # the same tensor object
    assert ops[2] == {"hits": 1, "misses": 1, "size": 1, "maxsize": 2}
    assert ops[5] == {"hits": 1, "misses": 3, "size": 2, "maxsize": 2}
    assert ops[7] == {"hits": 1, "misses": 4, "size": 2, "maxsize": 2}
    assert values(ops[6]["audio"]) == values(ops[0]["audio"])  # same content reloaded after eviction
    assert ops[8]["audio"]["shape"] != ops[6]["audio"]["shape"]  # 0.8 s clip now
    assert abs(ops[8]["duration"] - 0.8) < 1e-9
    assert ops[9] == {"hits": 1, "misses": 5, "size": 2, "maxsize": 2}
    assert ops[12] == {"hits": 0, "misses": 2, "size": 0, "maxsize": 0}


# --- 02 mixed precision --------------------------------------------------------------------------------


def test_mixed_precision_changes_nothing_on_cpu(pristine, patched):
    want = values(pristine["ip_mono"]["wave"])
    assert values(patched["ip_mono"]["wave"]) == want  # default: on
    assert values(patched["ip_no_amp"]["wave"]) == want  # opt-out
    assert values(patched["api_no_amp"]["call0"]["wave"]) == values(pristine["api_default"]["call0"]["wave"])


def test_autocast_dtype_selection(patched):
    assert patched["autocast"]["dtypes"] == [
        "None", "None", "None",
        "torch.bfloat16", "torch.bfloat16",
        "torch.float16", "torch.float16", "torch.float16",
        "None", "None",
    ]


# --- 03 skip the spectrogram nobody asked for ----------------------------------------------------------


def test_skip_spectrogram(pristine, patched):
    assert patched["ip_skip"]["spec"] is None
    assert values(patched["ip_skip"]["wave"]) == values(pristine["ip_mono"]["wave"])
    assert patched["ibp_two_batches_skip"]["spec"] is None
    assert patched["ibp_two_batches_skip"]["wave"]["shape"] == pristine["ibp_two_batches"]["wave"]["shape"]


def test_api_spectrogram_only_when_asked(pristine, patched):
    # no file_spec: the patched F5TTS.infer skips the spectrogram, the wave is unchanged
    assert pristine["api_default"]["call0"]["spec"] is not None
    assert patched["api_default"]["call0"]["spec"] is None
    # file_spec given: the spectrogram is produced, as before
    assert values(patched["api_default"]["call1"]["spec"]) == values(pristine["api_default"]["call1"]["spec"])


# --- 04 torch.compile on the modules that run ----------------------------------------------------------


def test_compile_wrapper_method_runs_eagerly(f5_trees, f5_run):
    r = f5_run(f5_trees[1], [{"name": "demo", "kind": "wrapper_demo", "backend": "eager"}])["demo"]
    assert r["wrapper_sample"] == {}  # torch.compile(m).sample(x): nothing compiled
    assert r["wrapper_equal"]
    assert r["wrapper_forward"].get("unique_graphs", 0) == 1  # only forward is compiled
    assert r["submodule_sample"].get("unique_graphs", 0) >= 1  # compiling the submodule that runs does compile
    assert r["submodule_maxdiff"] < 1e-6


def test_compile_transformer_and_vocoder(f5_trees, f5_run, pristine, ref_wavs):
    r = f5_run(f5_trees[1], [{
        "name": "c", "kind": "api", "init": {"torch_compile": {"backend": COMPILE_BACKEND}},
        "calls": [
            {"ref": ref_wavs["mono"], "seed": SEED},
            {"ref": ref_wavs["mono"], "seed": SEED, "file_spec": str(ref_wavs["dir"] / "spec_c.png")},
            {"ref": ref_wavs["stereo"], "seed": SEED, "gen_text": "Another length, so another frame count."},
        ],
    }])["c"]
    assert r["compiled"] is True
    assert r["transformer_blocks_compiled"] == [True, True]
    assert r["vocoder_blocks_compiled"] == [True, True]
    stats = r["stats_after_init"]["stats"]
    # compiled during the warm-up: one graph shared by the DiT blocks, one by the vocos ConvNeXt blocks
    assert stats["unique_graphs"] == 2
    assert not r["stats_after_init"].get("graph_break")
    # dynamic shapes: new lengths after warm-up compile nothing more
    assert r["stats"]["stats"] == stats
    for call in ("call0", "call1"):
        assert max_abs_diff(r[call]["wave"], pristine["api_default"][call]["wave"]) < COMPILE_ATOL
    assert max_abs_diff(r["call1"]["spec"], pristine["api_default"]["call1"]["spec"]) < COMPILE_ATOL * 100


def test_compile_fallback_when_torch_compile_raises(f5_trees, f5_run, pristine, ref_wavs):
    r = f5_run(f5_trees[1], [
        {"name": "boom", "kind": "monkeypatch_compile_raises"},
        {"name": "c", "kind": "api", "init": {"torch_compile": True},
         "calls": [{"ref": ref_wavs["mono"], "seed": SEED}]},
    ])["c"]
    assert r["compiled"] is False
    assert not any(r["transformer_blocks_compiled"]) and not any(r["vocoder_blocks_compiled"])
    assert r["stats"] == {}
    assert values(r["call0"]["wave"]) == values(pristine["api_default"]["call0"]["wave"])
