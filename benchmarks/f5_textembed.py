#!/usr/bin/env python3
"""Where patch 06's saving comes from: F5-TTS 1.1.22's text embedding (4 ConvNeXtV2 blocks) in float16 on the
GPU, pristine vs with 06, each in its own subprocess importing its own tree.

Per tree: the TextEmbedding of F5TTS_v1_Base (text_dim 512, conv_layers 4, random weights, float16, as
load_checkpoint() leaves the DiT on a CUDA device) under torch.inference_mode(), for batch 1 and 2
(cond + uncond), at output lengths given in frames: a repeated length (the steady state), a new length on
every call (as a service sees), a repeated length called from a new thread each time (as
infer_batch_process() calls the model: from a fresh ThreadPoolExecutor), and a new length with
torch.backends.cudnn.benchmark on; then, for the first
repeated length, the ten costliest ops of one call by torch.profiler (self CUDA and CPU time), so the
kernel or the host work that differs is named.
Usage: python3 benchmarks/f5_textembed.py [--frames 560 1310 2160] [--reps 10]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import f5_rtf  # noqa: E402  (tree building, sdist cache)


def worker(tree, frames, reps):
    import types

    import torch

    sys.path.insert(0, str(Path(tree) / "src"))
    stub = types.ModuleType("f5_tts.model.trainer")
    stub.Trainer = None
    sys.modules["f5_tts.model.trainer"] = stub
    from f5_tts.model.backbones.dit import TextEmbedding

    torch.manual_seed(0)
    dev = "cuda" if torch.cuda.is_available() else "cpu"  # cpu: only to check the plumbing
    emb = TextEmbedding(2545, 512, mask_padding=True, conv_layers=4).to(dev).half().eval()
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def call(n, batch):
        text = torch.randint(0, 2545, (batch, max(8, n // 8)), device=dev)
        with torch.inference_mode():
            return emb(text, n)

    def timed(n, batch):
        sync()
        t0 = time.perf_counter()
        call(n, batch)
        sync()
        return (time.perf_counter() - t0) * 1e3

    out = {"device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "torch": torch.__version__}
    for batch in (1, 2):
        for n in frames:
            timed(n, batch)  # first call of this shape, excluded
            out[f"repeat b{batch} n{n}"] = sorted(timed(n, batch) for _ in range(reps))[reps // 2]
        news = [timed(frames[0] + 7 * (i + 1) + 1000 * batch, batch) for i in range(reps)]
        out[f"new-length b{batch}"] = sorted(news)[reps // 2]
        out[f"new-length b{batch} first"] = news[0]
    import threading

    def in_new_thread(n, batch):  # as infer_batch_process() runs each call: in a fresh ThreadPoolExecutor's thread
        box = []
        th = threading.Thread(target=lambda: box.append(timed(n, batch)))
        th.start()
        th.join()
        return box[0]

    for batch in (1, 2):
        out[f"repeat b{batch} n{frames[0]} new thread"] = sorted(in_new_thread(frames[0], batch)
                                                                for _ in range(reps))[reps // 2]
    torch.backends.cudnn.benchmark = True
    news = [timed(frames[0] + 13 * (i + 1), 2) for i in range(reps)]
    out["new-length b2 cudnn.benchmark"] = sorted(news)[reps // 2]
    torch.backends.cudnn.benchmark = False
    from torch.profiler import ProfilerActivity, profile

    call(frames[0], 2)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        call(frames[0], 2)
        sync()
    out["profile_cuda"] = prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=10)
    out["profile_cpu"] = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, nargs="+", default=[560, 1310, 2160])
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--profile", action="store_true", help="print the profiler tables")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.frames, args.reps)

    class A:
        sdist = None

    sdist = f5_rtf.find_sdist(A)
    patch06 = [n for n in f5_rtf.series_names() if n.startswith("06-")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, patches in (("pristine", []), ("06", patch06)):
            tree = f5_rtf.build_tree(sdist, Path(tmp) / name, patches)
            res = subprocess.run([sys.executable, __file__, "--worker", str(tree), "--reps", str(args.reps),
                                  "--frames", *map(str, args.frames)], capture_output=True, text=True)
            if res.returncode:
                sys.exit(f"{name}: rc {res.returncode}\n{res.stderr[-3000:]}")
            results[name] = json.loads(res.stdout.strip().splitlines()[-1])
    p, q = results["pristine"], results["06"]
    print(f"F5-TTS {f5_rtf.F5_VERSION} TextEmbedding (F5TTS_v1_Base, float16), {p['device']}, torch {p['torch']}; "
          f"median of {args.reps} calls, ms")
    print(f"{'case':<32} {'pristine':>9} {'with 06':>9} {'06/pristine':>12}")
    for k in p:
        if isinstance(p[k], float):
            print(f"{k:<32} {p[k]:>9.2f} {q[k]:>9.2f} {q[k] / p[k]:>12.3f}")
    if args.profile:
        for name in ("pristine", "06"):
            print(f"--- {name}: self CUDA time\n{results[name]['profile_cuda']}")
            print(f"--- {name}: self CPU time\n{results[name]['profile_cpu']}")


if __name__ == "__main__":
    main()
