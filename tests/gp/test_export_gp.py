#!/usr/bin/python3
"""Tests of models/export_gp.py (the GP checkpoint -> inkgen TorchScript exporter).

    /usr/bin/python3 tests/gp/test_export_gp.py [--arch i3d|timesformer|all] [--inkgen PATH] [--full-depth] [--keep]

Works in a temporary folder and needs no real weights: it writes random-init checkpoints
under the real key names. Per architecture it checks
  * the rebuilt model's state_dict against the committed key list models/gp/keys/<arch>.txt;
  * that the rebuilt model computes what the public reference code computes (a literal
    transcription of the reference forward, built from the same weights);
  * a random-init export: exit 0, the card, and the saved module against the eager model;
  * its hidden layers: a features method whose names and per-sample shapes are the card's
    "layers" (and the architecture's), whose "output" is exactly forward's result, whose
    activations match the eager model's and those taken by hooks on the named modules, and
    each of which depends on the input (nonzero gradient of its channel-0 mean);
  * refusals with exit 1, a one-line message naming the offending key, and nothing written,
    for a missing key, an unexpected key, a wrong shape and a 'module.' prefixed file;
  * that Lightning-like extras pickled from classes this machine lacks do not block a load;
  * with --inkgen: `inkgen score` on a synthetic 16-bit segment against the eager model.

Exit status: 0 all passed, 1 a check failed. With --inkgen, a binary that is missing or whose
`score --help` fails is a failed check, not a skip: a broken CLI must not read as "skipped".
The TimeSformer checks use 4 input layers unless --full-depth (26): this machine's torch uses
a reference BLAS, where one full-depth TimeSformer sample takes about 10 s.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(REPO, "models")
EXPORTER = os.path.join(MODELS, "export_gp.py")
sys.path.insert(0, MODELS)

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from PIL import Image
except ImportError as e:
    print(f"test_export_gp: needs torch, numpy and PIL ({e}); run it with /usr/bin/python3", file=sys.stderr)
    sys.exit(1)

import gp  # noqa: E402  (models/gp, found through sys.path above)

TOL = 1e-4
# Keys deliberately spoiled in the refusal checks: weights whose loss a lenient load would hide
# (a BN statistic inside a non-local block; one attention projection deep in the stack).
SPOIL = {"i3d": "backbone.Mixed_5b.nl_block.W_z.1.running_var",
         "timesformer": "backbone.layers.5.1.fn.to_qkv.weight"}
RESHAPE = {"i3d": "decoder.convs.1.0.weight", "timesformer": "backbone.to_out.1.weight"}


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---------------------------------------------------------------------------------------------
# Helpers

def run_exporter(*args, timeout=600):
    return subprocess.run([sys.executable, EXPORTER, *args], capture_output=True, text=True, timeout=timeout)


def files_in(folder):
    return sorted(os.listdir(folder))


def load_model_file(path):
    extra = {"inkgen.json": ""}
    m = torch.jit.load(path, map_location="cpu", _extra_files=extra)
    return m, json.loads(extra["inkgen.json"])


def eager_from_checkpoint(arch, path):
    sd = torch.load(path, map_location="cpu")["state_dict"]
    m = gp.build(arch)
    m.load_state_dict(sd, strict=True)
    return m.eval()


def expect_refusal(arch, ckpt, out, needle, what):
    before = files_in(os.path.dirname(out))
    r = run_exporter("--arch", arch, "--ckpt", ckpt, "--out", out)
    err = r.stderr.strip()
    check(r.returncode == 1, f"{what}: exit status {r.returncode}, expected 1 (stderr: {err[:300]})")
    check(needle in err, f"{what}: the message does not name '{needle}': {err[:400]}")
    check("Traceback" not in err and len(err.splitlines()) == 1, f"{what}: not a one-line message: {err[:400]}")
    check(not os.path.exists(out), f"{what}: {out} was written")
    check(files_in(os.path.dirname(out)) == before, f"{what}: files left behind: "
          f"{sorted(set(files_in(os.path.dirname(out))) - set(before))}")
    return err


# ---------------------------------------------------------------------------------------------
# A literal, pattern-driven transcription of the reference computations, used as an oracle
# for the hand-vectorised models in models/gp. The einops patterns below are the ones in
# timesformer_pytorch.py / rotary.py, evaluated by a small interpreter instead of by
# hand-written permutes, so a wrong axis order in models/gp/timesformer.py shows up here.

def _groups(side):
    out = []
    for grp, ell, name in re.findall(r"\(([^)]*)\)|(\.\.\.)|(\w+)", side):
        out.append(["..."] if ell else [name] if name else grp.split())
    return out


def rearrange(t, pattern, **sizes):
    """einops.rearrange / repeat for the patterns used by the reference (new axes on the
    right-hand side are repeated, as einops.repeat does)."""
    left, right = (_groups(s) for s in pattern.split("->"))
    sizes = dict(sizes)
    n_ell = t.dim() - (len(left) - 1) if ["..."] in left else 0
    names, shape, dim = [], [], 0
    for g in left:
        if g == ["..."]:
            for i in range(n_ell):
                names.append(f"...{i}")
                sizes[f"...{i}"] = t.shape[dim]
                shape.append(t.shape[dim])
                dim += 1
            continue
        total, known, unknown = t.shape[dim], 1, None
        dim += 1
        for a in g:
            if a in sizes:
                known *= sizes[a]
            else:
                unknown = a
        if unknown is not None:
            sizes[unknown] = total // known
        for a in g:
            names.append(a)
            shape.append(sizes[a])
    x = t.reshape(shape)
    r_names = [a for g in right for a in ([f"...{i}" for i in range(n_ell)] if g == ["..."] else g)]
    for a in r_names:
        if a not in names:
            x = x.unsqueeze(-1)
            names.append(a)
    x = x.permute([names.index(a) for a in r_names]).expand([sizes[a] for a in r_names])
    out_shape = []
    for g in right:
        if g == ["..."]:
            out_shape += [sizes[f"...{i}"] for i in range(n_ell)]
        else:
            prod = 1
            for a in g:
                prod *= sizes[a]
            out_shape.append(prod)
    return x.reshape(out_shape)


def reference_timesformer(W, video, heads=6, dim_head=64, p=16):
    """TimeSformer.forward of timesformer-pytorch (rotary_emb=True, no mask), functional."""
    def rotate_every_two(x):
        x = rearrange(x, "... (d j) -> ... d j", j=2)
        x1, x2 = x.unbind(dim=-1)
        return rearrange(torch.stack((-x2, x1), dim=-1), "... d j -> ... (d j)")

    def apply_rot_emb(q, k, rot):
        sin, cos = rot
        rd = sin.shape[-1]
        (q, q_pass), (k, k_pass) = ((t[..., :rd], t[..., rd:]) for t in (q, k))
        q, k = (t * cos + rotate_every_two(t) * sin for t in (q, k))
        return torch.cat((q, q_pass), -1), torch.cat((k, k_pass), -1)

    def attn(q, k, v):
        return torch.einsum("b i j, b j d -> b i d", torch.einsum("b i d, b j d -> b i j", q, k).softmax(-1), v)

    def attention(pre, x, e_from, e_to, rot, **dims):
        x = F.layer_norm(x, (x.shape[-1],), W[pre + ".norm.weight"], W[pre + ".norm.bias"])
        q, k, v = F.linear(x, W[pre + ".fn.to_qkv.weight"]).chunk(3, dim=-1)
        q, k, v = (rearrange(t, "b n (h d) -> (b h) n d", h=heads) for t in (q, k, v))
        q = q * dim_head ** -0.5
        (cls_q, q_), (cls_k, k_), (cls_v, v_) = ((t[:, :1], t[:, 1:]) for t in (q, k, v))
        cls_out = attn(cls_q, k, v)
        q_, k_, v_ = (rearrange(t, f"{e_from} -> {e_to}", **dims) for t in (q_, k_, v_))
        q_, k_ = apply_rot_emb(q_, k_, rot)
        r = q_.shape[0] // cls_k.shape[0]
        cls_k, cls_v = (rearrange(t, "b () d -> (b r) () d", r=r) for t in (cls_k, cls_v))
        out = attn(q_, torch.cat((cls_k, k_), 1), torch.cat((cls_v, v_), 1))
        out = torch.cat((cls_out, rearrange(out, f"{e_to} -> {e_from}", **dims)), 1)
        out = rearrange(out, "(b h) n d -> b n (h d)", h=heads)
        return F.linear(out, W[pre + ".fn.to_out.0.weight"], W[pre + ".fn.to_out.0.bias"])

    def feed_forward(pre, x):
        x = F.layer_norm(x, (x.shape[-1],), W[pre + ".norm.weight"], W[pre + ".norm.bias"])
        x = F.linear(x, W[pre + ".fn.net.0.weight"], W[pre + ".fn.net.0.bias"])
        a, gates = x.chunk(2, dim=-1)
        return F.linear(a * F.gelu(gates), W[pre + ".fn.net.3.weight"], W[pre + ".fn.net.3.bias"])

    b, f, _, h, w = video.shape
    hp, wp = h // p, w // p
    n = hp * wp
    x = F.linear(rearrange(video, "b f c (h p1) (w p2) -> b (f h w) (p1 p2 c)", p1=p, p2=p),
                 W["to_patch_embedding.weight"], W["to_patch_embedding.bias"])
    x = torch.cat((rearrange(W["cls_token"], "n d -> b n d", b=b), x), dim=1)

    freqs = torch.einsum("i, j -> i j", torch.arange(f), W["frame_rot_emb.inv_freqs"])
    freqs = rearrange(torch.cat((freqs, freqs), -1), "n d -> () n d")
    frame_rot = (freqs.sin(), freqs.cos())

    scales = rearrange(W["image_rot_emb.scales"], "... -> () ...")
    h_seq = torch.linspace(-1.0, 1.0, steps=hp).unsqueeze(-1) * scales * np.pi
    w_seq = torch.linspace(-1.0, 1.0, steps=wp).unsqueeze(-1) * scales * np.pi
    x_sinu = rearrange(h_seq, "i d -> i j d", j=wp)
    y_sinu = rearrange(w_seq, "j d -> i j d", i=hp)
    sc = []
    for fn in (torch.sin, torch.cos):
        t = rearrange(torch.cat((fn(x_sinu), fn(y_sinu)), -1), "i j d -> (i j) d")
        sc.append(rearrange(t, "n d -> () n (d j)", j=2))
    image_rot = tuple(sc)

    depth = len({k.split(".")[1] for k in W if k.startswith("layers.")})
    for i in range(depth):
        x = attention(f"layers.{i}.0", x, "b (f n) d", "(b n) f d", frame_rot, n=n) + x
        x = attention(f"layers.{i}.1", x, "b (f n) d", "(b f) n d", image_rot, f=f) + x
        x = feed_forward(f"layers.{i}.2", x) + x
    cls = F.layer_norm(x[:, 0], (x.shape[-1],), W["to_out.0.weight"], W["to_out.0.bias"])
    return F.linear(cls, W["to_out.1.weight"], W["to_out.1.bias"])


def reference_i3d_head(model, x):
    """RegressionPLModel.forward + Decoder.forward of the reference, as written there (loop
    over feature maps, nn.Upsample(scale_factor=1) at the end), on the rebuilt backbone."""
    feat_maps = model.backbone(x)
    fm = [torch.max(t, dim=2)[0] for t in feat_maps]
    for i in range(len(fm) - 1, 0, -1):
        f_up = F.interpolate(fm[i], scale_factor=2, mode="bilinear", align_corners=False)
        fm[i - 1] = model.decoder.convs[i - 1](torch.cat([fm[i - 1], f_up], dim=1))
    return nn.Upsample(scale_factor=1, mode="bilinear", align_corners=False)(model.decoder.logit(fm[0]))


# ---------------------------------------------------------------------------------------------
# The checks

class ArchTests:
    def __init__(self, arch, work, depth, inkgen):
        self.arch, self.work, self.depth, self.inkgen = arch, work, depth, inkgen
        self.spec = gp.ARCHS[arch]
        self.ckpt = os.path.join(work, f"{arch}-random.ckpt")
        self.model_pt = os.path.join(work, f"{arch}.pt")
        self.out_dir = os.path.join(work, "refused")
        os.makedirs(self.out_dir, exist_ok=True)

    def t_key_list(self):
        expected = gp.read_key_list(self.arch)
        diff = gp.diff_key_list(gp.build(self.arch), expected)
        check(not diff, "rebuilt model vs models/gp/keys/%s.txt:\n      %s" % (self.arch, "\n      ".join(diff[:20])))
        return f"{len(expected)} keys with shapes match models/gp/keys/{self.arch}.txt"

    def t_reference(self):
        torch.manual_seed(1)
        sd = gp.random_state_dict(self.arch, seed=11)
        m = gp.build(self.arch)
        m.load_state_dict(sd, strict=True)
        with torch.no_grad():
            if self.arch == "timesformer":
                x = torch.rand(2, 1, 3, 64, 64) * gp.RANGE_HI
                W = {k[len("backbone."):]: v for k, v in sd.items()}
                ref = reference_timesformer(W, x.permute(0, 2, 1, 3, 4)).view(-1, 1, 4, 4)
            else:
                x = torch.rand(2, 1, 30, 64, 64) * gp.RANGE_HI
                ref = reference_i3d_head(m, x)
            got = m(x)
        d = float((got - ref).abs().max())
        check(tuple(got.shape) == tuple(ref.shape) and d <= 1e-5, f"rebuilt vs reference transcription: shapes "
              f"{tuple(got.shape)}/{tuple(ref.shape)}, max abs diff {d:.3g}")
        return f"rebuilt model == literal transcription of the reference forward (max abs diff {d:.2g})"

    def t_export(self):
        t = time.time()
        r = run_exporter("--arch", self.arch, "--ckpt", self.ckpt, "--random-init", "--seed", "5",
                         "--out", self.model_pt, "--depth", str(self.depth))
        check(r.returncode == 0, f"random-init export failed ({r.returncode}): {r.stderr.strip()[:500]}")
        check(os.path.isfile(self.ckpt) and os.path.isfile(self.model_pt), "checkpoint or model not written")
        for line in r.stdout.strip().splitlines():
            print("      | " + line)
        return f"random-init checkpoint written and exported in {time.time() - t:.1f} s"

    def t_checkpoint_keys(self):
        sd = torch.load(self.ckpt, map_location="cpu")["state_dict"]
        expected = gp.read_key_list(self.arch)
        got = {k: tuple(v.shape) for k, v in sd.items()}
        check(got == dict(expected), "random-init checkpoint keys differ from the key list: "
              f"{sorted(set(got) ^ set(expected))[:5]}")
        bn_vars = [v for k, v in sd.items() if k.endswith("running_var")]
        check(all(bool((v > 0).all()) and float((v - 1).abs().max()) > 0.1 for v in bn_vars),
              "BN running_var must be positive and not all 1")
        return f"checkpoint holds exactly the listed keys ({len(got)})" + \
            (f"; {len(bn_vars)} BN running_var tensors positive and non-trivial" if bn_vars else "")

    def t_card(self):
        m, card = load_model_file(self.model_pt)
        d = self.depth
        want_input = {"shape": [1, d, 64, 64], "layout": "N,C,D,H,W", "dtype": "float32",
                      "scale": "min(raw16>>8,200)/255", "range": [0.0, 200 / 255], "z0": self.spec.z0}
        check(card["name"] == self.spec.name, f"card name {card['name']!r}")
        check(card["input"] == want_input, f"card input {card['input']} != {want_input}")
        check(card["input"]["range"][1] == 200 / 255 and abs(card["input"]["range"][1] - 0.784313725490196) < 1e-15,
              "range hi is not 200/255 exactly")
        check(card["output"]["shape"] == [1] + list(self.spec.out_hw) and card["output"]["kind"] == "logits",
              f"card output {card['output']}")
        check(card["architecture"] and card["source"].endswith(os.path.basename(self.ckpt)), "card architecture/source")
        ex = card["export"]
        check(ex["checkpoint"] == os.path.basename(self.ckpt) and ex["random_init"] is True, f"card export {ex}")
        check(ex["sha256"] == sha256(self.ckpt), "card sha256 is not the checkpoint's")
        check(ex["torch"] == torch.__version__ and 0 <= ex["parity_max_abs_diff"] <= TOL, f"card export {ex}")
        return f"card: {card['name']}, input {card['input']['shape']} z0 {card['input']['z0']}, " \
               f"output {card['output']['shape']}, parity {ex['parity_max_abs_diff']:.2g}"

    def t_saved_vs_eager(self):
        m, _ = load_model_file(self.model_pt)
        eager = eager_from_checkpoint(self.arch, self.ckpt)
        x = torch.rand(3, 1, self.depth, 64, 64, generator=torch.Generator().manual_seed(7)) * gp.RANGE_HI
        with torch.no_grad():
            got, want = m(x), eager(x)
        oh, ow = self.spec.out_hw
        check(tuple(got.shape) == (3, 1, oh, ow), f"saved module output {tuple(got.shape)}")
        d = float((got - want).abs().max())
        check(d <= TOL, f"saved module vs eager: max abs diff {d:.3g}")
        check(not any(p.requires_grad for p in m.parameters()), "exported parameters still require grad")
        for name, mod in m.named_modules():
            check(not mod.training, f"exported module '{name}' is in training mode")
        extra = ""
        if self.arch == "i3d":
            # Fully convolutional in depth: the GP inference read 33 layers.
            with torch.no_grad():
                y = m(torch.rand(1, 1, 33, 64, 64) * gp.RANGE_HI)
            check(tuple(y.shape) == (1, 1, 16, 16), f"33-layer input gives {tuple(y.shape)}")
            extra = "; 33-layer input -> (1,1,16,16)"
        with torch.no_grad():
            try:
                m(torch.rand(1, self.depth, 64, 64))
                raise Failure("a 4-d input was accepted")
            except torch.jit.Error as e:
                check("(N, 1, D, H, W)" in str(e), f"wrong-rank input message: {str(e)[:200]}")
        return f"saved module (batch 3) == eager model from the checkpoint (max abs diff {d:.2g}), eval mode, " \
               f"no parameter grads{extra}"

    def expected_layers(self):
        """The hidden layers features() should give for a (1, 1, depth, 64, 64) input, as the
        card lists them: {name: per-sample shape}, in order; worked out from the architecture
        (channel tables, strides), not from the model."""
        d = self.depth
        if self.arch == "timesformer":
            out = {f"block{i}": [512, d, 4, 4] for i in range(8)}
            out["output"] = [1, 4, 4]
            return out
        # Depth strides: 2 in Conv3d_1a_7x7, MaxPool3d_4a_3x3 and MaxPool3d_5a_2x2 (SAME: ceil).
        t1 = -(-d // 2)
        t2 = -(-t1 // 2)
        t3 = -(-t2 // 2)
        out = {"Conv3d_1a_7x7": [64, t1, 32, 32], "Conv3d_2b_1x1": [64, t1, 16, 16],
               "Conv3d_2c_3x3": [192, t1, 16, 16], "Mixed_3b": [256, t1, 8, 8], "Mixed_3c": [480, t1, 8, 8]}
        for name, c in (("Mixed_4b", 512), ("Mixed_4c", 512), ("Mixed_4d", 512), ("Mixed_4e", 528), ("Mixed_4f", 832)):
            out[name] = [c, t2, 4, 4]
        out["Mixed_5b"] = [832, t3, 2, 2]
        out["Mixed_5c"] = [1024, t3, 2, 2]
        # The decoder's fused maps, after the max over depth: 2D, (C, H, W).
        out["decoder.convs.2"] = [832, 4, 4]
        out["decoder.convs.1"] = [480, 8, 8]
        out["decoder.convs.0"] = [192, 16, 16]
        out["output"] = [1, 16, 16]
        return out

    def eager_features(self, eager, x):
        """eager.features(x), and the same activations as forward hooks see them on the
        modules the layers are named after (I3D: backbone.<name>, decoder.convs.<i>;
        TimeSformer: the blocks, whose tokens are rearranged here with the einops-pattern
        interpreter), taken in the same pass: this checks the names and the (C, T, H, W)
        layout, not the arithmetic."""
        got, handles = {}, []
        if self.arch == "i3d":
            names = [k for k in self.expected_layers() if k != "output"]
            for name in names:
                mod = eager.get_submodule(name if name.startswith("decoder.") else "backbone." + name)
                handles.append(mod.register_forward_hook(lambda m_, i_, o, name=name: got.__setitem__(name, o)))
        else:
            for i, blk in enumerate(eager.backbone.layers):
                handles.append(blk.register_forward_hook(
                    lambda m_, i_, o, i=i: got.__setitem__(f"block{i}", rearrange(
                        o[:, 1:], "b (f h w) d -> b d f h w", f=x.shape[2], h=x.shape[3] // 16, w=x.shape[4] // 16))))
        try:
            feats = eager.features(x)
        finally:
            for h in handles:
                h.remove()
        check(len(got) == len(feats) - 1, f"hooks saw {sorted(got)}; features gave {list(feats)}")
        got["output"] = feats["output"]
        return feats, got

    def t_features(self):
        m, card = load_model_file(self.model_pt)
        check(hasattr(m, "features"), "the exported module has no features method")
        want = self.expected_layers()
        layers = card.get("layers")
        check(isinstance(layers, dict), f"card has no 'layers' object: {layers!r}")
        check(list(layers) == list(want) and layers == want, f"card layers {layers}, expected {want}")
        eager = eager_from_checkpoint(self.arch, self.ckpt)
        x = torch.rand(3, 1, self.depth, 64, 64, generator=torch.Generator().manual_seed(8)) * gp.RANGE_HI
        with torch.no_grad():
            feats, out = m.features(x), m(x)
            eager_feats, hooked = self.eager_features(eager, x)
        check(list(feats) == list(layers), f"features() gives layers {list(feats)} in that order, the card {list(layers)}")
        for name, t in feats.items():
            check(t.dtype == torch.float32 and tuple(t.shape) == (3,) + tuple(layers[name]),
                  f"layer {name}: {tuple(t.shape)} {t.dtype} for a batch of 3, card {layers[name]}")
            check(bool(torch.isfinite(t).all()), f"layer {name} holds NaN or inf")
        check(torch.equal(feats["output"], out), "features()['output'] is not exactly forward's result: max abs diff "
              f"{float((feats['output'] - out).abs().max()):.3g}")
        worst = 0.0
        for name, t in feats.items():
            for what, ref in (("eager features", eager_feats[name]), ("hooked module", hooked[name])):
                d = float((t - ref).abs().max())
                check(tuple(ref.shape) == tuple(t.shape) and d <= TOL * max(1.0, float(ref.abs().max())),
                      f"layer {name}: saved module vs {what}: shapes {tuple(t.shape)}/{tuple(ref.shape)}, max abs diff {d:.3g}")
                worst = max(worst, d)
        with torch.no_grad():
            try:
                m.features(torch.rand(1, self.depth, 64, 64))
                raise Failure("features() accepted a 4-d input")
            except torch.jit.Error as e:
                check("(N, 1, D, H, W)" in str(e), f"features() wrong-rank input message: {str(e)[:200]}")
        return f"card layers == features() names/shapes ({len(layers)}: {', '.join(layers)}); 'output' == forward " \
               f"exactly; saved == eager features == hooked modules (max abs diff {worst:.2g})"

    def t_features_grad(self):
        """Every layer depends on the input: d mean(channel 0) / d input is nonzero (what
        inkgen's channel:LAYER:0 objective differentiates). With random weights a ReLU channel
        can be off at every position for a given input (channel 0 of a few I3D stages of this
        test's seed-5 export, for instance); such a channel is exactly 0 and has a zero
        gradient by construction, so the first channel that is not identically 0 is used
        there instead, and named. A channel that is constant but not 0 still fails."""
        m, card = load_model_file(self.model_pt)
        # The I3D on a smaller crop (it is fully convolutional; 16x32x32 keeps every stage at
        # least 1 wide): one backward per layer, each through Conv3d_1a_7x7, costs about a
        # minute at 30x64x64 on this machine's reference BLAS, and proves no more.
        shape = (1, 1, 16, 32, 32) if self.arch == "i3d" else (1, 1, self.depth, 64, 64)
        x = torch.rand(shape, generator=torch.Generator().manual_seed(9)) * gp.RANGE_HI
        x.requires_grad_(True)
        feats = m.features(x)
        check(list(feats) == list(card["layers"]), f"features() layers {list(feats)}")
        norms, moved = [], []
        names = list(feats)
        for i, name in enumerate(names):
            a = feats[name].detach()
            live = [k for k in range(a.size(1)) if bool((a[:, k] != 0).any())]
            check(bool(live), f"layer {name} is identically 0 for the test input")
            k = live[0]
            if k:
                moved.append(f"{name}:{k}")
            (g,) = torch.autograd.grad(feats[name][:, k].mean(), x, retain_graph=i + 1 < len(names))
            n = float(g.abs().sum())
            check(g.shape == x.shape and bool(torch.isfinite(g).all()) and n > 0,
                  f"layer {name}: gradient of its channel-{k} mean w.r.t. the input is "
                  f"{'zero' if n == 0 else 'not finite'}")
            norms.append(n)
        return f"input {tuple(shape)}: all {len(names)} layers' channel-0 means have a nonzero input gradient " \
               f"(|grad|_1 from {min(norms):.2g} to {max(norms):.2g})" + \
               (f"; channel 0 identically 0 (ReLU off everywhere) in {len(moved)}, used the first live one: "
                f"{', '.join(moved)}" if moved else "")

    def _spoiled(self, name, edit):
        ckpt = torch.load(self.ckpt, map_location="cpu")
        edit(ckpt)
        path = os.path.join(self.work, f"{self.arch}-{name}.ckpt")
        torch.save(ckpt, path)
        return path

    def t_missing_key(self):
        key = SPOIL[self.arch]
        path = self._spoiled("missing", lambda c: c["state_dict"].pop(key))
        err = expect_refusal(self.arch, path, os.path.join(self.out_dir, "m.pt"), key, "missing key")
        os.unlink(path)
        print("      | " + err)
        return f"missing key {key} refused, named, nothing written"

    def t_unexpected_key(self):
        key = "backbone.extra_head.weight"
        path = self._spoiled("unexpected", lambda c: c["state_dict"].__setitem__(key, torch.zeros(3)))
        err = expect_refusal(self.arch, path, os.path.join(self.out_dir, "u.pt"), key, "unexpected key")
        os.unlink(path)
        print("      | " + err)
        return f"unexpected key {key} refused, named, nothing written"

    def t_wrong_shape(self):
        key = RESHAPE[self.arch]

        def edit(c):
            t = c["state_dict"][key]
            c["state_dict"][key] = torch.zeros((t.shape[0] + 1,) + tuple(t.shape[1:]))
        path = self._spoiled("shape", edit)
        err = expect_refusal(self.arch, path, os.path.join(self.out_dir, "s.pt"), key, "wrong shape")
        os.unlink(path)
        print("      | " + err)
        return f"mis-shaped {key} refused, named, nothing written"

    def t_prefixed(self):
        path = self._spoiled("prefixed", lambda c: c.__setitem__(
            "state_dict", {"module." + k: v for k, v in c["state_dict"].items()}))
        expect_refusal(self.arch, path, os.path.join(self.out_dir, "p.pt"), "'module.' prefix", "prefixed keys")
        os.unlink(path)
        return "'module.'-prefixed state_dict refused with a hint about the prefix"

    def t_foreign_objects(self):
        """A Lightning-like checkpoint without the marker, plus objects of a class that only
        existed at save time: must export, with random_init false, to the same function."""
        mod_dir = tempfile.mkdtemp(dir=self.work)
        with open(os.path.join(mod_dir, "gone_lightning_mod.py"), "w") as f:
            f.write("class AttributeDict(dict):\n    pass\nclass LoopState:\n    def __init__(self):\n        self.step = 3\n")
        sys.path.insert(0, mod_dir)
        try:
            import gone_lightning_mod as glm
            ckpt = torch.load(self.ckpt, map_location="cpu")
            hp = glm.AttributeDict(pred_shape=(10, 10), size=64)
            lightning = {"epoch": 12, "global_step": 345, "pytorch-lightning_version": "2.0.9",
                         "state_dict": ckpt["state_dict"], "hyper_parameters": hp, "loops": {"fit_loop": glm.LoopState()}}
            path = os.path.join(self.work, f"{self.arch}-lightning.ckpt")
            torch.save(lightning, path)
        finally:
            sys.path.remove(mod_dir)
            sys.modules.pop("gone_lightning_mod", None)
            shutil.rmtree(mod_dir)
        out = os.path.join(self.work, f"{self.arch}-lightning.pt")
        r = run_exporter("--arch", self.arch, "--ckpt", path, "--out", out, "--depth", str(self.depth))
        check(r.returncode == 0, f"export of a checkpoint with foreign objects failed: {r.stderr.strip()[:400]}")
        m2, card = load_model_file(out)
        m1, _ = load_model_file(self.model_pt)
        check(card["export"]["random_init"] is False, "random_init should be false without the marker")
        x = torch.rand(1, 1, self.depth, 64, 64) * gp.RANGE_HI
        with torch.no_grad():
            d = float((m1(x) - m2(x)).abs().max())
        check(d <= TOL, f"same weights, different outputs: {d:.3g}")
        os.unlink(path)
        os.unlink(out)
        return "checkpoint with unimportable pickled classes exports; random_init false; same outputs"

    def t_bare_state_dict(self):
        sd = torch.load(self.ckpt, map_location="cpu")["state_dict"]
        path = os.path.join(self.work, f"{self.arch}-bare.pt")
        torch.save(sd, path)
        out = os.path.join(self.work, f"{self.arch}-bare-model.pt")
        r = run_exporter("--arch", self.arch, "--ckpt", path, "--out", out, "--depth", str(self.depth))
        check(r.returncode == 0, f"bare state_dict export failed: {r.stderr.strip()[:400]}")
        os.unlink(path)
        os.unlink(out)
        return "a bare state_dict (no Lightning wrapper) exports"

    def t_no_overwrite(self):
        before = sha256(self.ckpt)
        r = run_exporter("--arch", self.arch, "--ckpt", self.ckpt, "--random-init")
        check(r.returncode == 1 and "overwrite" in r.stderr and sha256(self.ckpt) == before,
              f"--random-init over an existing file: exit {r.returncode}, {r.stderr.strip()[:300]}")
        return "--random-init refuses to overwrite an existing checkpoint"

    def t_inkgen(self):
        return inkgen_check(self.inkgen, self.arch, self.model_pt, self.ckpt, self.work)


def sha256(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# inkgen end to end

def write_segment(folder, name, layers, width, height, seed):
    """layers/00.tif .. as 16-bit greyscale, values over the whole 16-bit range so that both
    the >>8 and the clip at 200 matter, plus <name>_mask.png all 255."""
    seg = os.path.join(folder, name)
    os.makedirs(os.path.join(seg, "layers"))
    rng = np.random.default_rng(seed)
    vols = []
    for z in range(layers):
        a = rng.integers(0, 65536, size=(height, width), dtype=np.uint16)
        Image.fromarray(a).save(os.path.join(seg, "layers", f"{z:02d}.tif"))
        vols.append(a)
    Image.fromarray(np.full((height, width), 255, dtype=np.uint8)).save(os.path.join(seg, f"{name}_mask.png"))
    back = np.array(Image.open(os.path.join(seg, "layers", "00.tif")))
    if back.dtype != np.uint16 or not np.array_equal(back, vols[0]):
        raise Failure("PIL did not round-trip a 16-bit TIFF")
    return seg, np.stack(vols)


def inkgen_check(inkgen, arch, model_pt, ckpt, work):
    if not (os.path.isfile(inkgen) and os.access(inkgen, os.X_OK)):
        raise Failure(f"inkgen binary '{inkgen}' does not exist or is not executable")
    probe = subprocess.run([inkgen, "score", "--help"], capture_output=True, text=True, timeout=120)
    if probe.returncode != 0:
        raise Failure(f"'{inkgen} score --help' exits {probe.returncode}: "
                          f"{(probe.stderr or probe.stdout).strip()[:200]}")
    _, card = load_model_file(model_pt)
    d, z0 = card["input"]["shape"][1], card["input"]["z0"]
    width, height = 80, 72
    x1, y1, x2, y2 = 9, 5, 73, 69  # x = column, y = row, end exclusive; 64 x 64
    name = f"seg{arch}"
    seg, vol = write_segment(work, name, z0 + d + 2, width, height, seed=21)
    r = subprocess.run([inkgen, "score", "--model", model_pt, "--segment", seg,
                        "--crop", f"{x1},{y1},{x2},{y2}", "--z0", str(z0), "--json"],
                       capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, f"inkgen score exit {r.returncode}: {r.stderr.strip()[:500]}")
    text = r.stdout.strip()
    try:
        got = json.loads(text)
    except ValueError:
        lines = [ln for ln in text.splitlines() if ln.startswith("{")]
        check(bool(lines), f"no JSON object on inkgen's stdout: {text[:300]}")
        got = json.loads(lines[-1])
    check("logit" in got and "probability" in got, f"inkgen JSON lacks logit/probability: {got}")

    crop = vol[z0:z0 + d, y1:y2, x1:x2].astype(np.int64)
    # The GP rule as inkgen states it: min(raw16 >> 8, 200) / 255, rounded once to float32.
    scaled = (np.minimum(crop >> 8, 200) / 255.0).astype(np.float32)
    x = torch.from_numpy(scaled)[None, None]
    eager = eager_from_checkpoint(arch, ckpt)
    with torch.no_grad():
        y = eager(x)
    want_logit = float(y.mean())
    want_prob = float(torch.sigmoid(y).mean())
    dl, dp = abs(got["logit"] - want_logit), abs(got["probability"] - want_prob)
    check(dl <= TOL and dp <= TOL, f"inkgen logit {got['logit']:.6f} vs python {want_logit:.6f} (diff {dl:.3g}); "
          f"probability {got['probability']:.6f} vs {want_prob:.6f} (diff {dp:.3g})")
    layers = hidden_layer_check(inkgen, arch, model_pt, card, seg, (x1, y1, x2, y2), z0, x, work)
    return f"inkgen score on a {width}x{height} 16-bit segment, crop {x1},{y1},{x2},{y2}, z0 {z0}, {d} layers: " \
           f"logit {got['logit']:.6f} (diff {dl:.2g}), probability {got['probability']:.6f} (diff {dp:.2g}); " \
           f"{layers}"


def hidden_layer_check(inkgen, arch, model_pt, card, seg, crop, z0, x, work):
    """Every layer the card lists is an objective inkgen raises, one channel each: the layer's first
    channel that is not off everywhere on the crop (random weights leave some ReLU channels dead,
    whose gradient is zero by construction), one step from the crop.

    The TimeSformer: one run on the sum of its 8 channels, every term checked on its own in
    run.json's "terms". The I3D: that is not enough (the sum rose, but 6 of its 15 terms fell,
    outweighed by the deep layers), so one batch job per layer, on a 16x32x32 corner of the crop
    (--input-shape; the model is fully convolutional), about 40 s. (One job per layer of the
    TimeSformer took 21 s each here, the run on the sum 30 s.)"""
    m, _ = load_model_file(model_pt)
    x1, y1, x2, y2 = crop
    extra = []
    if arch == "i3d":
        x = x[:, :, :16, :32, :32]
        x2, y2 = x1 + 32, y1 + 32
        extra = ["--input-shape", "1,16,32,32"]
    with torch.no_grad():
        feats = m.features(x)
    terms = []
    for name in card["layers"]:
        if name == "output":
            continue
        a = feats[name]
        live = [k for k in range(a.size(1)) if bool((a[:, k] != 0).any())]
        check(bool(live), f"layer {name} is identically 0 on the crop")
        terms.append(f"channel:{name}:{live[0]}")
    where = ["--segment", seg, "--crops", f"{x1},{y1},{x2},{y2}", "--z0", str(z0), "--model", model_pt, *extra,
             "--recipe", "classic", "--steps", "1"]
    t0 = time.time()
    if arch == "i3d":
        jobs = os.path.join(work, "layers.jsonl")
        with open(jobs, "w") as f:
            for i, term in enumerate(terms):
                f.write(json.dumps({"objective": term, "name": f"layer{i}"}) + "\n")
        r = subprocess.run([inkgen, "batch", jobs, "--out", os.path.join(work, "layer-runs"), "--mode", "maximize",
                            *where, "--json"], capture_output=True, text=True, timeout=900)
        check(r.returncode == 0, f"inkgen batch of every layer exit {r.returncode}: {r.stderr.strip()[:500]}")
        values = {j["objective"]["text"]: j["objective"] for j in json.loads(r.stdout)["jobs"]
                  if j.get("status") == "done"}
        how = "one batch job each"
    else:
        out = os.path.join(work, "layer-run")
        r = subprocess.run([inkgen, "maximize", "--from", "segment", *where, "--objective", " + ".join(terms),
                            "--out", out, "--quiet"], capture_output=True, text=True, timeout=900)
        check(r.returncode == 0, f"inkgen maximize of every layer exit {r.returncode}: {r.stderr.strip()[:500]}")
        with open(os.path.join(out, "run.json")) as f:
            o = json.load(f)["starts"][0]["objective"]
        check(o["text"] == " + ".join(terms), f"run.json objective {o['text']!r}")
        values = {t["term"]: t for t in o.get("terms", [])}
        how = "one run on their sum, each term on its own"
    check(sorted(values) == sorted(terms), f"objectives recorded: {sorted(values)}")
    flat = [f"{t} {values[t]['start']:.4g} -> {values[t]['final']:.4g}" for t in terms
            if not values[t]["final"] > values[t]["start"]]
    check(not flat, f"not raised: {'; '.join(flat)}")
    rise = min(values[t]["final"] - values[t]["start"] for t in terms)
    return (f"inkgen raised one channel of each of {len(terms)} layers, {how} ({x2 - x1}x{y2 - y1} crop; "
            f"smallest rise {rise:.3g}; {time.time() - t0:.0f} s)")


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="tests of models/export_gp.py")
    ap.add_argument("--arch", choices=["i3d", "timesformer", "all"], default="all")
    ap.add_argument("--inkgen", help="inkgen binary: also compare `inkgen score` with the Python model")
    ap.add_argument("--full-depth", action="store_true", help="TimeSformer at its training depth 26 (slow here)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--inkgen-only", action="store_true",
                    help="export, then only the inkgen checks: for a second inkgen build (another LibTorch) "
                         "beside one that ran everything, since the exporter checks do not depend on inkgen")
    args = ap.parse_args()
    if args.inkgen_only and not args.inkgen:
        ap.error("--inkgen-only needs --inkgen")

    archs = ["i3d", "timesformer"] if args.arch == "all" else [args.arch]
    work = tempfile.mkdtemp(prefix="inkgen-gp-test-")
    failures = []
    t_all = time.time()
    try:
        for arch in archs:
            depth = 26 if (arch == "timesformer" and args.full_depth) else (4 if arch == "timesformer" else 30)
            arch_dir = os.path.join(work, arch)
            os.makedirs(arch_dir)
            t = ArchTests(arch, arch_dir, depth, args.inkgen)
            print(f"== {arch} (input depth {depth})")
            steps = [t.t_key_list, t.t_reference, t.t_export, t.t_checkpoint_keys, t.t_card, t.t_saved_vs_eager,
                     t.t_features, t.t_features_grad,
                     t.t_missing_key, t.t_unexpected_key, t.t_wrong_shape, t.t_prefixed, t.t_no_overwrite,
                     t.t_foreign_objects]
            if arch == "i3d":
                steps.append(t.t_bare_state_dict)
            if args.inkgen:
                steps.append(t.t_inkgen)
            if args.inkgen_only:
                steps = [t.t_export, t.t_inkgen]
            exported = True
            t_arch = time.time()
            for step in steps:
                label = step.__name__[2:]
                if not exported and step not in (t.t_key_list, t.t_reference):
                    print(f"  skip {label} (export failed)")
                    continue
                try:
                    t0 = time.time()
                    msg = step()
                    print(f"  ok   {label}: {msg} [{time.time() - t0:.1f} s]")
                except Failure as e:
                    print(f"  FAIL {label}: {e}")
                    failures.append(f"{arch}/{label}")
                    exported = exported and step != t.t_export
                except Exception:
                    print(f"  FAIL {label}: unexpected error\n" + traceback.format_exc())
                    failures.append(f"{arch}/{label}")
                    exported = exported and step != t.t_export
            print(f"  ({arch}: {time.time() - t_arch:.1f} s)")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"total {time.time() - t_all:.1f} s")
    if failures:
        print(f"FAILED: {', '.join(failures)}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
