#!/usr/bin/python3
"""The peers of `inkgen bench`: activation maximization as a careful researcher writes it in
Python PyTorch, to measure inkgen against.

torch.jit.load of the same model file, Adam on the input, the same steps, batch, threads and
device, the loss read back every step for the progress print. Three variants:

  --weights trainable   the model as it loads (weights requiring gradients, as in the
                        feature-visualization libraries): what a researcher writes first
  --weights frozen      weights not requiring gradients, so backward computes only the input's
                        gradient, and the module frozen (torch.jit.freeze): the best eager loop
                        (the bench also gives it glibc's malloc tuned as inkgen tunes it)
  --compile             frozen, and the model under torch.compile (inductor). A TorchScript
                        module is opaque to torch.compile, so it is first converted to an
                        ExportedProgram (torch._export.converter, torch >= 2.4) and its module
                        compiled; the compile happens in the warm-up, outside the clock.

Prints one JSON line:
{"crop_steps_per_second": ..., "steps_per_second": ..., "seconds": ..., "final_logit_mean": ...,
 "peak_rss_mb": ..., "peak_cuda_mb": ..., "torch_version": ..., "compile_seconds": ...}
Exits 3 when --compile is asked of a torch that cannot do it (too old, or the conversion fails).

  python3 tests/bench/reference_loop.py --model M.pt --batch 16 --steps 100 --threads 2 --compile
"""
import argparse
import json
import resource
import sys
import time

import torch


def compiled_module(model, example):
    try:
        from torch._export.converter import TS2EPConverter
    except ImportError as e:
        print(f"reference_loop: torch {torch.__version__} cannot convert TorchScript for "
              f"torch.compile ({e})", file=sys.stderr)
        sys.exit(3)
    try:
        module = TS2EPConverter(model, (example,)).convert().module()
        return torch.compile(module)
    except Exception as e:  # the converter covers most, not all, TorchScript
        print(f"reference_loop: the TorchScript model could not be converted for torch.compile: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=3, help="steps run before the clock starts")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", choices=["trainable", "frozen"], default="trainable")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (frozen)")
    ap.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32",
                    help="the model's arithmetic under torch.autocast, as inkgen's --precision")
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    extra = {"inkgen.json": ""}
    model = torch.jit.load(args.model, map_location=device, _extra_files=extra)
    model.eval()
    if args.weights == "frozen" or args.compile:
        for p in model.parameters():
            p.requires_grad_(False)
        if not args.compile:
            # Weights become constants and batch norms fold into convolutions, as inkgen does
            # (+9 % on the bundled model on torch 2.15). The compiled peer leaves this to inductor.
            model = torch.jit.freeze(model)
    card = json.loads(extra["inkgen.json"]) if extra["inkgen.json"] else {}
    c, d, h, w = card["input"]["shape"]
    lo, hi = card["input"].get("range", [0.0, 1.0])

    torch.manual_seed(args.seed)
    x = (torch.rand(args.batch, c, d, h, w, device=device) * (hi - lo) + lo).requires_grad_(True)
    compile_seconds = 0.0
    if args.compile:
        t = time.perf_counter()
        model = compiled_module(model, x.detach())
        compile_seconds = time.perf_counter() - t
    opt = torch.optim.Adam([x], lr=args.lr)

    autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)

    def forward():
        if autocast_dtype is None:
            return model(x)
        with torch.autocast(device.type, dtype=autocast_dtype):
            return model(x).float()

    def step():
        opt.zero_grad()
        out = forward()
        logits = out.reshape(out.shape[0], -1).mean(1)
        loss = -logits.sum()
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(lo, hi)
        return loss.item()  # a progress print reads the loss back every step

    t = time.perf_counter()
    for _ in range(max(args.warmup, 1 if args.compile else 0)):
        step()
    if args.compile:
        compile_seconds += time.perf_counter() - t  # inductor compiles on the first call
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    loss = 0.0
    for _ in range(args.steps):
        loss = step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "crop_steps_per_second": args.steps * args.batch / seconds,
        "steps_per_second": args.steps / seconds,
        "seconds": seconds,
        "final_logit_mean": -loss / args.batch,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "peak_cuda_mb": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else 0.0,
        "torch_version": torch.__version__,
        "compile_seconds": compile_seconds,
    }))


if __name__ == "__main__":
    main()
