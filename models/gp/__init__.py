"""Rebuilt 2023 Vesuvius Grand Prize ink models and what the exporter needs to know about them.

Kept free of command-line concerns so tests can import it; models/export_gp.py is the CLI.
"""
import math
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn

from .i3d import GPI3D
from .timesformer import GPTimeSformer

KEYS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keys")

# The GP input rule: layers read as 8-bit (cv2.imread(..., 0) of the 16-bit TIFFs keeps the
# high byte), clipped at 200, then albumentations Normalize(mean=0, std=1) divides by 255.
SCALE_RULE = "min(raw16>>8,200)/255"
RANGE_HI = 200.0 / 255.0


@dataclass(frozen=True)
class Arch:
    key: str
    name: str                      # card "name"
    build: Callable[[], nn.Module]
    depth: int                     # layers per sample in training
    z0: int                        # first segment layer the GP code reads
    out_hw: Tuple[int, int]        # output map for a 64x64 crop
    architecture: str
    meaning: str
    source: str
    unused_prefixes: Tuple[str, ...]  # weights present in checkpoints but not used by forward

    @property
    def keys_file(self) -> str:
        return os.path.join(KEYS_DIR, self.key + ".txt")


ARCHS: Dict[str, Arch] = {
    "i3d": Arch(
        key="i3d",
        name="gp2023-i3d",
        build=GPI3D,
        depth=30,
        z0=15,
        out_hw=(16, 16),
        architecture=("InceptionI3d backbone (1 input channel; gaussian non-local blocks in Mixed_5b and "
                      "Mixed_5c) + 2D decoder over depth-max-pooled features of Conv3d_2c_3x3, Mixed_3c, "
                      "Mixed_4f, Mixed_5c (bilinear x2 upsampling, conv3x3+BN+ReLU fusions, 1x1 logit conv)"),
        meaning="ink logits at stride 4 over the 64x64 crop",
        source=("younader/Vesuvius-Grandprize-Winner models/i3dallnl.py, models/non_local_helper.py, "
                "64x64_256stride_i3d.py (RegressionPLModel, Decoder)"),
        unused_prefixes=("backbone.logits.",),
    ),
    "timesformer": Arch(
        key="timesformer",
        name="gp2023-timesformer",
        build=GPTimeSformer,
        depth=26,
        z0=17,
        out_hw=(4, 4),
        architecture=("TimeSformer (lucidrains timesformer-pytorch, rotary embeddings): dim 512, 16x16 "
                      "patches of a 64x64 crop, depth 8, 6 heads of 64, divided time/space attention, "
                      "GEGLU feed-forward; 16 class-token outputs viewed as 4x4"),
        meaning="ink logits at stride 16 over the 64x64 crop (16 outputs viewed as 4x4, row-major)",
        source=("younader/Vesuvius-Grandprize-Winner train_timesformer_og.py / inference_timesformer.py "
                "(RegressionPLModel) with lucidrains/TimeSformer-pytorch timesformer_pytorch.py, rotary.py"),
        unused_prefixes=(),
    ),
}


class InkgenWrapper(nn.Module):
    """inkgen's calling convention around a GP model: (N, 1, D, H, W) float32 -> logits.

    Both GP models already take that layout (the TimeSformer permutes to its (N, T, 1, H, W)
    inside GPTimeSformer.forward, as the GP Lightning module does); the wrapper adds a
    readable error for a wrong input rank instead of a reshape failure deep in the model.
    `features(x)` (exported next to forward) gives inkgen the hidden layers."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.size(1) != 1:
            raise RuntimeError("GP ink model: the input must be (N, 1, D, H, W) float32")
        return self.model(x)

    @torch.jit.export
    def features(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """inkgen's hidden layers: named activations (N, C, ...) in the order computed, then
        "output", exactly forward's result (GPI3D.features, GPTimeSformer.features)."""
        if x.dim() != 5 or x.size(1) != 1:
            raise RuntimeError("GP ink model: the input must be (N, 1, D, H, W) float32")
        return self.model.features(x)


def build(arch: str) -> nn.Module:
    return ARCHS[arch].build().eval()


def read_key_list(arch: str) -> "OrderedDict[str, Tuple[int, ...]]":
    """models/gp/keys/<arch>.txt: `key<TAB>shape` lines, shape empty for 0-d tensors.

    The lists are deliberately not generated from the classes in this package (that would
    make the comparison circular): they were transcribed from the reference constructors."""
    out: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()
    with open(ARCHS[arch].keys_file, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            key, _, shape = line.partition("\t")
            out[key] = tuple(int(s) for s in shape.split(",")) if shape else ()
    return out


def diff_key_list(model: nn.Module, expected: "OrderedDict[str, Tuple[int, ...]]") -> List[str]:
    """Differences between a model's state_dict and a key list, as readable lines."""
    have = OrderedDict((k, tuple(v.shape)) for k, v in model.state_dict().items())
    lines = [f"missing from model: {k}" for k in expected if k not in have]
    lines += [f"not in key list: {k}" for k in have if k not in expected]
    lines += [f"shape of {k}: model {have[k]}, list {expected[k]}" for k in have if k in expected and have[k] != expected[k]]
    return lines


def count_parameters(model: nn.Module, arch: str) -> Tuple[int, int]:
    """(all parameters, parameters the forward uses)."""
    total = used = 0
    for name, p in model.named_parameters():
        total += p.numel()
        if not name.startswith(ARCHS[arch].unused_prefixes):
            used += p.numel()
    return total, used


def _fan_in(weight: torch.Tensor) -> int:
    return int(weight[0].numel()) if weight.dim() > 1 else int(weight.numel())


def random_state_dict(arch: str, seed: int) -> "OrderedDict[str, torch.Tensor]":
    """Random weights under the real key names, seeded.

    Not an initialisation for training: it is meant to make parity tests meaningful, so
    everything that a trained model would have non-trivial is non-trivial here, e.g. BN
    running statistics (mean != 0, var != 1, var > 0) and the non-local W_z BN gain, which
    the reference initialises to 0 (which would make the non-local blocks identities)."""
    model = build(arch)
    gen = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=gen) * std + mean

    def uniform(shape, lo, hi):
        return torch.rand(shape, generator=gen) * (hi - lo) + lo

    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Conv3d, nn.Linear)):
                # He-style scale keeps activations O(1) through the ReLU stacks, so logits stay
                # in a range where a 1e-4 parity tolerance is a real test.
                mod.weight.copy_(normal(mod.weight.shape, math.sqrt(2.0 / _fan_in(mod.weight))))
                if mod.bias is not None:
                    mod.bias.copy_(normal(mod.bias.shape, 0.05))
            elif isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm3d)):
                c = mod.num_features
                mod.weight.copy_(uniform(c, 0.6, 1.4))
                mod.bias.copy_(normal(c, 0.1))
                mod.running_mean.copy_(normal(c, 0.1))
                mod.running_var.copy_(uniform(c, 0.5, 2.0))
                mod.num_batches_tracked.fill_(int(torch.randint(1000, 100000, (1,), generator=gen)))
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.copy_(uniform(mod.weight.shape, 0.8, 1.2))
                mod.bias.copy_(normal(mod.bias.shape, 0.05))
        if arch == "timesformer":
            tsf = model.backbone
            tsf.cls_token.copy_(normal(tsf.cls_token.shape, 1.0))
            # Linear layers of a transformer: a smaller scale than He keeps the residual stream
            # from growing layer by layer.
            for mod in tsf.modules():
                if isinstance(mod, nn.Linear):
                    mod.weight.mul_(0.5)
            # inv_freqs / scales are constants of the architecture, and real checkpoints hold
            # exactly the values the constructor computed, so they keep them here too.
    return OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
