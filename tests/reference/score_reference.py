#!/usr/bin/python3
"""Ink score of a segment crop computed by plain PyTorch, the reference that inkgen's `score` must match.

Reads the layers with PIL (16-bit greyscale TIFF), applies raw16/65535, runs the TorchScript model,
and prints the mean logit and mean probability over the output elements. The numbers recorded in
tests/cli/score_real_test.cpp were made with:

  /usr/bin/python3 tests/reference/score_reference.py \
      --model ../shared/models/keras-patch-x65m25.pt --segment ../shared/data/scroll-chunk \
      --crop 0,0,65,65 --z0 29
"""
import argparse
import json
import os

import numpy as np
import torch
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--segment", required=True)
    ap.add_argument("--crop", required=True, help="x1,y1,x2,y2, end exclusive")
    ap.add_argument("--z0", type=int, required=True)
    ap.add_argument("--depth", type=int, default=None, help="default: from the model card")
    ap.add_argument("--scale", default="raw16/65535", choices=["raw16/65535", "min(raw16>>8,200)/255"])
    args = ap.parse_args()

    extra = {"inkgen.json": ""}
    model = torch.jit.load(args.model, map_location="cpu", _extra_files=extra)
    model.eval()
    depth = args.depth or json.loads(extra["inkgen.json"])["input"]["shape"][1]
    x1, y1, x2, y2 = (int(v) for v in args.crop.split(","))
    layers = []
    for z in range(args.z0, args.z0 + depth):
        img = np.array(Image.open(os.path.join(args.segment, "layers", f"{z:02d}.tif"))).astype(np.int64)
        layers.append(img[y1:y2, x1:x2])
    raw = np.stack(layers)
    if args.scale == "raw16/65535":
        vol = raw / 65535.0
    else:
        vol = np.minimum(raw >> 8, 200) / 255.0
    x = torch.from_numpy(vol.astype(np.float32))[None, None]
    with torch.no_grad():
        out = model(x).reshape(1, -1).double()
    print(json.dumps({"logit": out.mean().item(), "probability": torch.sigmoid(out).mean().item()}))


if __name__ == "__main__":
    main()
