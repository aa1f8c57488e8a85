"""Run F5-TTS scenarios from one source tree in this process and save the results.

Usage: python f5_harness.py TREE JOB.json OUT.json

TREE is an F5-TTS tree (pristine or patched); its src/ goes first on sys.path, so the
f5_tts imported here is that tree's, never site-packages'. JOB.json is a list of scenarios
(dicts, see run_scenario); OUT.json gets {name: result dict}, tensors as
{"shape": [...], "data": [...]} (floats written with repr, so they compare exactly).

The models are tiny and random (same classes as F5TTS_v1_Base: CFM + DiT, vocos vocoder):
nothing is downloaded. torchaudio.load is replaced by a soundfile reader that counts its calls
(torchaudio >= 2.9 loads through torchcodec, which needs FFmpeg's shared libraries).
"""

import json
import os
import sys
import time


TREE = os.path.abspath(sys.argv[1]) if __name__ == "__main__" else None
if TREE:
    sys.path.insert(0, os.path.join(TREE, "src"))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
import torchaudio  # noqa: E402


LOAD_CALLS = {"n": 0}


REWRITE_ON_LOAD = []  # (path, seconds, seed): rewrite that file when the next load starts (a writer racing a reader)


def _sf_load(path, *args, **kwargs):
    LOAD_CALLS["n"] += 1
    while REWRITE_ON_LOAD:
        target, seconds, seed = REWRITE_ON_LOAD.pop()
        write_ref_wav(target, seconds=seconds, seed=seed)
    src = path if hasattr(path, "read") else str(path)  # file-like objects, as torchaudio.load takes them
    data, sr = sf.read(src, dtype="float32", always_2d=True)
    return torch.from_numpy(np.ascontiguousarray(data.T)), sr


torchaudio.load = _sf_load

# F5_HARNESS_DEVICE=cuda runs the same scenarios on a GPU (benchmarks/gpu_smoke.sh); the tests' default is the CPU
DEVICE = os.environ.get("F5_HARNESS_DEVICE", "cpu")

TINY = dict(dim=64, depth=2, heads=2, ff_mult=2, text_dim=32, conv_layers=2)
TINY_VOCOS = dict(dim=64, intermediate_dim=128, num_layers=2)
# charactr/vocos-mel-24khz config.yaml
BASE_VOCOS = dict(dim=512, intermediate_dim=1536, num_layers=8)


def randomize_(module, seed, scale=0.05):
    """Random weights (DiT zero-inits its output layers, which would make the flow zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)
    return module


TINY_UNETT = dict(dim=64, depth=2, heads=2, dim_head=32, ff_mult=2, text_dim=32, conv_layers=0, pe_attn_head=1)


def build_model(arch=None, seed=0, ckpt=None, device=None, backbone="DiT"):
    from importlib.resources import files

    from f5_tts.model import CFM, DiT, UNetT
    from f5_tts.model.utils import get_tokenizer

    device = device or DEVICE
    arch = dict(TINY if arch is None else arch)
    vocab_file = str(files("f5_tts").joinpath("infer/examples/vocab.txt"))
    if ckpt:
        from f5_tts.infer.utils_infer import load_model

        return load_model(DiT, arch, ckpt, mel_spec_type="vocos", vocab_file=vocab_file, device=device)
    vocab_char_map, vocab_size = get_tokenizer(vocab_file, "custom")
    torch.manual_seed(seed)
    model = CFM(
        transformer=(UNetT if backbone == "UNetT" else DiT)(**arch, text_num_embeds=vocab_size, mel_dim=100),
        mel_spec_kwargs=dict(
            n_fft=1024,
            hop_length=256,
            win_length=1024,
            n_mel_channels=100,
            target_sample_rate=24000,
            mel_spec_type="vocos",
        ),
        odeint_kwargs=dict(method="euler"),
        vocab_char_map=vocab_char_map,
    )
    randomize_(model, seed)
    return model.eval().to(device)


def build_vocoder(cfg=None, seed=1, device=None):
    from vocos import Vocos
    from vocos.feature_extractors import MelSpectrogramFeatures
    from vocos.heads import ISTFTHead
    from vocos.models import VocosBackbone

    device = device or DEVICE
    cfg = dict(TINY_VOCOS if cfg is None else cfg)
    torch.manual_seed(seed)
    voc = Vocos(
        feature_extractor=MelSpectrogramFeatures(
            sample_rate=24000, n_fft=1024, hop_length=256, n_mels=100, padding="center"
        ),
        backbone=VocosBackbone(input_channels=100, **cfg),
        head=ISTFTHead(dim=cfg["dim"], n_fft=1024, hop_length=256, padding="center"),
    )
    return voc.eval().to(device)


def write_ref_wav(path, seconds=1.0, sr=24000, seed=0, channels=1, amp=0.02):
    """A quiet (rms below target_rms, so the rms path runs) tone plus noise."""
    rng = np.random.RandomState(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = amp * np.sin(2 * np.pi * 220 * t) + amp * 0.3 * rng.randn(t.size)
    x = np.stack([x * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)
    sf.write(str(path), x, sr)
    return str(path)


def _to_tensor(x):
    if x is None:
        return None
    return torch.as_tensor(np.asarray(x)).clone()


def _jsonable(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return {"shape": list(x.shape), "dtype": str(x.dtype), "data": x.double().flatten().tolist()}
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def _nullcontext():
    import contextlib

    return contextlib.nullcontext()


def dynamo_stats():
    from torch._dynamo.utils import counters

    return {k: dict(v) for k, v in counters.items() if k in ("stats", "graph_break")}


class DecodeOnlyVocoder:
    """A vocoder that only has decode(), as the repo's VocosTensorRT."""

    def __init__(self, voc):
        self._voc = voc

    def decode(self, mel):
        return self._voc.decode(mel)


class SimulatedFailure(RuntimeError):
    pass


def failing_forward(module, n):
    """Context: module's nth forward call raises SimulatedFailure (once), as an out-of-memory error mid-sample would."""
    import contextlib

    @contextlib.contextmanager
    def ctx():
        real, calls = module.forward, [0]

        def forward(*a, **k):
            calls[0] += 1
            if calls[0] == n:
                raise SimulatedFailure(f"forward call {n} failed (simulated)")
            return real(*a, **k)

        module.forward = forward
        try:
            yield
        finally:
            del module.forward

    return ctx()


def graphs_on_cpu(sampler):
    """GraphSampler's graph path on the CPU: a stand-in for torch.cuda.CUDAGraph whose replay() runs the loop on the
    static buffers, so the capture/replay logic (keys, copying each call's inputs in, LRU) runs without a GPU."""
    import types

    def record(static, cfg_strength):
        static["out"] = sampler._loop(static, cfg_strength)
        return types.SimpleNamespace(replay=lambda: static["out"].copy_(sampler._loop(static, cfg_strength)))

    sampler.graphs_enabled = lambda device: sampler.disabled_reason is None
    sampler._warm_up = sampler._loop
    sampler._record = record
    return sampler


POOLS = {"n": 0}  # thread pools infer_batch_process made


def _sequential_executor(U):
    """infer_batch_process runs batches in a thread pool that shares torch's RNG: one worker makes it deterministic."""
    from concurrent.futures import ThreadPoolExecutor

    def one_worker(*a, **k):
        POOLS["n"] += 1
        return ThreadPoolExecutor(max_workers=1)

    U.ThreadPoolExecutor = one_worker


def run_scenario(sc, state):
    import f5_tts.infer.utils_infer as U

    _sequential_executor(U)
    kind = sc["kind"]
    noop = lambda *a, **k: None  # noqa: E731
    out = {}
    if kind == "infer_process":
        model, voc = state["model"], state["vocoder"]
        kwargs = dict(sc.get("kwargs", {}))
        torch.manual_seed(sc.get("seed", 0))
        before, pools_before = LOAD_CALLS["n"], POOLS["n"]
        t0 = time.perf_counter()
        ref = sc["ref"]
        if sc.get("ref_as_bytesio"):
            import io

            ref = io.BytesIO(open(ref, "rb").read())
        if sc.get("force_calling_thread"):  # patched tree: the branch a one-batch CUDA call takes (07)
            U._in_calling_thread = lambda n_batches, device: n_batches == 1
        call = lambda: U.infer_process(  # noqa: E731
            ref,
            sc.get("ref_text", "A short reference. "),
            sc.get("gen_text", "Hello there."),
            model,
            voc,
            show_info=noop,
            progress=None,
            nfe_step=sc.get("nfe", 4),
            device=DEVICE,
            **kwargs,
        )
        if sc.get("fail_at_forward"):  # the DiT raises in its Nth forward pass of this call (an OOM, a Ctrl-C)
            with failing_forward(model.transformer, sc["fail_at_forward"]):
                try:
                    call()
                except SimulatedFailure as exc:
                    out.update(raised=str(exc), loads=LOAD_CALLS["n"] - before)
                    return out
            raise AssertionError("the call did not raise")
        try:
            wav, sr, spec = call()
        except Exception as exc:
            if not sc.get("record_error"):
                raise
            out.update(error=f"{type(exc).__name__}: {exc}"[:300])
            return out
        out.update(
            wave=_to_tensor(wav), sr=sr, spec=_to_tensor(spec), loads=LOAD_CALLS["n"] - before,
            seconds=time.perf_counter() - t0, pools=POOLS["n"] - pools_before,
        )
        if hasattr(U, "ref_audio_tensor_cache_info"):
            out["cache_info"] = U.ref_audio_tensor_cache_info()
        sampler = model.__dict__.get("_f5_graph_sampler")
        if sampler is not None:
            out["sampler_stats"] = dict(sampler.stats)
    elif kind == "infer_batch_process":
        model, voc = state["model"], state["vocoder"]
        audio, sr = _sf_load(sc["ref"])
        kwargs = dict(sc.get("kwargs", {}))
        torch.manual_seed(sc.get("seed", 0))
        pools_before = POOLS["n"]
        gen = U.infer_batch_process(
            (audio, sr),
            sc.get("ref_text", "A short reference. "),
            sc["batches"],
            model,
            voc,
            progress=None,
            nfe_step=sc.get("nfe", 4),
            device=DEVICE,
            **kwargs,
        )
        try:
            if kwargs.get("streaming"):  # chunks of (wave, sr), in the calling thread
                chunks = list(gen)
                wav, sr, spec = np.concatenate([c for c, _ in chunks]), chunks[0][1], None
                out["chunks"] = len(chunks)
            else:
                wav, sr, spec = next(gen)
        except Exception as exc:
            if not sc.get("record_error"):
                raise
            out.update(error=f"{type(exc).__name__}: {exc}"[:300])
            return out
        out.update(wave=_to_tensor(wav), sr=sr, spec=_to_tensor(spec), pools=POOLS["n"] - pools_before)
    elif kind == "api":
        # the real F5TTS class, with load_model/load_vocoder stubbed to hand over the tiny random models
        import f5_tts.api as api

        if sc.get("decode_only_vocoder"):
            api.load_vocoder = lambda *a, **k: DecodeOnlyVocoder(build_vocoder())
        else:
            api.load_vocoder = lambda *a, **k: build_vocoder()
        api.load_model = lambda *a, **k: build_model()
        t0 = time.perf_counter()
        tts = api.F5TTS(ckpt_file="unused", device=DEVICE, **sc.get("init", {}))
        out["init_seconds"] = time.perf_counter() - t0
        out["compiled"] = getattr(tts, "compiled", None)
        compiled = lambda mods: [getattr(m, "_compiled_call_impl", None) is not None for m in mods]  # noqa: E731
        out["transformer_blocks_compiled"] = compiled(tts.ema_model.transformer.transformer_blocks)
        out["vocoder_blocks_compiled"] = (
            compiled(tts.vocoder.backbone.convnext) if hasattr(tts.vocoder, "backbone") else None
        )
        out["stats_after_init"] = dynamo_stats()
        state["tts"] = tts
        for i, call in enumerate(sc.get("calls", [])):
            kw = dict(call)
            ref = kw.pop("ref")
            t0 = time.perf_counter()
            grad = kw.pop("grad_mode", None)
            ctx = torch.no_grad() if grad == "no_grad" else torch.inference_mode() if grad else _nullcontext()
            with ctx:
                wav, sr, spec = tts.infer(ref, kw.pop("ref_text", "A short reference."),
                                          kw.pop("gen_text", "Hello there."), show_info=noop, progress=None,
                                          seed=kw.pop("seed", 0), **kw)
            out[f"call{i}"] = dict(wave=_to_tensor(wav), spec=_to_tensor(spec), seconds=time.perf_counter() - t0,
                                   stats=dynamo_stats())
    elif kind == "cache":
        # direct use of the patched cache API
        ops = []
        for op in sc["ops"]:
            if op[0] == "load":
                r = U.load_ref_audio(op[1], device=DEVICE)
                ops.append(dict(audio=r.audio.clone(), rms=float(r.rms), duration=r.duration, id=id(r.audio)))
            elif op[0] == "bytes":
                U.ref_audio_tensor_cache_bytes = op[1]
            elif op[0] == "touch":  # rewrite the file: new content and mtime
                write_ref_wav(op[1], seconds=op[2], seed=op[3])
                st = os.stat(op[1])
                os.utime(op[1], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
            elif op[0] == "rewrite_same_stat":  # new content, same size, mtime put back: only the content differs
                st = os.stat(op[1])
                write_ref_wav(op[1], seconds=op[2], seed=op[3])
                assert os.stat(op[1]).st_size == st.st_size
                os.utime(op[1], ns=(st.st_atime_ns, st.st_mtime_ns))
            elif op[0] == "rewrite_during_next_load":  # the file changes after it was hashed, before its decode
                REWRITE_ON_LOAD.append((op[1], op[2], op[3]))
            elif op[0] == "load_bytesio":
                import io

                r = U.load_ref_audio(io.BytesIO(open(op[1], "rb").read()), device=DEVICE)
                ops.append(dict(audio=r.audio.clone(), duration=r.duration))
            elif op[0] == "info":
                ops.append(U.ref_audio_tensor_cache_info())
            elif op[0] == "clear":
                U.clear_ref_audio_tensor_cache()
        out["ops"] = ops
        out["loads"] = LOAD_CALLS["n"]
    elif kind == "sampler":
        # GraphSampler against CFM.sample, same RNG stream: its bucketed, masked loop run eagerly (use_graphs=False),
        # or its graph path (use_graphs=True: the CPU stand-in for CUDA graphs, real ones on CUDA)
        from f5_tts.infer.graph_sampler import GraphSampler

        model = build_model(backbone=sc.get("backbone", "DiT"))
        cond = 0.1 * torch.randn(1, 24000, generator=torch.Generator().manual_seed(0)).to(DEVICE)
        res = []
        procs = [b.attn.processor for b in getattr(model.transformer, "transformer_blocks", [])]
        seen = []  # the processors' attn_mask_enabled as attention runs: the sampler must not flip it model-wide
        for b in getattr(model.transformer, "transformer_blocks", []):
            b.attn.register_forward_pre_hook(lambda mod, args: seen.append(mod.processor.attn_mask_enabled))
        sampler = None
        for case in sc["cases"]:
            if case.get("new_sampler", True) or sampler is None:
                sampler = GraphSampler(model, bucket=case["bucket"], use_graphs=case.get("use_graphs", False))
                if case.get("use_graphs") and DEVICE == "cpu":
                    graphs_on_cpu(sampler)
            if case.get("no_attention_mask"):  # negative control: padded keys left visible to attention
                sampler._attention_bias = lambda mask, dtype: None
            if case.get("to_dtype"):  # model.half() on a GPU; float64 here (the CPU has no fast half)
                model.to(getattr(torch, case["to_dtype"]))
            if case.get("reload_weights"):  # load_state_dict: the same tensors, new values (version bumped)
                with torch.no_grad():
                    model.load_state_dict({k: v * 1.01 for k, v in model.state_dict().items()})
            extra = {}
            if case.get("edit_mask"):
                cond_frames = model.mel_spec(cond).shape[-1]
                extra["edit_mask"] = torch.arange(cond_frames, device=DEVICE)[None, :] % 7 != 3
            text = case.get("text", "Hello there, this is a test.")
            kw = dict(cond=cond, text=[text], duration=case["frames"], steps=sc.get("nfe", 6),
                      cfg_strength=case.get("cfg", 2.0), sway_sampling_coef=-1, **extra)
            with torch.inference_mode():
                torch.manual_seed(case.get("seed", 7))
                ref, _ = model.sample(**kw)
                torch.manual_seed(case.get("seed", 7))
                got, traj = sampler.sample(**kw)
            res.append(dict(case, shape=list(got.shape), ref_shape=list(ref.shape), dtype=str(got.dtype),
                            maxdiff=float((got - ref).abs().max()), peak=float(ref.abs().max()),
                            traj_none=traj is None, stats=dict(sampler.stats), graphs=len(sampler.graphs),
                            unsupported=sampler.unsupported_model()))
        out.update(cases=res, attn_mask_enabled_seen=sorted(set(seen)),
                   procs_after=[p.attn_mask_enabled for p in procs])
    elif kind == "sampler_threads":
        # two threads call one GraphSampler (graphs on the CPU stand-in): each result equals CFM.sample alone
        import threading

        from f5_tts.infer.graph_sampler import GraphSampler

        model = build_model()
        cond = 0.1 * torch.randn(1, 24000, generator=torch.Generator().manual_seed(0)).to(DEVICE)
        sampler = GraphSampler(model, bucket=64, use_graphs=True)
        if DEVICE == "cpu":
            graphs_on_cpu(sampler)
        jobs = [(frames, seed) for frames in (100, 120, 170) for seed in (1, 2)]

        def kw(frames):
            return dict(cond=cond, text=["Two threads, one model."], duration=frames, steps=4, cfg_strength=2.0,
                        sway_sampling_coef=-1)

        with torch.inference_mode():
            refs = {j: model.sample(**kw(j[0]), seed=j[1])[0] for j in jobs}
        got, errors = {}, []

        def worker(my_jobs):
            try:
                stream = torch.cuda.Stream() if DEVICE.startswith("cuda") else None  # a server's per-request streams
                with torch.inference_mode(), (torch.cuda.stream(stream) if stream else _nullcontext()):
                    for _ in range(2):
                        for j in my_jobs:
                            got.setdefault(j, []).append(sampler.sample(**kw(j[0]), seed=j[1])[0])
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

        threads = [threading.Thread(target=worker, args=(jobs[i::2],)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out.update(errors=errors, stats=dict(sampler.stats),
                   maxdiff=max(float((g - refs[j]).abs().max()) for j, gs in got.items() for g in gs),
                   calls=sum(len(gs) for gs in got.values()))
        return out
    elif kind == "convnext_half":
        # the text ConvNeXtV2 block in half precision: which dtype its depthwise conv runs in, and its output
        import torch.nn.functional as F

        from f5_tts.model.modules import ConvNeXtV2Block

        torch.manual_seed(3)
        blk = ConvNeXtV2Block(32, 64)
        x = torch.randn(1, 50, 32)
        seen = []
        real_conv1d = F.conv1d

        def spy(inp, *a, **k):
            seen.append(str(inp.dtype))
            return real_conv1d(inp, *a, **k)

        F.conv1d = spy
        try:
            with torch.inference_mode():
                half = blk.to(torch.bfloat16)(x.to(torch.bfloat16)).float()
                full = blk.float()(x)
        finally:
            F.conv1d = real_conv1d
        out.update(conv_input_dtypes=seen, maxdiff=float((half - full).abs().max()), peak=float(full.abs().max()))
        # the conv stage itself (what the block hands its LayerNorm) against the exact conv of the same half inputs
        # and weights (float64), in units of the half dtype's ulp at the exact value: 06 claims a correctly rounded
        # fp32 result, at most 1 ulp away
        for name, dtype, mant, emin in (("fp16", torch.float16, 10, -14), ("bf16", torch.bfloat16, 7, -126)):
            b = ConvNeXtV2Block(32, 64)
            randomize_(b, seed=5, scale=0.3)
            b = b.to(dtype)
            xh = torch.randn(1, 50, 32, generator=torch.Generator().manual_seed(6)).to(dtype)
            staged = []
            b.norm.register_forward_pre_hook(lambda mod, args: staged.append(args[0].detach().clone()))
            with torch.inference_mode():
                b(xh)
            conv = b.dwconv
            exact = F.conv1d(xh.double().transpose(1, 2), conv.weight.double(), conv.bias.double(),
                             padding=conv.padding, groups=conv.groups).transpose(1, 2)
            _, e = torch.frexp(exact)
            ulp = torch.pow(2.0, torch.clamp(e.double() - 1, min=emin) - mant)
            out[f"conv_ulps_{name}"] = float(((staged[0].double() - exact).abs() / ulp).max())
            out[f"conv_dtype_{name}"] = str(staged[0].dtype)
    elif kind == "calling_thread_executor":
        # patch 07's executor: runs a call at once in the caller's thread; an exception comes out of result()
        import threading

        ex = U.CallingThreadExecutor()
        with ex:
            same = ex.submit(threading.get_ident).result() == threading.get_ident()
            fut = ex.submit(lambda: 1 / 0)
        try:
            fut.result()
            raised = None
        except ZeroDivisionError as exc:
            raised = type(exc).__name__
        out.update(same_thread=same, done_at_submit=fut.done(), raised=raised)
    elif kind == "copy_keep_stat":
        # rewrite dst with src's bytes (same size), its mtime put back: only the content says it changed
        st = os.stat(sc["dst"])
        with open(sc["src"], "rb") as f, open(sc["dst"], "wb") as g:
            g.write(f.read())
        os.utime(sc["dst"], ns=(st.st_atime_ns, st.st_mtime_ns))
    elif kind == "calling_thread_decision":
        # 07: which calls run in the calling thread (decided from the device, so testable without a GPU)
        out.update(cuda_1=U._in_calling_thread(1, "cuda"), cuda_2=U._in_calling_thread(2, "cuda"),
                   cpu_1=U._in_calling_thread(1, "cpu"), cuda0_1=U._in_calling_thread(1, torch.device("cuda", 0)))
    elif kind == "compile_fails_in_warmup":
        # 04 with a backend that raises when dynamo hands it the first block's graph: inside the warm-up's sample()
        def failing_backend(gm, example_inputs):
            raise RuntimeError("compile failed (simulated)")

        messages = []
        ok = U.compile_for_inference(state["model"], state["vocoder"], "vocos", device=DEVICE,
                                     backend=failing_backend, show_info=messages.append)
        out.update(compiled=ok, messages=messages)
    elif kind == "reset_dynamo":
        torch._dynamo.reset()
        torch._dynamo.utils.counters.clear()
    elif kind == "monkeypatch_compile_raises":
        def _boom(*a, **k):
            raise RuntimeError("torch.compile disabled by the test")

        torch.compile = _boom
    else:
        raise ValueError(kind)
    out["stats"] = dynamo_stats()
    return out


def main():
    job = json.load(open(sys.argv[2]))
    state = {}
    if any(sc["kind"] in ("infer_process", "infer_batch_process") for sc in job):
        state["model"] = build_model()
        state["vocoder"] = build_vocoder()
    results = {}
    for sc in job:
        results[sc["name"]] = run_scenario(sc, state)
    with open(sys.argv[3], "w") as f:
        json.dump(_jsonable(results), f)


if __name__ == "__main__":
    main()
