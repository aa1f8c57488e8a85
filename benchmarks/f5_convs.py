#!/usr/bin/env python3
"""Time the Conv1d shapes F5-TTS runs, half vs fp32, on the GPU (the evidence for patch 06).

Shapes (F5TTS_v1_Base, 3 s reference + 20 s output, about 2160 frames):
  text ConvNeXtV2 depthwise: (1, 512, n), k=7, groups=512 (4 blocks, cond + uncond, once per call)
  vocos ConvNeXt depthwise:  (1, 512, n), k=7, groups=512 (8 blocks, once per call)
  DiT ConvPositionEmbedding: (2, 1024, n), k=31, groups=16 (2 per step, 2 x NFE per call)
Usage: python3 benchmarks/f5_convs.py [--frames 2160]
"""

import argparse

import torch
import torch.nn.functional as F


def bench(fn, reps=20):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, nargs="+", default=[560, 2160])
    args = ap.parse_args()
    dev = "cuda"
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, cudnn {torch.backends.cudnn.version()}")
    print(f"{'conv':<28} {'frames':>6} {'fp16 ms':>8} {'bf16 ms':>8} {'fp32 ms':>8} {'fp16->fp32->fp16 ms':>20}")
    for name, b, c, k, groups in [("depthwise k7 (text, vocos)", 1, 512, 7, 512),
                                  ("grouped k31 g16 (pos emb)", 2, 1024, 31, 16)]:
        for n in args.frames:
            x32 = torch.randn(b, n, c, device=dev).transpose(1, 2)  # as the modules see it: a transposed view
            w32 = torch.randn(c, c // groups, k, device=dev) * 0.05
            b32 = torch.randn(c, device=dev) * 0.05
            t = {}
            for dt in (torch.float16, torch.bfloat16, torch.float32):
                x, w, bb = x32.to(dt), w32.to(dt), b32.to(dt)
                t[dt] = bench(lambda: F.conv1d(x, w, bb, padding=k // 2, groups=groups))
            x16, w16, b16 = x32.half(), w32.half(), b32.half()
            up = bench(lambda: F.conv1d(x16.float().contiguous(), w16.float(), b16.float(), padding=k // 2,
                                        groups=groups).half())
            print(f"{name:<28} {n:>6} {t[torch.float16]:>8.3f} {t[torch.bfloat16]:>8.3f} {t[torch.float32]:>8.3f} "
                  f"{up:>20.3f}")


if __name__ == "__main__":
    main()
