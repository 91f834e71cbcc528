#!/usr/bin/python3
"""Train inkgen's bundled default model on synthetic segments made by `inkgen synth`.

    /usr/bin/python3 models/train_bundled.py --inkgen build/synth/bin/inkgen

writes models/inkgen-synth-i3dlite.pt: a small Grand-Prize-shaped 3D CNN (3D conv stages, max
over depth, a small 2D decoder) taking (N, 1, 20, 64, 64) on the Grand Prize scale
min(raw16>>8,200)/255 from layers 22..41 and returning (N, 1, 16, 16) ink logits at stride 4,
with its model card embedded as the extra file `inkgen.json`.

The data are made here and now: training segments and separate held-out segments, each from its
own `inkgen synth --seed S` (512x384, 65 layers), in a temporary folder. The model therefore
knows synthetic ink only (a thin, slightly denser film on the sheet's surface), not real carbon
ink. The held-out metrics go into the card.

--synth-args "..." passes options to every `inkgen synth` call (e.g. "--ink-contrast -0.05
--ink-depth 2" for another known kind of ink); they and the synth options the segments record
(<name>_synth.json) go into the card. --name names the model (and its default --out).

The run is reproducible: the same arguments on the same machine (same thread count, same
inkgen build, same torch) give the same weights and metrics. Options for a longer run:
--epochs, --steps, --segments, --seed, --device cuda. Needs Debian's /usr/bin/python3 (torch,
numpy, PIL).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

MODEL_NAME = "inkgen-synth-i3dlite"
SCALE = "min(raw16>>8,200)/255"
DEPTH = 20
# The surface bends between layers 29 and 35 on the papyrus (1st..99th percentile; --bend 3), the
# default film lies 1.5 layers above it: the window 22..41 holds air above and papyrus below.
Z0 = 22
TILE = 64
STRIDE = 4
SEGMENT_SIZE = (512, 384)
LAYERS = 65
TRAIN_SEED_BASE = 1  # training segments: synth seeds 1, 2, ...
HELDOUT_SEED_BASE = 1001  # held-out segments: synth seeds 1001, 1002, ...


def log(*args):
    print(*args, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--inkgen", required=True, help="the built inkgen executable (makes the data)")
    p.add_argument("--name", default=MODEL_NAME, help="the model's name in its card")
    p.add_argument("--out", help="the model file to write (default: models/<name>.pt)")
    p.add_argument("--synth-args", default="",
                   help="options for every `inkgen synth` call, one string, e.g. "
                        "\"--ink-contrast -0.05 --ink-depth 2\"")
    p.add_argument("--seed", type=int, default=0, help="weights and sampling (not the data)")
    p.add_argument("--segments", type=int, default=12, help="training segments")
    p.add_argument("--heldout", type=int, default=4, help="held-out segments")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps", type=int, default=100, help="batches per epoch")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--workdir", help="keep the synthetic segments here (default: a temporary "
                                     "folder, removed afterwards)")
    p.add_argument("--profile-only", metavar="MODEL",
                   help="only (re)write input.profile in MODEL's card, from its training "
                        "segments (remade with the card's synth options); the weights are kept")
    p.add_argument("--features-only", metavar="MODEL",
                   help="only re-export MODEL with the features method (its stages' "
                        "activations, for hidden-layer objectives); weights and card kept")
    args = p.parse_args(argv)
    if args.out is None:
        args.out = os.path.join(os.path.dirname(os.path.abspath(__file__)), args.name + ".pt")
    return args


def make_segments(inkgen, workdir, kind, seeds, synth_args):
    """One `inkgen synth` segment per seed; a kept --workdir segment is reused only if it was
    made with the same command (recorded beside it), so that other --synth-args remake it."""
    dirs = []
    for seed in seeds:
        d = os.path.join(workdir, f"{kind}-{seed}")
        command = [inkgen, "synth", "--out", d, "--seed", str(seed), "--size",
                   f"{SEGMENT_SIZE[0]},{SEGMENT_SIZE[1]}", "--layers", str(LAYERS), "-q"]
        command += shlex.split(synth_args)
        stamp = d + ".command"
        made_with = open(stamp).read() if os.path.exists(stamp) else None
        wanted = shlex.join(command[1:])
        if not os.path.isdir(d) or made_with != wanted:
            subprocess.run(command + ["--force"], check=True)
            with open(stamp, "w") as f:
                f.write(wanted)
        dirs.append(d)
    return dirs


def synth_options(d):
    """The options `inkgen synth` recorded in the segment, less what differs per segment."""
    name = os.path.basename(os.path.normpath(d))
    with open(os.path.join(d, f"{name}_synth.json")) as f:
        record = json.load(f)
    return {k: v for k, v in record.items()
            if k not in ("seed", "text", "text_given", "surface_p01_p99", "conventions")}


def load_segment(d):
    """The model's window on the model's scale levels (uint8, 0..200), ink labels and mask."""
    import numpy as np
    from PIL import Image
    name = os.path.basename(os.path.normpath(d))
    layers = []
    for z in range(Z0, Z0 + DEPTH):
        raw = np.array(Image.open(os.path.join(d, "layers", f"{z:02d}.tif")))
        assert raw.dtype == np.uint16, f"{d}: layer {z} is {raw.dtype}, not 16-bit"
        layers.append(np.minimum(raw >> 8, 200).astype(np.uint8))
    ink = np.array(Image.open(os.path.join(d, f"{name}_inklabels.png"))) > 0
    mask = np.array(Image.open(os.path.join(d, f"{name}_mask.png"))) > 0
    return np.stack(layers), ink, mask


def depth_profile(segment_dirs, samples=20000, seed=0):
    """What a plain sheet looks like to the model, per window layer, on the model's scale: the
    mean (input.profile) and the spread (input.profile_sd) of the papyrus (mask) columns of the
    training segments, each column first shifted so that its surface (synth's _surface.tif) lies
    at the segments' mean surface height. Without the alignment the bends of the sheet would
    smear it into a ramp many layers thick, which no real column looks like. inkgen's noise kind
    "sheet" starts from profile + profile_sd * smooth noise (ink labels are not used: ink is a
    few percent of a few layers)."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    margin = 8
    columns, surfaces = [], []
    for d in segment_dirs:
        name = os.path.basename(os.path.normpath(d))
        mask = np.array(Image.open(os.path.join(d, f"{name}_mask.png"))) > 0
        surface = np.array(Image.open(os.path.join(d, f"{name}_surface.tif")), dtype=np.float64)
        first, last = max(0, Z0 - margin), min(LAYERS, Z0 + DEPTH + margin)
        stack = np.stack([np.minimum(np.array(Image.open(os.path.join(d, "layers", f"{z:02d}.tif")))
                                     >> 8, 200) for z in range(first, last)]) / 255.0
        ys, xs = np.nonzero(mask)
        pick = rng.choice(len(ys), min(samples // len(segment_dirs), len(ys)), replace=False)
        for y, x in zip(ys[pick], xs[pick]):
            columns.append((stack[:, y, x], first))
            surfaces.append(surface[y, x])
    mean_surface = float(np.mean(surfaces))
    aligned = np.empty((len(columns), DEPTH))
    for k, ((column, first), s) in enumerate(zip(columns, surfaces)):
        shift = int(round(s - mean_surface))
        index = np.clip(np.arange(Z0, Z0 + DEPTH) + shift - first, 0, len(column) - 1)
        aligned[k] = column[index]
    return ([round(float(v), 6) for v in aligned.mean(axis=0)],
            [round(float(v), 6) for v in aligned.std(axis=0)])


def add_profile(args):
    """--profile-only: write input.profile into an existing model's card (weights untouched)."""
    import torch
    files = {"inkgen.json": ""}
    module = torch.jit.load(args.profile_only, _extra_files=files)
    card = json.loads(files["inkgen.json"])
    training = card.get("training", {})
    synth_args = training.get("synth_args", args.synth_args)
    seeds = training.get("data", {}).get("train_seeds") or list(
        range(TRAIN_SEED_BASE, TRAIN_SEED_BASE + args.segments))
    with tempfile.TemporaryDirectory(prefix="inkgen-profile-") as workdir:
        dirs = make_segments(args.inkgen, args.workdir or workdir, "train", seeds, synth_args)
        card["input"]["profile"], card["input"]["profile_sd"] = depth_profile(dirs)
    tmp = args.profile_only + ".tmp"
    torch.jit.save(module, tmp, _extra_files={"inkgen.json": json.dumps(card, indent=2)})
    os.replace(tmp, args.profile_only)
    log(f"wrote input.profile and profile_sd into {args.profile_only}: "
        f"{card['input']['profile']} {card['input']['profile_sd']}")


def add_features(args):
    """--features-only: re-export an existing model with the features method (same weights)."""
    import torch
    files = {"inkgen.json": ""}
    loaded = torch.jit.load(args.features_only, _extra_files=files)
    card = json.loads(files["inkgen.json"])
    model = build_model()
    model.load_state_dict(loaded.state_dict())
    model.eval()
    g = torch.Generator().manual_seed(99)
    x = torch.rand((2, 1, DEPTH, TILE, TILE), generator=g) * (200.0 / 255.0)
    with torch.no_grad():
        before = loaded(x)
    export(model, card, args.features_only, torch)
    with torch.no_grad():
        after = torch.jit.load(args.features_only)(x)
    if not torch.equal(before, after):
        raise SystemExit("train_bundled: the re-exported model's output changed")
    log(f"wrote the features method into {args.features_only}: layers {card['layers']}")


def build_model():
    from typing import Dict

    import torch
    from torch import nn
    import torch.nn.functional as F

    def stage(cin, cout, stride):
        return nn.Sequential(nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False),
                             nn.BatchNorm3d(cout), nn.ReLU(inplace=True))

    class I3DLite(nn.Module):
        """3D conv stages that keep the depth resolution until stride 4 (the ink film is a
        layer or two thin), max over depth (the surface may lie at any height in the window),
        and a 2D decoder that fuses strides 4 and 8 into logits at stride 4."""

        def __init__(self):
            super().__init__()
            self.stem = stage(1, 8, (1, 2, 2))  # D x 32 x 32
            self.down1 = stage(8, 16, (1, 2, 2))  # D x 16 x 16
            self.down2 = stage(16, 32, (2, 1, 1))  # D/2 x 16 x 16
            self.down3 = stage(32, 64, (2, 2, 2))  # D/4 x 8 x 8
            self.fuse = nn.Sequential(nn.Conv2d(32 + 64, 32, 3, padding=1, bias=False),
                                      nn.BatchNorm2d(32), nn.ReLU(inplace=True))
            self.head = nn.Conv2d(32, 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            f4 = self.down2(self.down1(self.stem(x)))
            f8 = self.down3(f4)
            up = F.interpolate(f8.amax(dim=2), scale_factor=2.0, mode="bilinear",
                               align_corners=False)
            return self.head(self.fuse(torch.cat([f4.amax(dim=2), up], dim=1)))

        @torch.jit.export
        def features(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
            """Every stage's activations (after its ReLU), for inkgen's hidden-layer
            objectives, and the output, so that one pass serves both."""
            stem = self.stem(x)
            down1 = self.down1(stem)
            f4 = self.down2(down1)
            f8 = self.down3(f4)
            up = F.interpolate(f8.amax(dim=2), scale_factor=2.0, mode="bilinear",
                               align_corners=False)
            fuse = self.fuse(torch.cat([f4.amax(dim=2), up], dim=1))
            return {"stem": stem, "down1": down1, "down2": f4, "down3": f8, "fuse": fuse,
                    "output": self.head(fuse)}

    return I3DLite()


class Sampler:
    """Random 64x64 crops, half of them centred near ink, flipped at random."""

    def __init__(self, segments, rng):
        import numpy as np
        self.segments = segments
        self.rng = rng
        self.ink_points = [np.argwhere(ink) for _, ink, _ in segments]
        self.mask_points = [np.argwhere(mask) for _, _, mask in segments]

    def crop(self):
        import numpy as np
        rng = self.rng
        i = int(rng.integers(len(self.segments)))
        volume, ink, _ = self.segments[i]
        h, w = ink.shape
        points = self.ink_points[i] if rng.random() < 0.5 else self.mask_points[i]
        cy, cx = points[int(rng.integers(len(points)))] + rng.integers(-24, 25, size=2)
        y = int(np.clip(cy - TILE // 2, 0, h - TILE))
        x = int(np.clip(cx - TILE // 2, 0, w - TILE))
        v = volume[:, y:y + TILE, x:x + TILE]
        t = ink[y:y + TILE, x:x + TILE]
        if rng.random() < 0.5:
            v, t = v[:, :, ::-1], t[:, ::-1]
        if rng.random() < 0.5:
            v, t = v[:, ::-1, :], t[::-1, :]
        return v, t

    def batch(self, n, torch, device):
        import numpy as np
        crops = [self.crop() for _ in range(n)]
        v = np.stack([c[0] for c in crops])[:, None].astype(np.float32) / 255.0
        t = np.stack([c[1] for c in crops])[:, None].astype(np.float32)
        x = torch.from_numpy(v).to(device)
        target = torch.nn.functional.avg_pool2d(torch.from_numpy(t), STRIDE).to(device)
        return x, target


def predict_map(model, volume, torch, device):
    """Logits of a whole segment at stride 4: 64x64 tiles every 32 pixels, overlaps averaged."""
    import numpy as np
    _, h, w = volume.shape
    out = np.zeros((h // STRIDE, w // STRIDE), np.float64)
    count = np.zeros_like(out)
    ys = list(range(0, h - TILE + 1, TILE // 2))
    xs = list(range(0, w - TILE + 1, TILE // 2))
    with torch.no_grad():
        for y in ys:
            tiles = np.stack([volume[:, y:y + TILE, x:x + TILE] for x in xs])
            x_in = torch.from_numpy(tiles[:, None].astype(np.float32) / 255.0).to(device)
            logits = model(x_in)[:, 0].cpu().numpy()
            for j, x in enumerate(xs):
                out[y // STRIDE:(y + TILE) // STRIDE, x // STRIDE:(x + TILE) // STRIDE] += logits[j]
                count[y // STRIDE:(y + TILE) // STRIDE, x // STRIDE:(x + TILE) // STRIDE] += 1
    return out / np.maximum(count, 1)


def auc(scores, labels):
    """Area under the ROC curve by ranks (ties share their mean rank)."""
    import numpy as np
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s), np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    for a, b in zip(starts, ends):
        ranks[a:b] = (a + b + 1) / 2.0
    r = np.empty_like(ranks)
    r[order] = ranks
    pos = labels.astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((r[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def best_f05(scores, labels):
    """The best F0.5 over thresholds, and that threshold (predict ink where score >= it)."""
    import numpy as np
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order].astype(np.float64)
    tp = np.cumsum(y)
    fp = np.cumsum(1 - y)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # cut only between distinct scores
    tp, fp = tp[last], fp[last]
    precision = tp / (tp + fp)
    recall = tp / y.sum()
    f = 1.25 * precision * recall / np.maximum(0.25 * precision + recall, 1e-12)
    k = int(np.argmax(f))
    return float(f[k]), float(s[last[k]])


def evaluate(model, segments, torch, device):
    """Pixel AUC and F0.5 on the papyrus (mask) pixels of held-out segments, the stride-4
    probability maps upsampled (bilinear) to full resolution."""
    import numpy as np
    import torch.nn.functional as F
    model.eval()
    scores, labels = [], []
    for volume, ink, mask in segments:
        logits = predict_map(model, volume, torch, device)
        prob = torch.sigmoid(torch.from_numpy(logits)[None, None].float())
        full = F.interpolate(prob, scale_factor=float(STRIDE), mode="bilinear",
                             align_corners=False)[0, 0].numpy()
        scores.append(full[mask])
        labels.append(ink[mask])
    scores, labels = np.concatenate(scores), np.concatenate(labels)
    f05, threshold = best_f05(scores, labels)
    return {"heldout_pixel_auc": round(auc(scores, labels), 4), "heldout_f05": round(f05, 4),
            "threshold": round(threshold, 4)}


def export(model, card, out, torch):
    """Script, check against the eager model, save with the card embedded, atomically."""
    model = model.cpu().eval()
    scripted = torch.jit.script(model)
    g = torch.Generator().manual_seed(1234)
    x = torch.rand((2, 1, DEPTH, TILE, TILE), generator=g) * (200.0 / 255.0)
    with torch.no_grad():
        eager_out, scripted_out = model(x), scripted(x)
    diff = float((eager_out - scripted_out).abs().max())
    if tuple(scripted_out.shape) != (2, 1, TILE // STRIDE, TILE // STRIDE) or diff > 1e-5:
        raise SystemExit(f"train_bundled: the scripted model differs from the eager one "
                         f"(shape {tuple(scripted_out.shape)}, max diff {diff}); not saved")
    with torch.no_grad():
        card["layers"] = {k: list(v.shape[1:]) for k, v in scripted.features(x).items()}
    folder = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out) + ".", dir=folder)
    os.close(fd)
    try:
        torch.jit.save(scripted, tmp, _extra_files={"inkgen.json": json.dumps(card, indent=2)})
        files = {"inkgen.json": ""}
        loaded = torch.jit.load(tmp, _extra_files=files)
        with torch.no_grad():
            again = float((loaded(x) - eager_out).abs().max())
        if again > 1e-5 or json.loads(files["inkgen.json"]) != card:
            raise SystemExit(f"train_bundled: the saved file does not read back (diff {again})")
        os.chmod(tmp, 0o644)  # mkstemp's 0600 is not what a committed model file should be
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return diff


def main(argv):
    args = parse_args(argv)
    if args.profile_only:
        add_profile(args)
        return
    if args.features_only:
        add_features(args)
        return
    if args.device == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=args.device != "cpu")
    device = torch.device(args.device)
    rng = np.random.default_rng(args.seed)
    command = " ".join(shlex.quote(a) for a in ["/usr/bin/python3", "models/train_bundled.py"] + argv)
    started = time.time()

    train_seeds = list(range(TRAIN_SEED_BASE, TRAIN_SEED_BASE + args.segments))
    heldout_seeds = list(range(HELDOUT_SEED_BASE, HELDOUT_SEED_BASE + args.heldout))
    with tempfile.TemporaryDirectory(prefix="inkgen-train-") as tmp:
        workdir = args.workdir or tmp
        os.makedirs(workdir, exist_ok=True)
        log(f"making {len(train_seeds)} training and {len(heldout_seeds)} held-out segments "
            f"with {args.inkgen} synth in {workdir}")
        train_dirs = make_segments(args.inkgen, workdir, "train", train_seeds, args.synth_args)
        heldout_dirs = make_segments(args.inkgen, workdir, "heldout", heldout_seeds,
                                     args.synth_args)
        synth = synth_options(train_dirs[0])
        train = [load_segment(d) for d in train_dirs]
        heldout = [load_segment(d) for d in heldout_dirs]
        profile, profile_sd = depth_profile(train_dirs)
    data_time = time.time() - started
    log(f"data ready in {data_time:.0f} s")

    model = build_model().to(device)
    parameters = sum(p.numel() for p in model.parameters())
    log(f"{args.name}: {parameters} parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    total = args.epochs * args.steps
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=total,
                                                   pct_start=0.15)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    sampler = Sampler(train, rng)
    train_started = time.time()
    for epoch in range(args.epochs):
        model.train()
        running = 0.0
        for _ in range(args.steps):
            x, target = sampler.batch(args.batch, torch, device)
            loss = loss_fn(model(x), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            running += float(loss)
        metrics = evaluate(model, heldout[:1], torch, device)
        log(f"epoch {epoch + 1}/{args.epochs}: loss {running / args.steps:.4f}, held-out "
            f"segment 1 AUC {metrics['heldout_pixel_auc']:.4f} F0.5 {metrics['heldout_f05']:.4f} "
            f"({time.time() - train_started:.0f} s)")
    train_time = time.time() - train_started
    metrics = evaluate(model, heldout, torch, device)
    metrics["heldout_segments"] = len(heldout)
    metrics["evaluation"] = (
        "papyrus (mask) pixels of the held-out segments at full resolution; the stride-4 map of "
        "64x64 tiles every 32 px (overlaps averaged) upsampled bilinearly; F0.5 at the best "
        "threshold on the probability")
    log(f"held-out ({len(heldout)} segments): pixel AUC {metrics['heldout_pixel_auc']}, "
        f"F0.5 {metrics['heldout_f05']} at probability >= {metrics['threshold']}")

    card = {
        "name": args.name,
        "architecture": "I3D-lite: Conv3d 3x3x3-BN-ReLU stages 1->8 (stride 1,2,2), ->16 "
                        "(1,2,2), ->32 (2,1,1), ->64 (2,2,2); max over depth of the stride-4 and stride-8 "
                        "features; 2D decoder: upsample x2, concat, Conv2d 96->32 3x3 BN ReLU, "
                        f"Conv2d 32->1 1x1; {parameters} parameters",
        "input": {"shape": [1, DEPTH, TILE, TILE], "layout": "N,C,D,H,W", "dtype": "float32",
                  "scale": SCALE, "range": [0.0, 200.0 / 255.0], "z0": Z0,
                  "profile": profile, "profile_sd": profile_sd},
        "output": {"shape": [1, TILE // STRIDE, TILE // STRIDE], "kind": "logits",
                   "meaning": "ink logit of each 4x4-pixel cell of the 64x64 crop (stride 4); "
                              "trained on synthetic ink only (inkgen synth: "
                              + (f"a film with synth options {args.synth_args}"
                                 if args.synth_args.strip() else
                                 "a thin, slightly denser film on the papyrus surface")
                              + "), not on real scroll ink"},
        "source": "inkgen models/train_bundled.py, trained on synthetic segments from "
                  "`inkgen synth` only; no real scroll data",
        "training": {
            "script": "models/train_bundled.py",
            "command": command,
            "seed": args.seed,
            "synth_args": args.synth_args,
            "data": {"generator": "inkgen synth", "synth_args": shlex.split(args.synth_args),
                     "synth": synth, "size": list(SEGMENT_SIZE), "layers": LAYERS,
                     "train_segments": len(train_seeds), "train_seeds": train_seeds,
                     "heldout_segments": len(heldout_seeds), "heldout_seeds": heldout_seeds,
                     "crops": "64x64, half centred near ink, random flips",
                     "target": "ink labels average-pooled 4x4 to 16x16"},
            "epochs": args.epochs,
            "steps_per_epoch": args.steps,
            "batch": args.batch,
            "optimizer": "AdamW (weight decay 1e-4), one-cycle schedule",
            "lr": args.lr,
            "loss": "BCE with logits",
            "threads": args.threads,
            "device": args.device,
            "time_s": {"data": round(data_time), "training": round(train_time),
                       "total": round(time.time() - started)},
            "torch": torch.__version__,
        },
        "metrics": metrics,
    }
    diff = export(model, card, args.out, torch)
    log(f"wrote {args.out} ({os.path.getsize(args.out)} bytes; scripted = eager to {diff:.1e})")
    log(json.dumps(metrics))


if __name__ == "__main__":
    main(sys.argv[1:])
