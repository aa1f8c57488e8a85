"""The F5-TTS speed-up series (patches/series) against pristine F5-TTS 1.1.22.

Each side runs in its own subprocess importing f5_tts from its own tree (f5_harness.py), with a tiny
random CFM + DiT (dim 64, depth 2, heads 2, ff_mult 2, text_dim 32, conv_layers 2) and a tiny random
vocos vocoder, on the CPU. Waves are compared exactly unless a tolerance is stated. infer_batch_process'
thread pool gets one worker in the harness, on both sides, so that multi-batch calls draw their noise in
a fixed order and compare exactly too.
"""

import os

import pytest


pytestmark = pytest.mark.f5

# torch.compile (inductor) changes kernels: fused/reordered float32 arithmetic. Measured here: max |diff|
# about 1e-8 on waves of peak about 0.02; the bound leaves room for other CPUs and compilers.
COMPILE_ATOL = 1e-5
COMPILE_BACKEND = os.environ.get("F5QUILT_F5_COMPILE_BACKEND", "inductor")
# GraphSampler's padded, masked loop vs CFM.sample in fp32: only the summation order inside attention and the
# convolutions changes. Measured here: max |diff| about 1e-6 on mels of peak about 4.
SAMPLER_ATOL = 1e-5

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
        {"name": "ip_bytesio", "kind": "infer_process", "ref": ref["stereo"], "ref_as_bytesio": True, "nfe": NFE,
         "seed": SEED + 2},
        {"name": "ibp_two_batches", "kind": "infer_batch_process", "ref": ref["stereo"], "nfe": NFE,
         "batches": ["First part of the text.", "And the second part."]},
        {"name": "ip_mono_b", "kind": "infer_process", "ref": ref["mono_b"], "nfe": NFE, "seed": SEED},
        {"name": "ip_fixed_len", "kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED,
         "kwargs": {"fix_duration": 2.5}},
        {"name": "ip_other_len", "kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED,
         "gen_text": "A longer sentence, so that the call samples another number of frames."},
    ] + streaming_scenarios(ref) + [
        {"name": "api_default", "kind": "api", "calls": [
            {"ref": ref["mono"], "seed": SEED},
            {"ref": ref["mono"], "seed": SEED, "file_spec": str(ref["dir"] / "spec.png")},
        ]},
        {"name": "api_decode_only", "kind": "api", "decode_only_vocoder": True, "calls": [
            {"ref": ref["mono"], "seed": SEED},
        ]},
    ]


def streaming_scenarios(ref):
    """Streaming calls (upstream runs them in the calling thread): one of the warm-up's length (compile_for_inference
    warms up on 1 s of reference, "Warm up. " and an 18-byte text; other words of the same length here), one longer."""
    same = {"kind": "infer_batch_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED, "record_error": True,
            "kwargs": {"streaming": True, "chunk_size": 1024}}
    return [
        dict(same, name="st_warm_len", ref_text="Warm up. ", batches=["Here is a new one."]),
        dict(same, name="st_other_len", batches=["A longer sentence, so another number of frames is sampled."]),
    ]


@pytest.fixture(scope="session")
def pristine(f5_trees, f5_run, ref_wavs):
    return f5_run(f5_trees[0], common_scenarios(ref_wavs))


@pytest.fixture(scope="session")
def patched(f5_trees, f5_run, ref_wavs):
    ref = ref_wavs
    return f5_run(f5_trees[1], common_scenarios(ref) + [
        {"name": "ip_mono_again", "kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED},
        {"name": "voice_before", "kind": "infer_process", "ref": ref["voice"], "nfe": NFE, "seed": SEED},
        {"name": "voice_rewrite", "kind": "copy_keep_stat", "src": ref["mono_b"], "dst": ref["voice"]},
        {"name": "voice_after", "kind": "infer_process", "ref": ref["voice"], "nfe": NFE, "seed": SEED},
        {"name": "api_graphs_cpu", "kind": "api", "init": {"cuda_graphs": True},
         "calls": [{"ref": ref["mono"], "seed": SEED}]},
        {"name": "ip_graphs_cpu", "kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "seed": SEED,
         "kwargs": {"cuda_graphs": True}},
    ] + calling_thread_after_a_failure(ref))


def calling_thread_after_a_failure(ref):
    """07's CUDA branch forced on the CPU (one batch in the calling thread, kept for the rest of the process):
    a call raises in its second DiT pass, then calls of the same length (other text) and of another length."""
    same = {"kind": "infer_process", "ref": ref["mono"], "nfe": NFE, "force_calling_thread": True}
    return [
        dict(same, name="ct_fails", seed=SEED + 5, gen_text="Words the failed request had.",
             kwargs={"fix_duration": 2.5}, fail_at_forward=2),
        dict(same, name="ct_fixed_len", seed=SEED, kwargs={"fix_duration": 2.5}, record_error=True),
        dict(same, name="ct_other_len", seed=SEED, record_error=True,
             gen_text="A longer sentence, so that the call samples another number of frames."),
        dict(same, name="ct_mono", seed=SEED, record_error=True),
    ]


# --- the series leaves the default output alone ------------------------------------------------------------


@pytest.mark.parametrize("name", ["ip_mono", "ip_stereo", "ip_bytesio", "ibp_two_batches"])
def test_same_wave_and_spectrogram(pristine, patched, name):
    assert pristine[name]["sr"] == patched[name]["sr"] == 24000
    assert values(patched[name]["wave"]) == values(pristine[name]["wave"])
    assert pristine[name]["spec"] is not None
    assert values(patched[name]["spec"]) == values(pristine[name]["spec"])


def test_api_same_wave_and_spectrogram_by_default(pristine, patched):
    for call in ("call0", "call1"):
        assert values(patched["api_default"][call]["wave"]) == values(pristine["api_default"][call]["wave"])
        assert pristine["api_default"][call]["spec"] is not None
        assert values(patched["api_default"][call]["spec"]) == values(pristine["api_default"][call]["spec"])


def test_vocoder_with_only_decode(pristine, patched):
    # the repo's VocosTensorRT exposes decode() alone; F5TTS must keep working with it
    assert values(patched["api_decode_only"]["call0"]["wave"]) == values(pristine["api_decode_only"]["call0"]["wave"])


# --- 01 reference-audio tensor cache ---------------------------------------------------------------------


def test_cache_hit_on_second_call(patched):
    assert patched["ip_mono"]["loads"] == 1
    assert patched["ip_mono_again"]["loads"] == 0  # served from the cache: torchaudio.load not called
    assert values(patched["ip_mono_again"]["wave"]) == values(patched["ip_mono"]["wave"])


def test_cache_bypassed_for_file_like(patched):
    # a BytesIO reference is decoded every time (same wave as pristine, checked above) and never cached
    assert patched["ip_bytesio"]["loads"] == 1
    sizes = [patched[n]["cache_info"]["size"] for n in ("ip_mono", "ip_stereo", "ip_bytesio")]
    assert sizes == [1, 2, 2]


def test_reference_file_rewritten_between_calls_gives_the_new_voice(pristine, patched):
    # voice.wav holds mono's bytes, then mono_b's (same size, mtime put back): each call sounds as pristine on that file
    assert values(patched["voice_before"]["wave"]) == values(pristine["ip_mono"]["wave"])
    assert values(patched["voice_after"]["wave"]) == values(pristine["ip_mono_b"]["wave"])
    assert values(pristine["ip_mono_b"]["wave"]) != values(pristine["ip_mono"]["wave"])


def test_cache_entry_holds_the_bytes_that_were_hashed(f5_trees, f5_run, tmp_path):
    # a writer replaces the file after load_ref_audio hashed it and before it decoded it: the entry made under the
    # old content's key must hold the old content's audio (a re-read of the file would file the new audio there)
    a = str(tmp_path / "a.wav")
    res = f5_run(f5_trees[1], [
        {"name": "mk", "kind": "cache", "ops": [["touch", a, 0.5, 1]]},
        {"name": "c", "kind": "cache", "ops": [
            ["clear"], ["load", a],                                           # 0: content 1
            ["clear"], ["rewrite_during_next_load", a, 0.5, 2], ["load", a],  # 1: hashed 1, file now 2
            ["rewrite_same_stat", a, 0.5, 1], ["load", a], ["info"],           # 2, 3: content 1 again: a hit
            ["rewrite_same_stat", a, 0.5, 2], ["load", a], ["info"],           # 4, 5: content 2: a miss
        ]},
    ])
    ops = res["c"]["ops"]
    assert values(ops[1]["audio"]) == values(ops[0]["audio"])
    assert ops[3]["hits"] == 1 and values(ops[2]["audio"]) == values(ops[0]["audio"])
    assert ops[5]["misses"] == 2 and values(ops[4]["audio"]) != values(ops[0]["audio"])


def test_cache_keyed_on_content_and_bounded_by_bytes(f5_trees, f5_run, tmp_path):
    a, b, c = (str(tmp_path / f"{n}.wav") for n in "abc")
    one = 12000 * 4  # 0.5 s at 24 kHz, float32
    res = f5_run(f5_trees[1], [
        {"name": "mk", "kind": "cache", "ops": [["touch", a, 0.5, 1], ["touch", b, 0.5, 2], ["touch", c, 0.5, 3]]},
        {"name": "c", "kind": "cache", "ops": [
            ["clear"], ["bytes", 2 * one],
            ["load", a], ["load", a], ["info"],                          # 0, 1, 2: miss then hit
            ["load", b], ["load", c], ["info"],                          # 3, 4, 5: a evicted (2 clips fit)
            ["load", a], ["info"],                                       # 6, 7: miss again
            ["rewrite_same_stat", a, 0.5, 9], ["load", a], ["info"],     # 8, 9: same size and mtime, new content
            ["load_bytesio", b], ["info"],                               # 10, 11: file-like: loaded, not cached
            ["bytes", 0], ["clear"], ["load", b], ["load", b], ["info"],  # 12, 13, 14: 0 disables it
        ]},
    ])
    ops = res["c"]["ops"]
    assert ops[0]["audio"] == ops[1]["audio"] and ops[0]["id"] == ops[1]["id"]  # the same tensor object
    assert ops[2] == {"hits": 1, "misses": 1, "size": 1, "bytes": one, "maxbytes": 2 * one}
    assert ops[5] == {"hits": 1, "misses": 3, "size": 2, "bytes": 2 * one, "maxbytes": 2 * one}
    assert ops[7] == {"hits": 1, "misses": 4, "size": 2, "bytes": 2 * one, "maxbytes": 2 * one}
    assert values(ops[6]["audio"]) == values(ops[0]["audio"])  # same content reloaded after eviction
    # the rewrite kept size and mtime: a size+mtime key would serve the stale tensor, the content key does not
    assert ops[9] == {"hits": 1, "misses": 5, "size": 2, "bytes": 2 * one, "maxbytes": 2 * one}
    assert ops[8]["audio"]["shape"] == ops[6]["audio"]["shape"]
    assert values(ops[8]["audio"]) != values(ops[6]["audio"])
    assert values(ops[10]["audio"]) == values(ops[3]["audio"])  # BytesIO of b: same tensor content
    assert ops[11] == ops[9]  # and nothing cached or counted
    assert ops[14] == {"hits": 0, "misses": 0, "size": 0, "bytes": 0, "maxbytes": 0}
    assert res["c"]["loads"] == 8  # a, b, c, a, a (rewritten), BytesIO, b, b


# --- 04 torch.compile on the modules that run ------------------------------------------------------------


def test_compile_transformer_and_vocoder(f5_trees, f5_run, pristine, ref_wavs):
    r = f5_run(f5_trees[1], [{
        "name": "c", "kind": "api", "init": {"torch_compile": {"backend": COMPILE_BACKEND}},
        "calls": [
            {"ref": ref_wavs["mono"], "seed": SEED},
            {"ref": ref_wavs["mono"], "seed": SEED, "file_spec": str(ref_wavs["dir"] / "spec_c.png")},
            {"ref": ref_wavs["stereo"], "seed": SEED, "gen_text": "Another length, so another frame count."},
            {"ref": ref_wavs["mono"], "seed": SEED, "cfg_strength": 0},  # batch 1: one more variant
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
    assert r["call2"]["stats"]["stats"] == stats
    # documented recompile: cfg_strength=0 (batch 1) adds one variant of the DiT block, far from the limit
    assert r["call3"]["stats"]["stats"]["unique_graphs"] == 3
    assert r["transformer_blocks_compiled"] == [True, True]
    assert not r["stats"].get("graph_break")
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


def test_compile_failing_in_the_warmup_leaves_no_stale_text_cache(f5_trees, f5_run, pristine, ref_wavs):
    # the compile error shows inside the warm-up's sample(), after the DiT cached the warm-up's text in this thread:
    # the eager fallback must clear it, or streaming calls here (the calling thread) fail or speak the warm-up's text
    r = f5_run(f5_trees[1], [{"name": "boom", "kind": "compile_fails_in_warmup"}] + streaming_scenarios(ref_wavs))
    assert r["boom"]["compiled"] is False
    assert "compile failed (simulated)" in r["boom"]["messages"][-1]
    for name in ("st_warm_len", "st_other_len"):
        assert "error" not in r[name], r[name]["error"]
        assert r[name]["chunks"] > 1
        assert values(r[name]["wave"]) == values(pristine[name]["wave"]), name


def test_streaming_equals_pristine(pristine, patched):
    for name in ("st_warm_len", "st_other_len"):
        assert "error" not in pristine[name] and "error" not in patched[name]
        assert values(patched[name]["wave"]) == values(pristine[name]["wave"]), name


def test_compile_fallback_for_unexpected_vocoder_layout(f5_trees, f5_run, pristine, ref_wavs):
    # a vocoder without vocos' backbone: listing the modules raises inside the try, F5TTS runs eagerly
    r = f5_run(f5_trees[1], [
        {"name": "c", "kind": "api", "decode_only_vocoder": True, "init": {"torch_compile": True},
         "calls": [{"ref": ref_wavs["mono"], "seed": SEED}]},
    ])["c"]
    assert r["compiled"] is False
    assert not any(r["transformer_blocks_compiled"])
    assert values(r["call0"]["wave"]) == values(pristine["api_decode_only"]["call0"]["wave"])


@pytest.mark.parametrize("mode", ["reduce-overhead", "max-autotune"])
def test_compile_rejects_per_block_cuda_graphs(f5_trees, f5_run, mode):
    with pytest.raises(RuntimeError, match="ValueError.*records CUDA graphs per block"):
        f5_run(f5_trees[1], [{"name": "c", "kind": "api", "init": {"torch_compile": {"mode": mode}}}])


# --- 05 CUDA-graph sampler: the bucketed, masked loop equals CFM.sample ------------------------------------


def replay_cases():
    """One sampler, graphs on the CPU stand-in (f5_harness.graphs_on_cpu), bucket 64: what each call must do."""
    one = {"bucket": 64, "use_graphs": True, "new_sampler": False}
    return [
        dict(one, frames=100, new_sampler=True, expect="capture"),            # bucket 128
        dict(one, frames=120, seed=8, text="Other words, same bucket.", expect="replay"),
        dict(one, frames=100, seed=9, expect="replay"),
        dict(one, frames=200, expect="capture"),                              # bucket 256
        dict(one, frames=110, cfg=0.0, expect="capture"),                     # no CFG: another graph
        dict(one, frames=120, to_dtype="float64", expect="capture"),          # .half()/.float()/.to(): new weights
        dict(one, frames=120, seed=10, expect="replay"),
        dict(one, frames=120, reload_weights=True, expect="capture"),         # load_state_dict: same tensors
        dict(one, frames=120, edit_mask=True, expect="fallback"),             # sample()'s edit_mask: sample()
    ]


@pytest.fixture(scope="module")
def sampler_runs(f5_trees, f5_run):
    """GraphSampler against CFM.sample, in one subprocess of the patched tree."""
    cases = [{"frames": n, "bucket": b, "cfg": cfg}
             for n in (100, 150, 255, 300) for b in (64, 256) for cfg in (2.0, 0.0)]
    cases += [{"frames": 256, "bucket": 256}, {"frames": 128, "bucket": 64}, {"frames": 200, "bucket": 1}]
    return f5_run(f5_trees[1], [
        {"name": "bucketed", "kind": "sampler", "nfe": 6, "cases": cases},
        {"name": "control", "kind": "sampler", "nfe": 6, "cases": [
            {"frames": 150, "bucket": 256, "no_attention_mask": True}, {"frames": 150, "bucket": 256}]},
        {"name": "replay", "kind": "sampler", "nfe": 4, "cases": replay_cases()},
        {"name": "e2tts", "kind": "sampler", "nfe": 4, "backbone": "UNetT", "cases": [
            {"frames": 150, "bucket": 64}, {"frames": 150, "bucket": 64, "use_graphs": True}]},
        {"name": "threads", "kind": "sampler_threads"},
    ])


def test_graph_sampler_bucketed_loop_equals_cfm_sample(sampler_runs):
    r = sampler_runs["bucketed"]
    for c in r["cases"]:
        assert c["shape"] == c["ref_shape"] == [1, c["frames"], 100]
        assert c["traj_none"] and c["stats"]["eager"] == 1 and c["stats"]["fallback"] == 0
        assert c["peak"] > 1.0
        if c["frames"] % c["bucket"] == 0:  # no padding: the very same arithmetic
            assert c["maxdiff"] == 0.0, c
        else:
            assert c["maxdiff"] < SAMPLER_ATOL, c
    # the padding is masked by a key bias handed to attention, not by switching the processors' masking on for
    # every caller of the model while the sampler runs
    assert r["attn_mask_enabled_seen"] == [False]
    assert r["procs_after"] == [False, False]


def test_graph_sampler_needs_the_attention_mask(sampler_runs):
    # negative control: without masking padded keys in attention, padding changes the real frames
    unmasked, masked = sampler_runs["control"]["cases"]
    assert unmasked["maxdiff"] > 1000 * SAMPLER_ATOL
    assert masked["maxdiff"] < SAMPLER_ATOL


def test_graph_sampler_captures_replays_and_falls_back_as_documented(sampler_runs):
    before = {"captures": 0, "replays": 0, "eager": 0, "fallback": 0}
    for c in sampler_runs["replay"]["cases"]:
        after = c["stats"]
        step = {k: after[k] - before[k] for k in before}
        want = {"capture": {"captures": 1, "replays": 0, "eager": 1, "fallback": 0},
                "replay": {"captures": 0, "replays": 1, "eager": 0, "fallback": 0},
                "fallback": {"captures": 0, "replays": 0, "eager": 0, "fallback": 1}}[c["expect"]]
        assert step == want, c
        # each call's own inputs: a replay that reused the capture's noise, text or length would differ
        assert c["maxdiff"] < SAMPLER_ATOL, c
        if c["expect"] == "fallback":
            assert c["maxdiff"] == 0.0
        before = after
    cases = sampler_runs["replay"]["cases"]
    assert [c["dtype"] for c in cases[5:]] == ["torch.float64"] * 4
    assert cases[5]["graphs"] == 1  # the fp32 graphs were dropped with the fp32 weights


def test_graph_sampler_falls_back_for_e2tts(sampler_runs):
    # E2TTS's UNetT is not a DiT: sample() runs unchanged, with the bucketed loop asked for and with graphs
    for c in sampler_runs["e2tts"]["cases"]:
        assert c["maxdiff"] == 0.0 and c["stats"]["fallback"] >= 1 and c["stats"]["eager"] == 0, c
        assert c["unsupported"].startswith("UNetT is not a DiT"), c["unsupported"]


def test_graph_sampler_two_threads_one_model(sampler_runs):
    r = sampler_runs["threads"]
    assert r["errors"] == []
    assert r["calls"] == 12
    assert r["stats"]["captures"] == 2 and r["stats"]["replays"] == 10  # buckets 128 and 192
    assert r["maxdiff"] < SAMPLER_ATOL


def test_graph_sampler_falls_back_to_cfm_sample_off_cuda(pristine, patched):
    # cuda_graphs=True on the CPU: model.sample() runs unchanged
    assert values(patched["api_graphs_cpu"]["call0"]["wave"]) == values(pristine["api_default"]["call0"]["wave"])
    assert values(patched["ip_graphs_cpu"]["wave"]) == values(pristine["ip_mono"]["wave"])
    assert patched["ip_graphs_cpu"]["sampler_stats"] == {"captures": 0, "replays": 0, "eager": 0, "fallback": 1}


# --- 06 half-precision depthwise conv in fp32 ------------------------------------------------------------


def test_text_convnext_depthwise_conv_runs_in_fp32(f5_trees, f5_run):
    p = f5_run(f5_trees[0], [{"name": "b", "kind": "convnext_half"}])["b"]
    q = f5_run(f5_trees[1], [{"name": "b", "kind": "convnext_half"}])["b"]
    assert p["conv_input_dtypes"] == ["torch.bfloat16", "torch.float32"]  # pristine: the conv in bf16
    assert q["conv_input_dtypes"] == ["torch.float32", "torch.float32"]  # patched: in fp32
    # the claim: the conv is computed in fp32 and rounded once to the half dtype, so it is at most 1 ulp of that
    # dtype from the exact conv of the same (half) inputs and weights
    for name in ("fp16", "bf16"):
        assert q[f"conv_dtype_{name}"] == {"fp16": "torch.float16", "bf16": "torch.bfloat16"}[name]
        assert q[f"conv_ulps_{name}"] <= 1.0, (name, q[f"conv_ulps_{name}"])
    # (measured on this CPU: 0.4998 ulp fp16, 0.5 ulp bf16, as pristine's CPU half conv, which accumulates in fp32
    # too: on the CPU the dtype the conv receives, above, is what tells the two apart)


# --- 07 one batch on CUDA in the calling thread ------------------------------------------------------------


def test_calling_thread_executor_runs_in_the_caller_and_defers_exceptions(f5_trees, f5_run):
    r = f5_run(f5_trees[1], [{"name": "x", "kind": "calling_thread_executor"},
                             {"name": "d", "kind": "calling_thread_decision"}])
    q = r["x"]
    assert {k: q[k] for k in ("same_thread", "done_at_submit", "raised")} == {
        "same_thread": True, "done_at_submit": True, "raised": "ZeroDivisionError"}
    # which calls take that path: one batch on a CUDA device, decided from the device (so testable on the CPU)
    assert {k: v for k, v in r["d"].items() if k != "stats"} == {
        "cuda_1": True, "cuda_2": False, "cpu_1": False, "cuda0_1": True}


def test_failed_call_in_the_calling_thread_leaves_no_stale_text_cache(pristine, patched):
    # CFM.sample clears the DiT's per-thread text cache in a finally: after a call that raised mid-sample, a call of
    # the same length does not get the failed request's text and a call of another length does not raise
    assert patched["ct_fails"]["raised"] == "forward call 2 failed (simulated)"
    for name, twin in (("ct_fixed_len", "ip_fixed_len"), ("ct_other_len", "ip_other_len"), ("ct_mono", "ip_mono")):
        assert "error" not in patched[name], (name, patched[name].get("error"))
        assert patched[name]["pools"] == 0, name  # it ran in the calling thread
        assert values(patched[name]["wave"]) == values(pristine[twin]["wave"]), name
        assert values(patched[name]["spec"]) == values(pristine[twin]["spec"]), name
    assert patched["ip_fixed_len"]["wave"]["shape"] != patched["ip_other_len"]["wave"]["shape"]


def test_cpu_and_multi_batch_calls_keep_their_thread_pool(pristine, patched):
    # on the CPU (and for more than one batch anywhere) infer_batch_process makes its pool as upstream does
    for name in ("ip_mono", "ibp_two_batches"):
        assert pristine[name]["pools"] == 1, name
        assert patched[name]["pools"] == 1, name
