"""The 2023 Vesuvius Grand Prize I3D ink model, rebuilt so its checkpoints load by name.

Reference (read, not copied): younader/Vesuvius-Grandprize-Winner
  models/i3dallnl.py          InceptionI3d, Unit3D, MaxPool3dSamePadding, InceptionModule
  models/non_local_helper.py  NLBlockND (mode='gaussian', dimension=3, bn_layer=True)
  64x64_256stride_i3d.py      Decoder and RegressionPLModel (training)
  infer.py                    the same Decoder / RegressionPLModel used for inference

Every attribute name below is a state_dict key component of the real checkpoints
(`backbone.<...>`, `decoder.<...>`), so renaming anything breaks loading of real weights;
models/gp/keys/i3d.txt pins the full list and the tests compare against it.

The code is written for torch.jit.script: no Python-side dynamic dispatch, explicit
unrolled loops where the reference iterates over module dicts.
"""
from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F


def _same_pad(size: int, kernel: int, stride: int) -> int:
    # TF "SAME" padding as the reference computes it; it depends on the input size, so it
    # cannot be a constant padding of the conv and has to be done at run time.
    if size % stride == 0:
        return max(kernel - stride, 0)
    return max(kernel - (size % stride), 0)


def _pad_same_3d(x: torch.Tensor, kernel: List[int], stride: List[int]) -> torch.Tensor:
    pt = _same_pad(x.size(2), kernel[0], stride[0])
    ph = _same_pad(x.size(3), kernel[1], stride[1])
    pw = _same_pad(x.size(4), kernel[2], stride[2])
    # Asymmetric like TF: the extra element goes to the back (front = pad // 2).
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2, pt // 2, pt - pt // 2])


class MaxPool3dSamePadding(nn.Module):
    """Max pool after SAME padding. The padding is zeros (F.pad default), not -inf, as in
    the reference; it only matters where inputs can be negative (after a non-local block)."""

    def __init__(self, kernel_size: List[int], stride: List[int]):
        super().__init__()
        self.kernel_size = list(kernel_size)
        self.stride = list(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _pad_same_3d(x, self.kernel_size, self.stride)
        return F.max_pool3d(x, self.kernel_size, self.stride, 0, 1, False)


class Unit3D(nn.Module):
    """Conv3d (SAME padding, no bias) -> BatchNorm3d(eps=1e-3, momentum=0.01) -> ReLU.

    The logits head is the one Unit3D with a bias and neither BN nor ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_shape: List[int] = [1, 1, 1],
                 stride: List[int] = [1, 1, 1], use_batch_norm: bool = True, use_bias: bool = False,
                 relu: bool = True):
        super().__init__()
        self.kernel_shape = list(kernel_shape)
        self.stride = list(stride)
        self.relu = relu
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel_size=self.kernel_shape,
                                stride=self.stride, padding=0, bias=use_bias)
        # Identity keeps the module scriptable without Optional submodules and adds no keys.
        self.bn = nn.BatchNorm3d(out_channels, eps=0.001, momentum=0.01) if use_batch_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(_pad_same_3d(x, self.kernel_shape, self.stride))
        x = self.bn(x)
        if self.relu:
            x = F.relu(x)
        return x


class NonLocalGaussian(nn.Module):
    """NLBlockND(mode='gaussian', dimension=3, bn_layer=True): theta and phi are the input
    itself (no theta/phi convs in this mode), only g and W_z carry weights."""

    def __init__(self, in_channels: int):
        super().__init__()
        self.in_channels = in_channels
        self.inter_channels = max(in_channels // 2, 1)
        self.g = nn.Conv3d(in_channels, self.inter_channels, kernel_size=1)
        self.W_z = nn.Sequential(
            nn.Conv3d(self.inter_channels, in_channels, kernel_size=1),
            nn.BatchNorm3d(in_channels),  # default eps 1e-5, unlike Unit3D's 1e-3
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        g_x = self.g(x).reshape(n, self.inter_channels, -1).permute(0, 2, 1)
        flat = x.reshape(n, self.in_channels, -1)
        f = torch.matmul(flat.permute(0, 2, 1), flat)
        y = torch.matmul(F.softmax(f, dim=-1), g_x)
        y = y.permute(0, 2, 1).contiguous().reshape(n, self.inter_channels, x.size(2), x.size(3), x.size(4))
        return self.W_z(y) + x


class InceptionModule(nn.Module):
    def __init__(self, in_channels: int, out_channels: List[int], non_local: bool = False):
        super().__init__()
        # Created first in the reference too; order only affects state_dict ordering.
        self.nl_block = NonLocalGaussian(in_channels) if non_local else nn.Identity()
        self.b0 = Unit3D(in_channels, out_channels[0], [1, 1, 1])
        self.b1a = Unit3D(in_channels, out_channels[1], [1, 1, 1])
        self.b1b = Unit3D(out_channels[1], out_channels[2], [3, 3, 3])
        self.b2a = Unit3D(in_channels, out_channels[3], [1, 1, 1])
        self.b2b = Unit3D(out_channels[3], out_channels[4], [3, 3, 3])
        self.b3a = MaxPool3dSamePadding([3, 3, 3], [1, 1, 1])
        self.b3b = Unit3D(in_channels, out_channels[5], [1, 1, 1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.nl_block(x)
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


class InceptionI3d(nn.Module):
    """InceptionI3d(in_channels=1, num_classes=512, non_local=True) in feature mode:
    returns the maps after Conv3d_2c_3x3, Mixed_3c, Mixed_4f and Mixed_5c."""

    def __init__(self, in_channels: int = 1, num_classes: int = 512, non_local: bool = True):
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(in_channels, 64, [7, 7, 7], stride=[2, 2, 2])
        self.MaxPool3d_2a_3x3 = MaxPool3dSamePadding([1, 3, 3], [1, 2, 2])
        self.Conv3d_2b_1x1 = Unit3D(64, 64, [1, 1, 1])
        self.Conv3d_2c_3x3 = Unit3D(64, 192, [3, 3, 3])
        self.MaxPool3d_3a_3x3 = MaxPool3dSamePadding([1, 3, 3], [1, 2, 2])
        self.Mixed_3b = InceptionModule(192, [64, 96, 128, 16, 32, 32])
        self.Mixed_3c = InceptionModule(256, [128, 128, 192, 32, 96, 64])
        self.MaxPool3d_4a_3x3 = MaxPool3dSamePadding([3, 3, 3], [2, 2, 2])
        self.Mixed_4b = InceptionModule(480, [192, 96, 208, 16, 48, 64])
        self.Mixed_4c = InceptionModule(512, [160, 112, 224, 24, 64, 64])
        self.Mixed_4d = InceptionModule(512, [128, 128, 256, 24, 64, 64])
        self.Mixed_4e = InceptionModule(512, [112, 144, 288, 32, 64, 64])
        self.Mixed_4f = InceptionModule(528, [256, 160, 320, 32, 128, 128])
        self.MaxPool3d_5a_2x2 = MaxPool3dSamePadding([2, 2, 2], [2, 2, 2])
        # Only these two get a non-local block (the reference passes non_local to them alone).
        self.Mixed_5b = InceptionModule(832, [256, 160, 320, 32, 128, 128], non_local=non_local)
        self.Mixed_5c = InceptionModule(832, [384, 192, 384, 48, 128, 128], non_local=non_local)
        # Classification head of the original I3D: never used by the ink model's forward, but
        # it is in every checkpoint, so it must exist for a strict load. Not called below.
        self.logits = Unit3D(1024, num_classes, [1, 1, 1], use_batch_norm=False, use_bias=True, relu=False)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = self.Conv3d_1a_7x7(x)
        x = self.MaxPool3d_2a_3x3(x)
        x = self.Conv3d_2b_1x1(x)
        f0 = self.Conv3d_2c_3x3(x)
        x = self.MaxPool3d_3a_3x3(f0)
        x = self.Mixed_3b(x)
        f1 = self.Mixed_3c(x)
        x = self.MaxPool3d_4a_3x3(f1)
        x = self.Mixed_4b(x)
        x = self.Mixed_4c(x)
        x = self.Mixed_4d(x)
        x = self.Mixed_4e(x)
        f2 = self.Mixed_4f(x)
        x = self.MaxPool3d_5a_2x2(f2)
        x = self.Mixed_5b(x)
        f3 = self.Mixed_5c(x)
        return [f0, f1, f2, f3]

    def stages(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Every conv unit's and inception block's output, (N, C, T, H, W), by module name, in
        the order computed (the max pools, which only subsample, are left out). The same
        calls as forward, one by one, so the four maps forward returns are bit-identical to
        "Conv3d_2c_3x3", "Mixed_3c", "Mixed_4f" and "Mixed_5c" here; forward stays separate
        so that a plain pass need not keep every stage alive."""
        out: Dict[str, torch.Tensor] = {}
        x = self.Conv3d_1a_7x7(x)
        out["Conv3d_1a_7x7"] = x
        x = self.MaxPool3d_2a_3x3(x)
        x = self.Conv3d_2b_1x1(x)
        out["Conv3d_2b_1x1"] = x
        x = self.Conv3d_2c_3x3(x)
        out["Conv3d_2c_3x3"] = x
        x = self.MaxPool3d_3a_3x3(x)
        x = self.Mixed_3b(x)
        out["Mixed_3b"] = x
        x = self.Mixed_3c(x)
        out["Mixed_3c"] = x
        x = self.MaxPool3d_4a_3x3(x)
        x = self.Mixed_4b(x)
        out["Mixed_4b"] = x
        x = self.Mixed_4c(x)
        out["Mixed_4c"] = x
        x = self.Mixed_4d(x)
        out["Mixed_4d"] = x
        x = self.Mixed_4e(x)
        out["Mixed_4e"] = x
        x = self.Mixed_4f(x)
        out["Mixed_4f"] = x
        x = self.MaxPool3d_5a_2x2(x)
        x = self.Mixed_5b(x)
        out["Mixed_5b"] = x
        x = self.Mixed_5c(x)
        out["Mixed_5c"] = x
        return out


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Decoder(nn.Module):
    """The GP U-Net style decoder over the depth-max-pooled I3D features.

    convs[i-1] fuses feature i-1 with feature i upsampled x2: 672->192, 1312->480, 1856->832.
    The reference ends with nn.Upsample(scale_factor=1, mode='bilinear') (upscale=1): with
    scale 1 and align_corners=False every output sample sits exactly on an input sample with
    weight 1, so it is the identity and is left out (it has no weights either)."""

    def __init__(self, encoder_dims: List[int] = [192, 480, 832, 1024]):
        super().__init__()
        self.convs = nn.ModuleList(
            [_conv_bn_relu(encoder_dims[i] + encoder_dims[i - 1], encoder_dims[i - 1]) for i in range(1, len(encoder_dims))])
        self.logit = nn.Conv2d(encoder_dims[0], 1, 1, 1, 0)

    @staticmethod
    def _up(x: torch.Tensor) -> torch.Tensor:
        # The reference passes align_corners=None, which means False for bilinear.
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)

    def forward(self, f: List[torch.Tensor]) -> torch.Tensor:
        # Unrolled coarse-to-fine loop of the reference (finer map first in the concat).
        x = self.convs[2](torch.cat([f[2], self._up(f[3])], dim=1))
        x = self.convs[1](torch.cat([f[1], self._up(x)], dim=1))
        x = self.convs[0](torch.cat([f[0], self._up(x)], dim=1))
        return self.logit(x)

    def stages(self, f: List[torch.Tensor]) -> Dict[str, torch.Tensor]:
        """forward's fused maps (N, C, H, W) by module name, coarse to fine, then its result
        as "output": the same calls as forward, so "output" is bit-identical to it."""
        out: Dict[str, torch.Tensor] = {}
        x = self.convs[2](torch.cat([f[2], self._up(f[3])], dim=1))
        out["decoder.convs.2"] = x
        x = self.convs[1](torch.cat([f[1], self._up(x)], dim=1))
        out["decoder.convs.1"] = x
        x = self.convs[0](torch.cat([f[0], self._up(x)], dim=1))
        out["decoder.convs.0"] = x
        out["output"] = self.logit(x)
        return out


class GPI3D(nn.Module):
    """RegressionPLModel(enc='i3d') without the Lightning parts: state_dict keys are
    `backbone.*` and `decoder.*` exactly as Lightning saves them (with_norm=False, the
    default the GP runs used, so there is no `normalization.*`)."""

    def __init__(self):
        super().__init__()
        self.backbone = InceptionI3d(in_channels=1, num_classes=512, non_local=True)
        self.decoder = Decoder([192, 480, 832, 1024])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, D, H, W) in [0, 200/255] -> (N, 1, H/4, W/4) ink logits."""
        feats = self.backbone(x)
        pooled = [torch.max(t, dim=2)[0] for t in feats]
        return self.decoder(pooled)

    @torch.jit.export
    def features(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """inkgen's hidden layers, in the order computed: the backbone's stages
        (InceptionI3d.stages, (N, C, T, H, W) under their module names, e.g. "Mixed_4f"), the
        decoder's fused 2D maps ("decoder.convs.2", ".1", ".0": (N, C, H, W)), then "output",
        computed by the same calls as forward and so exactly forward's result."""
        out = self.backbone.stages(x)
        feats = [out["Conv3d_2c_3x3"], out["Mixed_3c"], out["Mixed_4f"], out["Mixed_5c"]]
        pooled = [torch.max(t, dim=2)[0] for t in feats]
        dec = self.decoder.stages(pooled)
        for name, t in dec.items():
            out[name] = t
        return out
