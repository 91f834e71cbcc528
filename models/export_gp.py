#!/usr/bin/python3
"""Turn a 2023 Vesuvius Grand Prize checkpoint into an inkgen TorchScript model.

    export_gp.py --arch i3d|timesformer --ckpt FILE.ckpt --out MODEL.pt [--depth D]
    export_gp.py --arch i3d|timesformer --ckpt NEW.ckpt --random-init [--seed N] [--out MODEL.pt]

The checkpoint must match the rebuilt architecture key for key and shape: a checkpoint
that loads "mostly" is a model that runs with part of its weights random, so any missing,
unexpected or mis-shaped key stops the export. The exported module takes inkgen's layout
(N, 1, D, H, W) float32 in [0, 200/255] and returns ink logits; its second method
features(x) returns the hidden layers by name (Dict[str, Tensor] of (N, C, T, H, W) blocks,
and (N, C, H, W) for the I3D decoder's maps, then "output", exactly forward's result), listed
with their per-sample shapes in the card's "layers". It is written only after the scripted module, and the file as read back, agree
with the eager model. The model card inkgen reads is embedded as the extra file `inkgen.json`.

Needs Debian's /usr/bin/python3 (torch) on this machine. Set INKGEN_TRACEBACK=1 to see a
traceback instead of the one-line error.
"""
import argparse
import contextlib
import hashlib
import json
import os
import pickle
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

PROG = "export_gp"
PARITY_TOL = 1e-4
# Names listed per category in an error; the count of the rest follows.
MAX_NAMED = 8


class ExportError(Exception):
    """A problem the user can fix; printed as one line."""


def _import_torch():
    try:
        import torch
    except ImportError:
        raise ExportError(f"this Python ({sys.executable}) has no torch; run the exporter with /usr/bin/python3")
    return torch


# ---------------------------------------------------------------------------------------------
# Checkpoint reading

class _Absent(dict):
    """Stands in for a class a checkpoint pickled but this machine lacks (Lightning's own
    types, the training script's __main__ classes, optimizer objects from another torch).
    Those live beside the weights, not in them, so they must not block reading the weights.
    A dict subclass so that dict-like objects (e.g. Lightning's AttributeDict) rebuild too."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def __setstate__(self, state):
        self.__dict__["_state"] = state

    def append(self, item):
        self.__dict__.setdefault("_items", []).append(item)

    def extend(self, items):
        self.__dict__.setdefault("_items", []).extend(items)


class _TolerantUnpickler(pickle.Unpickler):
    _stubs = {}

    def find_class(self, module, name):
        # Optimizer and scheduler objects are pickled whole inside some schedulers' state and
        # need not unpickle under another torch version; they are never needed here.
        if not module.startswith("torch.optim"):
            try:
                return super().find_class(module, name)
            except (ImportError, AttributeError):
                pass
        key = (module, name)
        if key not in self._stubs:
            self._stubs[key] = type(name, (_Absent,), {"__module__": "inkgen_absent." + module})
        return self._stubs[key]


def _tolerant_pickle_module():
    """A copy of the pickle module whose Unpickler stubs out missing classes."""
    mod = types.ModuleType("pickle")
    mod.__dict__.update(pickle.__dict__)
    mod.Unpickler = _TolerantUnpickler
    mod.load = lambda f, **kw: _TolerantUnpickler(f, **kw).load()
    return mod


@contextlib.contextmanager
def _tolerant_unpickling(torch):
    # torch 1.13's torch.load ignores its pickle_module argument unless weights_only=True (it
    # reassigns pickle_module = pickle), so the module global it falls back to is swapped for
    # the duration of the call as well. Newer torch honours pickle_module; both are given.
    ser = torch.serialization
    real = ser.pickle
    ser.pickle = _tolerant_pickle_module()
    try:
        yield ser.pickle
    finally:
        ser.pickle = real


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_checkpoint(torch, path):
    if not os.path.isfile(path):
        raise ExportError(f"checkpoint '{path}' does not exist; give the path of the GP .ckpt file with --ckpt")
    try:
        with _tolerant_unpickling(torch) as tolerant:
            return torch.load(path, map_location="cpu", pickle_module=tolerant)
    except Exception as e:  # torch raises many kinds here; all mean "not a readable checkpoint"
        raise ExportError(f"cannot read checkpoint '{path}' ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}); "
                          "give a torch-saved .ckpt/.pt file")


def state_dict_of(torch, ckpt, path):
    """ckpt['state_dict'] (Lightning) or a bare state_dict."""
    if isinstance(ckpt, dict) and isinstance(ckpt.get("state_dict"), dict):
        sd = ckpt["state_dict"]
    elif isinstance(ckpt, dict) and ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        sd = ckpt
    else:
        keys = ", ".join(map(str, list(ckpt.keys())[:6])) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ExportError(f"'{path}' holds no state_dict (top level: {keys}); give a Lightning checkpoint "
                          "(with 'state_dict') or a saved state_dict")
    bad = [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ExportError(f"state_dict entries that are not tensors: {_names(bad)}; the file is not a model checkpoint")
    return sd


def _names(keys):
    keys = list(keys)
    shown = ", ".join(keys[:MAX_NAMED])
    return shown + (f" (+{len(keys) - MAX_NAMED} more)" if len(keys) > MAX_NAMED else "")


def _shape(t):
    return "(" + ",".join(str(s) for s in t.shape) + ")"


def check_keys(model_sd, ckpt_sd, arch, path, gp=None):
    """Strict key and shape check, reporting names; raises ExportError on any difference."""
    missing = [k for k in model_sd if k not in ckpt_sd]
    unexpected = [k for k in ckpt_sd if k not in model_sd]
    mismatched = [f"{k} {_shape(ckpt_sd[k])} vs {_shape(model_sd[k])}"
                  for k in model_sd if k in ckpt_sd and tuple(ckpt_sd[k].shape) != tuple(model_sd[k].shape)]
    if not (missing or unexpected or mismatched):
        return
    parts = []
    if missing:
        parts.append(f"missing {len(missing)} key(s): {_names(missing)}")
    if unexpected:
        parts.append(f"unexpected {len(unexpected)} key(s): {_names(unexpected)}")
    if mismatched:
        parts.append(f"{len(mismatched)} shape mismatch(es) (checkpoint vs model): {_names(mismatched)}")
    hint = f"check --arch (this is the GP '{arch}' layout) or give the checkpoint the GP RegressionPLModel saved"
    # A common near miss: the same keys under a wrapper prefix (DataParallel's 'module.').
    for prefix in ("module.", "model."):
        if unexpected and all(k.startswith(prefix) for k in unexpected) and any(k[len(prefix):] in model_sd for k in unexpected):
            hint = f"the keys carry an extra '{prefix}' prefix; re-save the state_dict without it"
    if gp is not None:
        for other in gp.ARCHS:
            if other != arch and set(ckpt_sd) == set(gp.read_key_list(other)):
                hint = f"these are the keys of the GP '{other}' model; run with --arch {other}"
    raise ExportError(f"checkpoint '{os.path.basename(path)}' does not match the GP {arch} model: "
                      + "; ".join(parts) + f"; {hint}")


# ---------------------------------------------------------------------------------------------
# Random-init checkpoint

def write_random_checkpoint(torch, gp, arch, path, seed):
    _check_folder(path)
    if os.path.exists(path):
        raise ExportError(f"--random-init would overwrite '{path}'; give a --ckpt path that does not exist yet")
    sd = gp.random_state_dict(arch, seed)
    ckpt = {
        "state_dict": sd,
        # Read back by the exporter so the card says random_init: true however the file is exported.
        "inkgen_random_init": {"arch": arch, "seed": seed,
                               "note": "random weights under the real GP key names, for tests only"},
    }
    _atomic_write(path, lambda tmp: torch.save(ckpt, tmp))
    return sd


def _atomic_write(path, write):
    """write(tmp) to a temporary file beside `path`, then rename it over `path`: readers see
    the old file or the complete new one, never a partial one."""
    _check_folder(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    # mkstemp makes the file private (0600); give the result the mode a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------------------------------------
# Export

class MacCounter:
    """Multiply-accumulates of Conv*/Linear layers, counted from real output shapes via hooks."""

    def __init__(self, torch, model):
        self.macs = 0
        self._handles = []
        nn = torch.nn
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Conv3d)):
                self._handles.append(mod.register_forward_hook(self._conv))
            elif isinstance(mod, nn.Linear):
                self._handles.append(mod.register_forward_hook(self._linear))

    def _conv(self, mod, inp, out):
        per_out = (mod.in_channels // mod.groups)
        for k in mod.kernel_size:
            per_out *= k
        self.macs += out.numel() * per_out

    def _linear(self, mod, inp, out):
        self.macs += out.numel() * mod.in_features

    def close(self):
        for h in self._handles:
            h.remove()


def _check_folder(path):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ExportError(f"folder '{folder}' does not exist; create it or write elsewhere")


def export(torch, gp, arch, ckpt_path, out_path, depth):
    spec = gp.ARCHS[arch]
    t0 = time.time()
    _check_folder(out_path)  # before minutes of work, not after
    ckpt = load_checkpoint(torch, ckpt_path)
    ckpt_sd = state_dict_of(torch, ckpt, ckpt_path)
    random_init = isinstance(ckpt, dict) and isinstance(ckpt.get("inkgen_random_init"), dict)

    model = gp.build(arch)
    check_keys(model.state_dict(), ckpt_sd, arch, ckpt_path, gp)
    bad = [k for k, v in ckpt_sd.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ExportError(f"checkpoint weights hold NaN or inf in {_names(bad)}; export a checkpoint from before training diverged")
    # Strict again: our check above names the keys; this one guards against it being wrong.
    model.load_state_dict(ckpt_sd, strict=True)
    model.eval()
    for p in model.parameters():
        # inkgen differentiates with respect to the input only.
        p.requires_grad_(False)
    for name, mod in model.named_modules():
        if mod.training or (isinstance(mod, torch.nn.Dropout) and mod.p != 0.0):
            raise ExportError(f"module '{name}' would be random at inference; this is a bug in models/gp, report it")

    wrapper = gp.InkgenWrapper(model).eval()
    try:
        scripted = torch.jit.script(wrapper)
    except Exception as e:
        raise ExportError(f"torch.jit.script failed ({type(e).__name__}: {str(e).splitlines()[0]}); "
                          f"this torch ({torch.__version__}) cannot script models/gp, use torch >= 1.13")

    gen = torch.Generator().manual_seed(0)
    x = torch.rand((2, 1, depth, 64, 64), generator=gen) * gp.RANGE_HI
    want = (2, 1) + tuple(spec.out_hw)
    counter = MacCounter(torch, model)
    with torch.no_grad():
        eager = wrapper(x)
        counter.close()
        got = scripted(x)
    if tuple(eager.shape) != want:
        raise ExportError(f"the rebuilt {arch} model returns {tuple(eager.shape)} for {tuple(x.shape)}, not {want}; "
                          "this is a bug in models/gp, report it")
    if tuple(got.shape) != want:
        raise ExportError(f"the scripted model returns {tuple(got.shape)}, not {want}; nothing written")
    diff = float((got - eager).abs().max())
    if not diff <= PARITY_TOL:  # also catches NaN
        raise ExportError(f"scripted and eager models differ by {diff:.3g} (> {PARITY_TOL}); nothing written")
    layers, features_diff = check_features(torch, wrapper, scripted, x, eager, got)

    total, used = gp.count_parameters(model, arch)
    card = {
        "name": spec.name,
        "architecture": spec.architecture,
        "input": {"shape": [1, depth, 64, 64], "layout": "N,C,D,H,W", "dtype": "float32",
                  "scale": gp.SCALE_RULE, "range": [0.0, gp.RANGE_HI], "z0": spec.z0},
        "output": {"shape": [1] + list(spec.out_hw), "kind": "logits", "meaning": spec.meaning},
        "layers": layers,
        "source": f"{spec.source}; exported by inkgen models/export_gp.py from {os.path.basename(ckpt_path)}",
        "export": {"checkpoint": os.path.basename(ckpt_path), "sha256": sha256_of(ckpt_path),
                   "random_init": random_init, "torch": torch.__version__,
                   "parity_max_abs_diff": diff, "features_parity_max_abs_diff": features_diff,
                   "parameters": total, "parameters_in_use": used,
                   "macs_per_sample": counter.macs // 2},
    }

    batch1 = {}

    def write(tmp):
        torch.jit.save(scripted, tmp, _extra_files={"inkgen.json": json.dumps(card)})
        # Check the bytes that will be installed, on one sample: this also shows the file
        # works at a batch size other than the one checked above. Another batch size may pick
        # other conv/matmul blockings, so float rounding differs; that noise grows with the
        # size of the logits, hence a tolerance relative to them here (strict check above).
        extra = {"inkgen.json": ""}
        back = torch.jit.load(tmp, map_location="cpu", _extra_files=extra)
        if json.loads(extra["inkgen.json"]) != json.loads(json.dumps(card)):
            raise ExportError("the card read back from the saved model differs from the one written; nothing written")
        with torch.no_grad():
            one = back(x[1:2])
        d1 = float((one - eager[1:2]).abs().max())
        tol1 = PARITY_TOL * max(1.0, float(eager.abs().max()))
        if tuple(one.shape) != (1,) + want[1:] or not d1 <= tol1:
            raise ExportError(f"the saved model read back, on one sample, gives {tuple(one.shape)} and differs from "
                              f"the eager model by {d1:.3g} (> {tol1:.3g}); nothing written")
        batch1["diff"] = d1
        # Not run again (a pass costs as much as forward's): the scripted method was checked above.
        if not hasattr(back, "features"):
            raise ExportError("the saved model read back has no features method; nothing written")

    _atomic_write(out_path, write)
    return card, time.time() - t0, tuple(eager.shape), batch1["diff"]


def check_features(torch, wrapper, scripted, x, eager, got):
    """The hidden layers inkgen reads (features(x) -> Dict[str, Tensor]): the scripted method
    against the eager one (same names in the same order, same shapes, values within the
    parity tolerance scaled by each layer's size), and its "output" bit-identical to the
    scripted forward's result, as inkgen's convention requires (it then skips forward).
    Returns the card's "layers" ({name: per-sample shape}) and the largest difference."""
    with torch.no_grad():
        want = wrapper.features(x)
        have = scripted.features(x)
    if list(have) != list(want):
        raise ExportError(f"the scripted features method gives layers {list(have)}, the eager one {list(want)}; "
                          "nothing written")
    if "output" not in have or not torch.equal(want["output"], eager):
        raise ExportError("the eager features method's 'output' is not forward's result; "
                          "this is a bug in models/gp, report it")
    if not torch.equal(have["output"], got):
        raise ExportError("the scripted features method's 'output' is not exactly the scripted forward's result; "
                          "nothing written")
    worst = 0.0
    for name, a in want.items():
        b = have[name]
        if tuple(b.shape) != tuple(a.shape) or b.dim() < 2 or b.size(0) != x.size(0) or not b.is_floating_point():
            raise ExportError(f"layer '{name}': the scripted features give {tuple(b.shape)} {b.dtype}, the eager "
                              f"ones {tuple(a.shape)}; nothing written")
        d = float((b - a).abs().max())
        tol = PARITY_TOL * max(1.0, float(a.abs().max()))
        if not d <= tol:
            raise ExportError(f"layer '{name}': scripted and eager features differ by {d:.3g} (> {tol:.3g}); "
                              "nothing written")
        worst = max(worst, d)
    return {name: list(t.shape[1:]) for name, t in have.items()}, worst


def parse_args(argv):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", required=True, choices=["i3d", "timesformer"], help="GP model family of the checkpoint")
    ap.add_argument("--ckpt", required=True, help="Lightning .ckpt (or saved state_dict); with --random-init, the file to create")
    ap.add_argument("--out", help="TorchScript model to write (required unless --random-init)")
    ap.add_argument("--random-init", action="store_true",
                    help="write a checkpoint with random weights under the real key names to --ckpt (for tests), "
                         "then export it if --out is given")
    ap.add_argument("--seed", type=int, default=0, help="seed for --random-init (default 0)")
    ap.add_argument("--depth", type=int, help="input layers D recorded in the card and used for the parity check "
                                              "(default: training depth, 30 for i3d, 26 for timesformer)")
    args = ap.parse_args(argv)
    if not args.random_init and not args.out:
        ap.error("--out is required (the TorchScript file to write)")
    if args.depth is not None and not 1 <= args.depth <= 65:
        ap.error(f"--depth {args.depth} is out of range; give 1..65 layers")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        torch = _import_torch()
        import gp
        depth = args.depth or gp.ARCHS[args.arch].depth
        if args.random_init:
            write_random_checkpoint(torch, gp, args.arch, args.ckpt, args.seed)
            print(f"wrote random-init {args.arch} checkpoint {args.ckpt} (seed {args.seed})")
            if not args.out:
                return 0
        card, seconds, out_shape, batch1_diff = export(torch, gp, args.arch, args.ckpt, args.out, depth)
    except ExportError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 130
    except Exception as e:
        if os.environ.get("INKGEN_TRACEBACK"):
            raise
        first = str(e).splitlines()[0] if str(e) else ""
        print(f"{PROG}: error: unexpected {type(e).__name__}: {first}; rerun with INKGEN_TRACEBACK=1 and report it",
              file=sys.stderr)
        return 1
    ex = card["export"]
    size_mb = os.path.getsize(args.out) / 1e6
    print(f"exported {card['name']} -> {args.out} ({size_mb:.1f} MB) in {seconds:.1f} s")
    print(f"  checkpoint: {ex['checkpoint']} sha256 {ex['sha256'][:16]}... random_init={ex['random_init']}")
    print(f"  parameters: {ex['parameters']:,} total, {ex['parameters_in_use']:,} used by the forward")
    print(f"  input (N,1,{depth},64,64) scale {card['input']['scale']} -> output (N,{','.join(map(str, out_shape[1:]))}) logits")
    print(f"  parity eager vs scripted (batch 2): max abs diff {ex['parity_max_abs_diff']:.3g} (tolerance {PARITY_TOL}); "
          f"saved file on 1 sample: {batch1_diff:.3g}")
    print(f"  features (max abs diff eager vs scripted {ex['features_parity_max_abs_diff']:.3g}; 'output' == forward): "
          + ", ".join(f"{k} ({','.join(map(str, v))})" for k, v in card["layers"].items()))
    print(f"  conv/linear MACs per 1x{depth}x64x64 sample: {ex['macs_per_sample'] / 1e9:.2f} G "
          f"({2 * ex['macs_per_sample'] / 1e9:.2f} GFLOP)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
