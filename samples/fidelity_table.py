#!/usr/bin/python3
"""Known-answer fidelity of inkgen's recipes: the table in samples/README.md.

    /usr/bin/python3 samples/fidelity_table.py --inkgen build/release/bin/inkgen \
        [--model models/inkgen-synth-i3dlite.pt] [--seeds 2001,2002] [--crops 8] [--work DIR]

For each synth seed it makes a segment with `inkgen synth` (with the model card's own synth
options, so that a model trained on lighter or deeper ink is scored on its own kind of ink),
picks --crops ink-free and --crops inked 64x64 crops inside the mask (the ink labels decide),
and runs each recipe:

  maximize --from segment on the ink-free crops   -> KAS_film (at p >= 0.9)
  minimize --from segment on the inked crops      -> KAS_ink  (at p <= 0.1)
  maximize --from noise, --crops starts            -> F_band
  attribute on the inked crops                     -> F_band / KAS_ink

then scores every run with `inkgen fidelity --json` and prints one markdown row per recipe and
mode (means over all crops of all seeds). Needs Debian's /usr/bin/python3 with numpy and PIL.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import zlib

RECIPES = {
    # name: extra arguments of maximize/minimize
    "minimal (default)": [],
    "classic (200 Adam steps)": ["--recipe", "classic"],
    "minimal as of stop 12 (both ways and no threshold)": ["--change-sign", "both",
                                                           "--grad-threshold", "0"],
    "minimal both ways": ["--change-sign", "both"],
    "minimal without threshold": ["--grad-threshold", "0"],
    "minimal with stop 30's threshold (0.15)": ["--grad-threshold", "0.15"],
    "minimal without gradient blur": ["--grad-blur", "0"],
    "minimal with Adam": ["--optimizer", "adam"],
}
ATTRIBUTIONS = {
    "attribute map-depth (default)": [],
    "attribute cells": ["--method", "cells", "--threshold", "0.2"],
    "attribute cells with both signs": ["--method", "cells", "--threshold", "0.2",
                                        "--keep-sign", "both"],
    "attribute gradient": ["--method", "gradient", "--smooth", "0", "--threshold", "0"],
    "attribute smoothgrad": ["--method", "smoothgrad"],
    "attribute ig": ["--method", "ig"],
}


def run(command, **kw):
    return subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout


def card_of(inkgen, model):
    info = json.loads(run([inkgen, "info", "--json", "--quiet"] + (["--model", model] if model else [])))
    return info["card"]


def pick_crops(segment, size, count, inked, seed):
    import numpy as np
    from PIL import Image
    name = os.path.basename(os.path.normpath(segment))
    mask = np.array(Image.open(os.path.join(segment, f"{name}_mask.png"))) > 0
    ink = np.array(Image.open(os.path.join(segment, f"{name}_inklabels.png"))) > 0
    rng = np.random.default_rng(seed)
    candidates = []
    for y in range(0, mask.shape[0] - size + 1, size // 2):
        for x in range(0, mask.shape[1] - size + 1, size // 2):
            if not mask[y:y + size, x:x + size].all():
                continue
            share = ink[y:y + size, x:x + size].mean()
            if (inked and share > 0.08) or (not inked and share == 0):
                candidates.append((x, y))
    rng.shuffle(candidates)
    chosen = candidates[:count]
    return [f"{x},{y},{x + size},{y + size}" for x, y in chosen]


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--inkgen", required=True)
    p.add_argument("--model", default="", help="default: the bundled model")
    p.add_argument("--seeds", default="2001,2002")
    p.add_argument("--crops", type=int, default=8)
    p.add_argument("--work", help="keep segments and runs here (default: a temporary folder)")
    p.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated names")
    p.add_argument("--no-attribute", action="store_true")
    p.add_argument("--try", dest="tries", action="append", default=[], metavar="NAME=ARGS",
                   help="also measure a recipe of your own: NAME=\"--grad-blur 2 --lr 1e-4\" "
                        "(its name can then be given to --recipes); repeatable")
    args = p.parse_args(argv)
    for t in args.tries:
        name, sep, extra = t.partition("=")
        if not sep or not name:
            p.error(f"--try {t!r}: give NAME=ARGS")
        RECIPES[name] = shlex.split(extra)
    recipes = [n for n in args.recipes.split(",") if n]  # "": attribution alone
    unknown = [n for n in recipes if n not in RECIPES]
    if unknown:
        p.error(f"unknown recipe {unknown[0]!r}; known: {', '.join(RECIPES)}")
    inkgen = os.path.abspath(args.inkgen)
    model = os.path.abspath(args.model) if args.model else ""
    card = card_of(inkgen, model)
    size = card["input"]["shape"][-1]
    synth_args = card.get("training", {}).get("synth_args", "")
    work = args.work or tempfile.mkdtemp(prefix="inkgen-fidelity-")
    model_args = ["--model", model] if model else []
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        segment = os.path.join(work, f"seg-{seed}")
        if not os.path.isdir(segment):
            run([inkgen, "synth", "--out", segment, "--seed", str(seed), "-q"] +
                shlex.split(synth_args))
        free = pick_crops(segment, size, args.crops, False, seed)
        inked = pick_crops(segment, size, args.crops, True, seed)
        jobs = []
        for name in recipes:
            extra = RECIPES[name]
            # Stable across runs (str hashes are not), so that --work reuses finished runs.
            tag = name.split(" ")[0] + "%08x" % zlib.crc32((name + repr(extra)).encode())
            jobs += [
                (name, "maximize segment", ["maximize", "--from", "segment", "--segment", segment] +
                 sum((["--crop", c] for c in free), []) + ["--batch", str(len(free))] + extra, tag),
                (name, "minimize segment", ["minimize", "--from", "segment", "--segment", segment] +
                 sum((["--crop", c] for c in inked), []) + ["--batch", str(len(inked))] + extra, tag),
                (name, "maximize noise", ["maximize", "--from", "noise", "--batch",
                                          str(args.crops), "--seed", str(seed)] + extra, tag),
            ]
        if not args.no_attribute:
            for name, extra in ATTRIBUTIONS.items():
                jobs.append((name, "attribute", ["attribute", "--from", "segment", "--segment",
                                                 segment] + sum((["--crop", c] for c in inked), [])
                             + ["--batch", str(len(inked))] + extra,
                             "attr-" + "%08x" % zlib.crc32((name + repr(extra)).encode())))
        for name, mode, command, tag in jobs:
            out = os.path.join(work, f"run-{seed}-{tag}-{mode.replace(' ', '-')}")
            if not os.path.exists(os.path.join(out, "run.json")):
                t0 = time.time()
                run([inkgen] + command + model_args + ["--out", out, "--force", "--quiet"])
                seconds = time.time() - t0
            else:
                seconds = float("nan")
            report = json.loads(run([inkgen, "fidelity", "--truth", segment, out, "--json"]))
            rows.append({"recipe": name, "mode": mode, "seed": seed, "seconds": seconds,
                         "runs": report["runs"]})
            print(f"seed {seed} {name} {mode}: {report['summary']}", file=sys.stderr, flush=True)
    # Means over every start of every seed.
    table = {}
    for r in rows:
        key = (r["recipe"], r["mode"])
        t = table.setdefault(key, {"runs": [], "seconds": 0.0})
        t["runs"] += r["runs"]
        t["seconds"] += r["seconds"]

    def mean(runs, k):
        v = [x[k] for x in runs if x.get(k) is not None]
        return sum(v) / len(v) if v else None

    def fmt(v, digits=3):
        return "-" if v is None else f"{v:.{digits}f}"

    print(f"| recipe | mode | starts | p before | p after | F_band | KAS_film | KAS_ink | s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (name, mode), t in table.items():
        runs = t["runs"]
        print(f"| {name} | {mode} | {len(runs)} | {fmt(mean(runs, 'p0'))} | "
              f"{fmt(mean(runs, 'p1'))} | {fmt(mean(runs, 'F_band'))} | "
              f"{fmt(mean(runs, 'KAS_film'))} | {fmt(mean(runs, 'KAS_ink'))} | "
              f"{fmt(t['seconds'], 1)} |")
    print(f"(work folder: {work})", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
