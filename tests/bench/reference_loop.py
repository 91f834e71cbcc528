#!/usr/bin/python3
"""The reference loop of `inkgen bench`: activation maximization as a researcher writes it in
Python PyTorch, to measure inkgen against.

torch.jit.load of the same model file, Adam on the input (the model's weights left as they load,
requiring gradients, as in the feature-visualization libraries), the same steps, batch, threads
and device, the loss read back every step for the progress print. Prints one JSON line:
{"crop_steps_per_second": ..., "steps_per_second": ..., "seconds": ..., "final_logit_mean": ...,
 "peak_rss_mb": ..., "peak_cuda_mb": ...}

  /usr/bin/python3 tests/bench/reference_loop.py --model M.pt --batch 16 --steps 100 --threads 2
"""
import argparse
import json
import resource
import time

import torch


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
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    extra = {"inkgen.json": ""}
    model = torch.jit.load(args.model, map_location=device, _extra_files=extra)
    model.eval()
    card = json.loads(extra["inkgen.json"]) if extra["inkgen.json"] else {}
    c, d, h, w = card["input"]["shape"]
    lo, hi = card["input"].get("range", [0.0, 1.0])

    torch.manual_seed(args.seed)
    x = (torch.rand(args.batch, c, d, h, w, device=device) * (hi - lo) + lo).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=args.lr)

    def step():
        opt.zero_grad()
        out = model(x)
        logits = out.reshape(out.shape[0], -1).mean(1)
        loss = -logits.sum()
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(lo, hi)
        return loss.item()  # a progress print reads the loss back every step

    for _ in range(args.warmup):
        step()
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
    }))


if __name__ == "__main__":
    main()
