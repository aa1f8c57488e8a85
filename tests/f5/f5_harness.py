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


def _sf_load(path, *args, **kwargs):
    LOAD_CALLS["n"] += 1
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return torch.from_numpy(np.ascontiguousarray(data.T)), sr


torchaudio.load = _sf_load

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


def build_model(arch=None, seed=0, ckpt=None, device="cpu"):
    from importlib.resources import files

    from f5_tts.model import CFM, DiT
    from f5_tts.model.utils import get_tokenizer

    arch = dict(TINY if arch is None else arch)
    vocab_file = str(files("f5_tts").joinpath("infer/examples/vocab.txt"))
    if ckpt:
        from f5_tts.infer.utils_infer import load_model

        return load_model(DiT, arch, ckpt, mel_spec_type="vocos", vocab_file=vocab_file, device=device)
    vocab_char_map, vocab_size = get_tokenizer(vocab_file, "custom")
    torch.manual_seed(seed)
    model = CFM(
        transformer=DiT(**arch, text_num_embeds=vocab_size, mel_dim=100),
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


def build_vocoder(cfg=None, seed=1, device="cpu"):
    from vocos import Vocos
    from vocos.feature_extractors import MelSpectrogramFeatures
    from vocos.heads import ISTFTHead
    from vocos.models import VocosBackbone

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


def dynamo_stats():
    from torch._dynamo.utils import counters

    return {k: dict(v) for k, v in counters.items() if k in ("stats", "graph_break")}


def run_scenario(sc, state):
    import f5_tts.infer.utils_infer as U

    kind = sc["kind"]
    noop = lambda *a, **k: None  # noqa: E731
    out = {}
    if kind == "infer_process":
        model, voc = state["model"], state["vocoder"]
        kwargs = dict(sc.get("kwargs", {}))
        torch.manual_seed(sc.get("seed", 0))
        before = LOAD_CALLS["n"]
        t0 = time.perf_counter()
        wav, sr, spec = U.infer_process(
            sc["ref"],
            sc.get("ref_text", "A short reference. "),
            sc.get("gen_text", "Hello there."),
            model,
            voc,
            show_info=noop,
            progress=None,
            nfe_step=sc.get("nfe", 4),
            device="cpu",
            **kwargs,
        )
        out.update(
            wave=_to_tensor(wav), sr=sr, spec=_to_tensor(spec), loads=LOAD_CALLS["n"] - before,
            seconds=time.perf_counter() - t0,
        )
    elif kind == "infer_batch_process":
        model, voc = state["model"], state["vocoder"]
        audio, sr = _sf_load(sc["ref"])
        kwargs = dict(sc.get("kwargs", {}))
        torch.manual_seed(sc.get("seed", 0))
        wav, sr, spec = next(
            U.infer_batch_process(
                (audio, sr),
                sc.get("ref_text", "A short reference. "),
                sc["batches"],
                model,
                voc,
                progress=None,
                nfe_step=sc.get("nfe", 4),
                device="cpu",
                **kwargs,
            )
        )
        out.update(wave=_to_tensor(wav), sr=sr, spec=_to_tensor(spec))
    elif kind == "api":
        # the real F5TTS class, with load_model/load_vocoder stubbed to hand over the tiny random models
        import f5_tts.api as api

        api.load_vocoder = lambda *a, **k: build_vocoder()
        api.load_model = lambda *a, **k: build_model()
        t0 = time.perf_counter()
        tts = api.F5TTS(ckpt_file="unused", device="cpu", **sc.get("init", {}))
        out["init_seconds"] = time.perf_counter() - t0
        out["compiled"] = getattr(tts, "compiled", None)
        compiled = lambda mods: [getattr(m, "_compiled_call_impl", None) is not None for m in mods]  # noqa: E731
        out["transformer_blocks_compiled"] = compiled(tts.ema_model.transformer.transformer_blocks)
        out["vocoder_blocks_compiled"] = compiled(tts.vocoder.backbone.convnext)
        out["stats_after_init"] = dynamo_stats()
        state["tts"] = tts
        for i, call in enumerate(sc.get("calls", [])):
            kw = dict(call)
            ref = kw.pop("ref")
            t0 = time.perf_counter()
            wav, sr, spec = tts.infer(ref, kw.pop("ref_text", "A short reference."), kw.pop("gen_text", "Hello there."),
                                      show_info=noop, progress=None, seed=kw.pop("seed", 0), **kw)
            out[f"call{i}"] = dict(wave=_to_tensor(wav), spec=_to_tensor(spec), seconds=time.perf_counter() - t0)
    elif kind == "cache":
        # direct use of the patched cache API
        ops = []
        for op in sc["ops"]:
            if op[0] == "load":
                r = U.load_ref_audio(op[1], device="cpu")
                ops.append(dict(audio=r.audio.clone(), rms=float(r.rms), duration=r.duration, id=id(r.audio)))
            elif op[0] == "size":
                U.ref_audio_tensor_cache_size = op[1]
            elif op[0] == "touch":  # rewrite the file: new content and mtime
                write_ref_wav(op[1], seconds=op[2], seed=op[3])
                st = os.stat(op[1])
                os.utime(op[1], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
            elif op[0] == "info":
                ops.append(U.ref_audio_tensor_cache_info())
            elif op[0] == "clear":
                U.clear_ref_audio_tensor_cache()
        out["ops"] = ops
        out["loads"] = LOAD_CALLS["n"]
    elif kind == "autocast_dtype":
        res = []
        for case in sc["cases"]:
            dt = U.autocast_dtype(case["device"], capability=case.get("cap"), bf16_supported=case.get("bf16"),
                                  device_name=case.get("name"))
            res.append(str(dt))
        out["dtypes"] = res
    elif kind == "wrapper_demo":
        # torch.compile(m) compiles m.forward only: other methods called on the wrapper run eagerly
        from torch._dynamo.utils import counters

        class Net(torch.nn.Module):  # stands for the transformer (nn.Module.compile() skips pure torch.nn code)
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2 = torch.nn.Linear(8, 16), torch.nn.Linear(16, 8)

            def forward(self, x):
                return self.fc2(torch.nn.functional.gelu(self.fc1(x)))

        class Small(torch.nn.Module):  # stands for CFM: sample() calls the net in a loop
            def __init__(self):
                super().__init__()
                self.net = Net()

            def forward(self, x):
                return self.net(x)

            def sample(self, x, steps=3):
                for _ in range(steps):
                    x = x + self.net(x) / steps
                return x

        backend = sc.get("backend", "eager")
        x = torch.randn(2, 8)
        torch._dynamo.reset()
        counters.clear()
        m = Small()
        eager = m.sample(x)
        wrapped = torch.compile(m, backend=backend)
        via_wrapper = wrapped.sample(x)
        out["wrapper_sample"] = dict(counters["stats"])
        wrapped(x)
        out["wrapper_forward"] = dict(counters["stats"])
        torch._dynamo.reset()
        counters.clear()
        m.net.compile(backend=backend)
        via_submodule = m.sample(x)
        out["submodule_sample"] = dict(counters["stats"])
        out["wrapper_equal"] = bool(torch.equal(eager, via_wrapper))
        out["submodule_maxdiff"] = float((eager - via_submodule).abs().max())
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
