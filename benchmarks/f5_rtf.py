#!/usr/bin/env python3
"""Real-time factor of F5-TTS 1.1.22 inference: pristine, then each prefix of patches/series, in one run.

Steps: "pristine", then the tree with the first patch, the first two, ... (labels "01", "01-02*", ...), each
with the opt-ins of the patches it holds turned on (a "*" says so; see OPT_INS: 04
compile_for_inference(), 05 cuda_graphs; 01 and 06 have none), and the full series without 04's compile;
--defaults runs every step with the patches' defaults instead; --steps final: pristine, the full series with
its defaults, with its opt-ins but compile, with all. Each step runs in its own subprocess that imports f5_tts from its
own tree (<tree>/src first on sys.path), built from the cached 1.1.22 sdist with `patch -p1 -F0` (an offset
or fuzz is an error).

Both sides build the model as upstream does: F5TTS_v1_Base (arch from the tree's configs/F5TTS_v1_Base.yaml)
with random weights written once to a safetensors file, loaded through the tree's own
utils_infer.load_model() -> load_checkpoint(), which casts the DiT to fp16 on CUDA compute capability >= 7
(fp32 on the CPU), exactly as for a real checkpoint (--ckpt uses a real one). The vocoder is vocos with the
charactr/vocos-mel-24khz architecture and random weights, left in fp32 as load_vocoder() leaves it. So the
pristine and patched sides run the same dtypes: a ratio measures the series, not a dtype change.

Cases: --seconds (output lengths, default 3 10 20) with a --ref-seconds mono 24 kHz reference, plus
--resample-seconds (default 10) with a stereo 44.1 kHz reference (downmix + resample path). The reference is
a file, read by infer_process() as a user's would be (torchaudio.load is replaced by a soundfile reader:
torchaudio 2.11 needs torchcodec + FFmpeg). infer_process() runs with fix_duration = ref + output seconds,
NFE --nfe (default 16), cfg_strength 2, sway -1 (upstream defaults), returning wave + spectrogram as
F5TTS.infer() does.

Timing: per case, --warmup calls (excluded), then --runs timed calls; torch.cuda.synchronize() before and
after each; wall time of the whole infer_process() call (reference load included: that is what patch 01
saves). RTF = median time / seconds of audio generated. Spread: min and max of the runs.

Example (H100, docs/payload.md): python3 benchmarks/f5_rtf.py --steps final --runs 5 --json out.json
Quick check (CPU): python3 benchmarks/f5_rtf.py --small --device cpu --seconds 1 --resample-seconds 1 --runs 2
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
F5_VERSION = "1.1.22"
REF_TEXT = "Some call me nature, others call me mother nature."
GEN_TEXT = "I don't really care what you call me. I've been a silent spectator, watching species evolve."


# --- parent: trees, subprocesses, table -------------------------------------------------------------


def series_names():
    names = []
    for ln in (REPO / "patches" / "series").read_text().splitlines():
        words = ln.split("#")[0].split()
        if words:
            names.append(words[0])
    return names


def find_sdist(args):
    if args.sdist:
        return Path(args.sdist)
    cache = Path(os.environ.get("F5QUILT_CACHE", REPO / ".cache"))
    sdists = sorted((cache / "sdist").glob(f"f5_tts-{F5_VERSION}.tar.gz"))
    if not sdists:
        (cache / "sdist").mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"f5-tts=={F5_VERSION}", "-d", str(cache / "sdist")], check=True)
        sdists = sorted((cache / "sdist").glob(f"f5_tts-{F5_VERSION}.tar.gz"))
    return sdists[0]


def build_tree(sdist: Path, dest: Path, patches):
    """Extract the sdist into dest and apply patches with patch -p1 -F0 (offset/fuzz = error)."""
    with tarfile.open(sdist) as tar:
        top = tar.getmembers()[0].name.split("/")[0]
        tar.extractall(dest)
    root = dest / top
    for name in patches:
        with open(REPO / "patches" / name, "rb") as f:
            res = subprocess.run(["patch", "-p1", "-F0"], stdin=f, cwd=root, capture_output=True, text=True)
        if res.returncode or "offset" in res.stdout or "fuzz" in res.stdout:
            sys.exit(f"{name} does not apply cleanly:\n{res.stdout}{res.stderr}")
    return root


def label(names):
    return "pristine" if not names else "-".join(n.split("-")[0] for n in names)


# what each patch's opt-in is; a prefix step turns on the opt-ins of the patches it holds
OPT_INS = {
    "04": {"compile": True},
    "05": {"kwargs": {"cuda_graphs": True}},
}


def opt_ins(names, skip=()):
    options = {"compile": False, "kwargs": {}}
    for n in names:
        num = n.split("-")[0]
        if num in skip:
            continue
        o = OPT_INS.get(num, {})
        options["compile"] |= o.get("compile", False)
        options["kwargs"].update(o.get("kwargs", {}))
    return options


def plan_steps(args):
    """[(label, patch names, options)]: pristine, then each prefix of the series with its patches' opt-ins on
    (--defaults: off), then the full series without 04's compile when 05 is there (graphs alone)."""
    names = series_names()
    if args.steps == "final":  # pristine, the full series with its defaults, with its opt-ins, opt-ins but compile
        steps = [("pristine", [], opt_ins([])), (label(names) + " defaults", names, opt_ins([]))]
        steps += [(label(names) + "* no compile", names, opt_ins(names, skip=("04",))),
                  (label(names) + "*", names, opt_ins(names))]
        return steps
    if args.steps == "ablate":  # the series with and without some patches, A B .. B A, defaults then opt-ins but compile
        nums = [n.split("-")[0] for n in names]
        for a in args.ablate:
            if a not in nums:
                sys.exit(f"--ablate {a}: no such patch in patches/series ({' '.join(nums)})")
        variants = [names] + [[n for n in names if n.split("-")[0] not in drop]
                              for k in range(1, len(args.ablate) + 1) for drop in itertools.combinations(args.ablate, k)]
        steps = [("pristine", [], opt_ins([]))]
        modes = (("", None),) if args.defaults else (("", None), ("*", ("04",)))
        for star, skip in modes:
            for rnd, order in ((1, variants[1:] + variants[:1]), (2, variants[:1] + variants[1:][::-1])):
                for sel in order:
                    opts = opt_ins([]) if skip is None else opt_ins(sel, skip=skip)
                    tag = label(sel) + star + ("" if skip is None else " nc") + f" #{rnd}"
                    steps.append((tag, sel, opts))
        return steps
    prefixes = [[], names] if args.steps == "ends" else [names[:k] for k in range(len(names) + 1)]
    steps = []
    for p in prefixes:
        opts = {"compile": False, "kwargs": {}} if args.defaults else opt_ins(p)
        steps.append((label(p) + ("" if args.defaults or not p else "*"), p, opts))
    nums = [n.split("-")[0] for n in names]
    if not args.defaults and "04" in nums and "05" in nums:
        steps.append((label(names) + "* no compile", names, opt_ins(names, skip=("04",))))
    return steps


def cases(args):
    out = [{"name": f"{s:g}s", "seconds": s, "ref_sr": 24000, "ref_channels": 1} for s in args.seconds]
    out += [{"name": f"{s:g}s@44.1k", "seconds": s, "ref_sr": 44100, "ref_channels": 2}
            for s in args.resample_seconds]
    return out


def run_step(args, tree, step_label, options, ckpt, out):
    job = {"tree": str(tree), "label": step_label, "options": options, "ckpt": ckpt, "cases": cases(args),
           "nfe": args.nfe, "runs": args.runs, "warmup": args.warmup, "ref_seconds": args.ref_seconds,
           "device": args.device, "small": args.small, "threads": args.threads,
           "phase_runs": args.phase_runs, "trace_dwconv": args.trace_dwconv, "vary": args.vary_lengths}
    job_file = Path(str(out) + ".job")
    job_file.write_text(json.dumps(job))
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, __file__, "--worker", str(job_file), "--out", str(out)],
                         stdout=None if args.verbose else subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if res.returncode:
        print(f"step {step_label} failed (rc {res.returncode}):\n{res.stderr[-3000:]}", file=sys.stderr)
        return None
    r = json.loads(Path(out).read_text())
    r["wall_seconds"] = time.perf_counter() - t0
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, nargs="*", default=[3.0, 10.0, 20.0],
                    help="seconds of audio to generate per call, one case each (mono 24 kHz reference)")
    ap.add_argument("--resample-seconds", type=float, nargs="*", default=[10.0],
                    help="cases with a stereo 44.1 kHz reference (resample path)")
    ap.add_argument("--ref-seconds", type=float, default=3.0, help="length of the synthetic reference clip")
    ap.add_argument("--runs", type=int, default=10, help="timed calls per case (median, min, max reported)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed calls per case before the timed ones")
    ap.add_argument("--nfe", type=int, default=16)
    ap.add_argument("--phase-runs", type=int, default=3,
                    help="extra instrumented calls per case (synced timers on sampling, vocoder, text): where time goes")
    ap.add_argument("--device", default="cuda", help="cuda (falls back to cpu when unavailable), cpu, ...")
    ap.add_argument("--steps", choices=["prefixes", "ends", "final", "ablate"], default="prefixes",
                    help="prefixes: pristine and every prefix of the series; ends: pristine and the full series; "
                         "final: pristine, the full series with defaults, with its opt-ins but compile, with all; "
                         "ablate: pristine, then the series without each --ablate patch (and all of them) and "
                         "with them, A B .. B A, with defaults and then with the opt-ins but compile ('nc')")
    ap.add_argument("--ablate", nargs="+", default=["06"],
                    help="the patch numbers --steps ablate leaves out, each and together (default 06); with "
                         "--defaults only the defaults are run")
    ap.add_argument("--defaults", action="store_true",
                    help="run every step with the patches' defaults (opt-ins off) instead of their opt-ins on")
    ap.add_argument("--small", action="store_true", help="tiny random model and vocoder, to check the plumbing")
    ap.add_argument("--vary-lengths", action="store_true",
                    help="every call (warm-up and timed) a length of its own, within +-20%% of the case's: traffic, "
                         "not the warm-up's lengths again (new cuDNN plans, graph captures and buckets are paid); "
                         "each time is scaled to the case's length, so RTF = median of the calls' RTFs")
    ap.add_argument("--ckpt", help="F5TTS_v1_Base checkpoint (.safetensors/.pt) instead of random weights")
    ap.add_argument("--sdist", help=f"f5_tts-{F5_VERSION}.tar.gz (default: $F5QUILT_CACHE/sdist, downloaded)")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads in the workers")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--trace-dwconv", action="store_true",
                    help="time every call of the text blocks' depthwise conv module (a tree without 06) and print "
                         "its input's shape, strides and dtype: what patch 06 avoids")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(json.loads(Path(args.worker).read_text()), args.out)
    if args.device == "cuda":
        probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                               capture_output=True, text=True)
        if probe.stdout.strip() != "True":
            args.device = "cpu"

    sdist = find_sdist(args)
    steps = plan_steps(args)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = args.ckpt or str(tmp / "random.safetensors")  # written by the first worker, read by all
        for i, (step_label, names, options) in enumerate(steps):
            tree = build_tree(sdist, tmp / f"tree{i}", names)
            r = run_step(args, tree, step_label, options, ckpt, tmp / f"step{i}.json")
            if r is None:
                continue
            results[step_label] = r
            print(f"  {step_label}: done in {r['wall_seconds']:.0f} s", file=sys.stderr, flush=True)
            if args.json:  # partial results survive a later crash or timeout
                args.json.write_text(json.dumps({"results": results}, indent=1, default=str))

    first = next(iter(results.values()))
    print(f"F5-TTS {F5_VERSION}, {'tiny' if args.small else 'F5TTS_v1_Base'} model "
          f"({args.ckpt or 'random weights'}), loaded by load_model() (model dtype {first['model_dtype']}), "
          f"vocos fp32; device {first['device_name']}, torch {first['torch']}; NFE {args.nfe}, "
          f"ref {args.ref_seconds:g} s, {args.warmup} warm-up + {args.runs} timed calls per case")
    print(f"{'case':<10} {'step':<22} {'RTF':>7} {'median ms':>10} {'min ms':>8} {'max ms':>8} "
          f"{'vs pristine':>12} {'vs previous':>12} {'max|dwave|':>11}")
    for case in cases(args):
        base = prev = head0 = None
        for step_label in results:
            c = results[step_label]["cases"][case["name"]]
            med = statistics.median(c["times"])
            base = base or med
            head0 = head0 or c["wave_head"]
            dwave = max(abs(a - b) for a, b in zip(head0, c["wave_head"]))
            print(f"{case['name']:<10} {step_label:<22} {med / c['audio_seconds']:>7.4f} {med * 1e3:>10.1f} "
                  f"{min(c['times']) * 1e3:>8.1f} {max(c['times']) * 1e3:>8.1f} {med / base:>12.3f} "
                  f"{med / (prev or med):>12.3f} {dwave:>11.2e}")
            prev = med
    for step_label, r in results.items():
        if r.get("setup_seconds"):
            print(f"{step_label}: opt-in setup {r['setup']} took {r['setup_seconds']:.1f} s")
        for cname, c in r["cases"].items():
            if c.get("phases_ms"):
                print(f"{step_label} {cname} phases (ms/call): "
                      + ", ".join(f"{k} {v:.1f}" for k, v in sorted(c["phases_ms"].items())))
        for cname, c in r["cases"].items():
            for i, t in enumerate(c.get("dwconv_trace", [])):
                print(f"{step_label} {cname} dwconv {i:>3}: {t['dtype']} shape {t['shape']} stride {t['stride']} "
                      f"ptr%256 {t['ptr_mod_256']} {t['ms']:.2f} ms")
        if r.get("graph_stats"):
            print(f"{step_label}: graph sampler {r['graph_stats']}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: v for k, v in vars(args).items() if k != "json"},
                                         "results": results}, indent=1, default=str))


# --- worker: one tree, one process -------------------------------------------------------------------


def _stub_trainer():
    """f5_tts.model imports its Trainer (wandb, datasets, ema_pytorch), which inference never uses."""
    import types

    if "f5_tts.model.trainer" not in sys.modules:
        stub = types.ModuleType("f5_tts.model.trainer")
        stub.Trainer = None
        sys.modules["f5_tts.model.trainer"] = stub


class phase_timers:
    """Wrap what one infer_process() call runs (sampling, vocoder, text, reference) with synced timers."""

    def __init__(self, U, model, vocoder, sync):
        import torch

        self.acc, self.undo = {}, []
        targets = [("sample", type(model), "sample"), ("graph_replay", torch.cuda.CUDAGraph, "replay"),
                   ("transformer", type(model.transformer), "forward"), ("vocoder", type(vocoder), "decode"),
                   ("vocos_backbone", type(vocoder.backbone), "forward"), ("vocos_head", type(vocoder.head), "forward"),
                   ("text_to_pinyin", U, "convert_char_to_pinyin")]
        try:
            from f5_tts.infer.graph_sampler import GraphSampler

            targets.append(("sample", GraphSampler, "sample"))
        except ImportError:
            pass
        for name, owner, attr in targets:
            self._wrap(name, owner, attr, sync)

    def _wrap(self, name, owner, attr, sync):
        orig = getattr(owner, attr)
        acc = self.acc

        def timed(*a, **k):
            sync()
            t0 = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                sync()
                acc[name] = acc.get(name, 0.0) + time.perf_counter() - t0

        setattr(owner, attr, timed)
        self.undo.append((owner, attr, orig))

    def __enter__(self):
        return self.acc

    def __exit__(self, *exc):
        for owner, attr, orig in reversed(self.undo):
            setattr(owner, attr, orig)


def worker(job, out_path):
    tree = Path(job["tree"])
    sys.path.insert(0, str(tree / "src"))
    sys.path.insert(0, str(REPO / "tests" / "f5"))
    if os.environ.get("F5_RTF_STUB_TRAINER", "1") == "1":
        _stub_trainer()
    import torch
    import yaml

    import f5_harness as h  # also swaps torchaudio.load for a soundfile reader (no FFmpeg needed)
    import f5_tts.infer.utils_infer as U
    from f5_tts.model import DiT

    if job["threads"]:
        torch.set_num_threads(job["threads"])
    device = job["device"]
    cfg = yaml.safe_load((tree / "src/f5_tts/configs/F5TTS_v1_Base.yaml").read_text())
    arch = dict(h.TINY) if job["small"] else cfg["model"]["arch"]
    ckpt = job["ckpt"]
    if not os.path.exists(ckpt):
        from safetensors.torch import save_file

        random_model = h.build_model(arch=arch, device="cpu")  # seeded random weights, fp32
        save_file({k: v.contiguous() for k, v in random_model.state_dict().items()}, ckpt)
        del random_model
    # upstream's path: load_model -> load_checkpoint (fp16 on CUDA cc >= 7, fp32 elsewhere)
    model = U.load_model(DiT, arch, ckpt, mel_spec_type="vocos", device=device)
    vocoder = h.build_vocoder(cfg=None if job["small"] else h.BASE_VOCOS, device=device)
    tmp = Path(tempfile.mkdtemp())
    out = {"label": job["label"], "device": device, "torch": torch.__version__,
           "device_name": torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu",
           "model_dtype": str(next(model.parameters()).dtype), "cases": {}}

    options = job["options"]
    extra = dict(options["kwargs"])  # the opt-ins of infer_process (patch 05)
    out["options"] = options
    t0 = time.perf_counter()
    if options["compile"]:  # patch 04's opt-in
        kw = {"vocoder_autocast": extra["vocoder_autocast"]} if "vocoder_autocast" in extra else {}
        out["compiled"] = U.compile_for_inference(model, vocoder, "vocos", device=device, **kw)
        out["setup"] = "compile_for_inference"
    out["setup_seconds"] = time.perf_counter() - t0 if options["compile"] else 0.0

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    quiet = lambda *a, **k: None  # noqa: E731
    trace = []  # --trace-dwconv: every call of a text ConvNeXtV2 block's depthwise conv module, synced and timed
    if job.get("trace_dwconv"):
        def pre(mod, inputs):
            sync()
            mod._f5_t0 = time.perf_counter()

        def post(mod, inputs, output):
            sync()
            x = inputs[0]
            trace.append({"shape": list(x.shape), "stride": list(x.stride()), "dtype": str(x.dtype),
                          "ptr_mod_256": x.data_ptr() % 256, "ms": (time.perf_counter() - mod._f5_t0) * 1e3})

        for blk in getattr(model.transformer.text_embed, "text_blocks", []):
            blk.dwconv.register_forward_pre_hook(pre)
            blk.dwconv.register_forward_hook(post)
    for case in job["cases"]:
        del trace[:]
        ref = h.write_ref_wav(tmp / f"ref_{case['name']}.wav", seconds=job["ref_seconds"], sr=case["ref_sr"],
                              channels=case["ref_channels"])
        n_call = itertools.count()

        def call(vary=job.get("vary")):
            # --vary-lengths: the i-th call of the case is case seconds x (0.8 .. 1.2), golden-ratio spread, so no two
            # calls (warm-up included) share a length; the first call always has the case's own length
            i = next(n_call)
            scale = 1.0 + 0.4 * ((i * 0.6180339887) % 1.0 - 0.5) if vary else 1.0
            torch.manual_seed(0)
            sync()
            t0 = time.perf_counter()
            wav, sr, _ = U.infer_process(ref, REF_TEXT, GEN_TEXT, model, vocoder, show_info=quiet, progress=None,
                                         nfe_step=job["nfe"], fix_duration=job["ref_seconds"] + case["seconds"] * scale,
                                         device=device, **extra)
            sync()
            dt = time.perf_counter() - t0
            return (dt * case["seconds"] / (len(wav) / sr) if vary else dt), wav, sr

        for _ in range(job["warmup"]):
            call()
        times = []
        for _ in range(job["runs"]):
            dt, wav, sr = call(vary=job.get("vary") and len(times) + 1 < job["runs"])
            times.append(dt)
        out["cases"][case["name"]] = {"times": times, "audio_seconds": len(wav) / sr,
                                      "wave_rms": float((wav.astype("float64") ** 2).mean() ** 0.5),
                                      "wave_head": [float(x) for x in wav[:2000:50]]}
        if trace:
            out["cases"][case["name"]]["dwconv_trace"] = list(trace)
        if job.get("phase_runs"):  # separate, instrumented calls (extra syncs): where the time goes
            with phase_timers(U, model, vocoder, sync) as acc:
                for _ in range(job["phase_runs"]):
                    dt, _w, _s = call()
                    acc["total"] = acc.get("total", 0.0) + dt
            out["cases"][case["name"]]["phases_ms"] = {k: v * 1e3 / job["phase_runs"] for k, v in acc.items()}
    sampler = model.__dict__.get("_f5_graph_sampler")
    if sampler is not None:
        out["graph_stats"] = dict(sampler.stats, graphs=len(sampler.graphs), disabled=sampler.disabled_reason)
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
