#!/usr/bin/env python3
"""Real-time factor of F5-TTS inference, pristine vs patched, measured in the same run.

Each side runs in its own subprocess that imports f5_tts from its own tree (<tree>/src first on
sys.path). The model is F5TTS_v1_Base (arch from the tree's src/f5_tts/configs/F5TTS_v1_Base.yaml)
with random weights, or a checkpoint given with --ckpt; the vocoder is vocos with the
charactr/vocos-mel-24khz architecture and random weights (random weights cost the same time as
trained ones). --small uses a tiny model and vocoder instead, to check the plumbing quickly.

RTF = wall time of infer_process (text -> wave, reference already preprocessed) / seconds of audio
generated. Per NFE: one warm-up call (excluded), then --runs timed calls; the median is reported.
The patched side runs the way F5TTS.infer does without file_spec: skip_spectrogram=True, the reference
tensor cache on, mixed precision on (a no-op on the CPU); with --compile, compile_for_inference() first.

Example (CPU, short clip):
  python benchmarks/f5_rtf.py --seconds 1 --runs 2 --nfe 16 32
"""

import argparse
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


def build_trees(work: Path):
    cache = Path(os.environ.get("F5QUILT_CACHE", REPO / ".cache"))
    sdists = sorted((cache / "sdist").glob(f"f5_tts-{F5_VERSION}.tar.gz"))
    if not sdists:
        (cache / "sdist").mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"f5-tts=={F5_VERSION}", "-d", str(cache / "sdist")], check=True)
        sdists = sorted((cache / "sdist").glob(f"f5_tts-{F5_VERSION}.tar.gz"))
    roots = []
    for side in ("pristine", "patched"):
        with tarfile.open(sdists[0]) as tar:
            top = tar.getmembers()[0].name.split("/")[0]
            tar.extractall(work / side)
        roots.append(work / side / top)
    series = [ln.split("#")[0].split() for ln in (REPO / "patches" / "series").read_text().splitlines()]
    for name in [s[0] for s in series if s]:
        with open(REPO / "patches" / name, "rb") as f:
            res = subprocess.run(["patch", "-p1", "-F0"], stdin=f, cwd=roots[1], capture_output=True, text=True)
        if res.returncode or "offset" in res.stdout or "fuzz" in res.stdout:
            sys.exit(f"{name} does not apply cleanly:\n{res.stdout}{res.stderr}")
    return roots


def run_side(args, tree, side, out):
    cmd = [sys.executable, __file__, "--worker", str(tree), "--side", side, "--out", str(out),
           "--seconds", str(args.seconds), "--ref-seconds", str(args.ref_seconds), "--runs", str(args.runs),
           "--device", args.device, "--nfe", *map(str, args.nfe)]
    cmd += ["--small"] if args.small else []
    cmd += ["--compile"] if args.compile and side == "patched" else []
    cmd += ["--ckpt", args.ckpt] if args.ckpt else []
    cmd += ["--threads", str(args.threads)] if args.threads else []
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL if not args.verbose else None)
    return json.loads(Path(out).read_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pristine", type=Path, help="pristine tree (default: extracted from the cached sdist)")
    ap.add_argument("--patched", type=Path, help="patched tree (default: pristine + patches/series)")
    ap.add_argument("--seconds", type=float, default=4.0, help="seconds of audio to generate per call")
    ap.add_argument("--frames", type=int, help="frames to generate per call (hop 256 at 24 kHz), overrides --seconds")
    ap.add_argument("--ref-seconds", type=float, default=2.0, help="length of the synthetic reference clip")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per NFE (median reported)")
    ap.add_argument("--nfe", type=int, nargs="+", default=[16, 32])
    ap.add_argument("--device", default="cuda", help="cuda (falls back to cpu when unavailable), cpu, ...")
    ap.add_argument("--compile", action="store_true", help="patched side: compile_for_inference() (opt-in)")
    ap.add_argument("--small", action="store_true", help="tiny random model and vocoder instead of the base ones")
    ap.add_argument("--ckpt", help="F5TTS_v1_Base checkpoint (.safetensors/.pt) instead of random weights")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads in the workers")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--side", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.frames:
        args.seconds = args.frames * 256 / 24000
    if args.worker:
        return worker(args)
    if args.device == "cuda":
        probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                               capture_output=True, text=True)
        if probe.stdout.strip() != "True":
            args.device = "cpu"

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.pristine and args.patched:
            trees = [args.pristine, args.patched]
        else:
            trees = build_trees(tmp)
        res = {side: run_side(args, tree, side, tmp / f"{side}.json") for side, tree in zip(("pristine", "patched"), trees)}

    print(f"F5-TTS {F5_VERSION}, {'tiny' if args.small else 'F5TTS_v1_Base'} model"
          f"{' (' + args.ckpt + ')' if args.ckpt else ' (random weights)'}, device {res['patched']['device']}, "
          f"torch {res['patched']['torch']}, {args.seconds:.2f} s generated per call "
          f"({res['patched']['frames']} frames), ref {args.ref_seconds} s, median of {args.runs} runs, "
          f"compile={'on' if args.compile else 'off'} (patched side)")
    print(f"{'NFE':>4} {'pristine RTF':>13} {'patched RTF':>12} {'ratio patched/pristine':>23}")
    for nfe in args.nfe:
        p, q = res["pristine"]["rtf"][str(nfe)], res["patched"]["rtf"][str(nfe)]
        print(f"{nfe:>4} {p:>13.4f} {q:>12.4f} {q / p:>23.3f}")
    if res["patched"].get("compile_seconds") is not None:
        print(f"patched: compile_for_inference (compile + warm-up) took {res['patched']['compile_seconds']:.1f} s, "
              f"compiled={res['patched']['compiled']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


# --- worker: one tree, one process -------------------------------------------------------------------


def worker(args):
    sys.path.insert(0, str(Path(args.worker) / "src"))
    sys.path.insert(0, str(REPO / "tests" / "f5"))
    import numpy as np
    import torch
    import yaml

    import f5_harness as h  # also swaps torchaudio.load for a soundfile reader (no FFmpeg needed)
    import f5_tts.infer.utils_infer as U

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    cfg = yaml.safe_load((Path(args.worker) / "src/f5_tts/configs/F5TTS_v1_Base.yaml").read_text())
    arch = None if args.small else cfg["model"]["arch"]
    model = h.build_model(arch=arch, ckpt=args.ckpt, device=device)
    vocoder = h.build_vocoder(cfg=None if args.small else h.BASE_VOCOS, device=device)
    tmp = Path(tempfile.mkdtemp())
    ref = h.write_ref_wav(tmp / "ref.wav", seconds=args.ref_seconds)
    fix_duration = args.ref_seconds + args.seconds
    frames = int(fix_duration * 24000 / 256) - int(args.ref_seconds * 24000) // 256

    out = {"device": device, "torch": torch.__version__, "frames": frames, "rtf": {}, "times": {}}
    patched = hasattr(U, "load_ref_audio")
    if args.compile:
        t0 = time.perf_counter()
        out["compiled"] = U.compile_for_inference(model, vocoder, "vocos", device=device)
        out["compile_seconds"] = time.perf_counter() - t0
    extra = {"skip_spectrogram": True} if patched else {}

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def call(nfe):
        torch.manual_seed(0)
        sync()
        t0 = time.perf_counter()
        wav, sr, _ = U.infer_process(ref, REF_TEXT, GEN_TEXT, model, vocoder, show_info=lambda *a, **k: None,
                                     progress=None, nfe_step=nfe, fix_duration=fix_duration, device=device, **extra)
        sync()
        return time.perf_counter() - t0, len(wav) / sr

    for nfe in args.nfe:
        call(nfe)  # warm-up, excluded
        times, audio_s = [], None
        for _ in range(args.runs):
            dt, audio_s = call(nfe)
            times.append(dt)
        out["times"][str(nfe)] = times
        out["rtf"][str(nfe)] = statistics.median(times) / audio_s
        out["audio_seconds"] = audio_s
    Path(args.out).write_text(json.dumps(out))
    del np


if __name__ == "__main__":
    main()
