#!/usr/bin/python3
"""Makes the tiny TorchScript models the tests load (a few KB each), deterministic from seed 0.

Run with Debian's python3-torch:  /usr/bin/python3 tests/models/make_test_models.py tests/models
The files are committed; rerun this only to change them.

  tiny-map.pt       (N,1,6,16,16) -> (N,1,4,4) logit map at stride 4, Grand Prize scale rule, z0 2
  tiny-scalar.pt    (N,1,4,12,12) -> (N,1) logit, raw16/65535
  tiny-prob.pt      as tiny-scalar but returns a probability (card kind "probability")
  tiny-nocard.pt    as tiny-scalar, no card at all
  tiny-sidecar.pt   as tiny-scalar, card in tiny-sidecar.json beside it
  tiny-tuple.pt     returns a tuple, not a tensor
  tiny-badshape.pt  its card's input shape does not fit the network
  tiny-badcard.pt   its embedded card is not valid JSON
  tiny-nan.pt       output is NaN once the input's mean falls below 0.45 (fine at load)
  tiny-features.pt  (N,1,6,16,16) -> (N,1,4,4), with a features method whose channels are known
                    filters (EdgeNet below): what maximizing each must draw is known
"""
import json
import os
import sys

from typing import Dict

import torch
import torch.nn.functional as F
from torch import nn

GP_SCALE = "min(raw16>>8,200)/255"


class MapNet(nn.Module):
    """A Grand-Prize-shaped miniature: 3D features, max over depth, 2D head at stride 4."""

    def __init__(self):
        super().__init__()
        self.conv3d = nn.Conv3d(1, 4, 3, padding=1)
        self.down1 = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.down2 = nn.Conv2d(4, 1, 3, stride=2, padding=1)
        # Positive head weights: the logit rises with the 3D features, so that optimizing the
        # input moves it clearly (random signs left it nearly flat).
        with torch.no_grad():
            self.down1.weight.abs_()
            self.down2.weight.abs_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = torch.relu(self.conv3d(x)).amax(dim=2)
        return self.down2(torch.relu(self.down1(f)))


class ScalarNet(nn.Module):
    def __init__(self, depth=4, size=12, probability=False):
        super().__init__()
        self.conv = nn.Conv3d(1, 4, 3)
        self.fc = nn.Linear(4 * (depth - 2) * (size - 2) * (size - 2), 1)
        self.probability = probability

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(torch.relu(self.conv(x)).flatten(1))
        if self.probability:
            y = torch.sigmoid(y)
        return y


class TupleNet(nn.Module):
    def forward(self, x: torch.Tensor):
        m = x.mean(dim=[1, 2, 3, 4]).unsqueeze(1)
        return m, m


class NanNet(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(x.mean(dim=[1, 2, 3, 4]) - 0.45).unsqueeze(1) * 10.0


class EdgeNet(nn.Module):
    """Hidden layers with known behaviour. Layer "edges" (2 channels, zero padding):
    channel 0 is the depth edge x[z+1] - x[z-1], channel 1 the edge along x, x[.., x+1] -
    x[.., x-1]. Summed over a whole volume, channel 0 is the last layer minus the first and
    channel 1 the last column minus the first: maximizing channel 0 must make the last layer
    dense and the first light and leave the others alone. Layer "pooled" is each channel's mean
    (a layer without positions). The ink logit map is the edges' sum, pooled 4x4."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(1, 2, 3, padding=1, bias=False)
        w = torch.zeros(2, 1, 3, 3, 3)
        w[0, 0, 2, 1, 1], w[0, 0, 0, 1, 1] = 1.0, -1.0
        w[1, 0, 1, 1, 2], w[1, 0, 1, 1, 0] = 1.0, -1.0
        with torch.no_grad():
            self.conv.weight.copy_(w)

    def head(self, e: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(e.mean(dim=2).sum(dim=1, keepdim=True), 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x))

    @torch.jit.export
    def features(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        e = self.conv(x)
        return {"edges": e, "pooled": e.mean(dim=[2, 3, 4]), "output": self.head(e)}


def card(name, shape, scale, kind="logits", z0=None, out_shape=(1,), meaning=""):
    c = {
        "name": name,
        "architecture": "inkgen test model",
        "input": {"shape": list(shape), "layout": "N,C,D,H,W", "dtype": "float32", "scale": scale},
        "output": {"shape": list(out_shape), "kind": kind, "meaning": meaning or "test output"},
        "source": "inkgen tests/models/make_test_models.py (random weights, seed 0)",
    }
    if z0 is not None:
        c["input"]["z0"] = z0
    return c


def save(module, out_dir, file_name, card_text=None):
    scripted = torch.jit.script(module.eval())
    extra = {} if card_text is None else {"inkgen.json": card_text}
    torch.jit.save(scripted, os.path.join(out_dir, file_name), _extra_files=extra)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(0)
    save(MapNet(), out_dir, "tiny-map.pt",
         json.dumps(card("tiny-map", (1, 6, 16, 16), GP_SCALE, z0=2, out_shape=(1, 4, 4),
                         meaning="ink logits at stride 4")))
    torch.manual_seed(0)
    scalar = ScalarNet()
    save(scalar, out_dir, "tiny-scalar.pt", json.dumps(card("tiny-scalar", (1, 4, 12, 12), "raw16/65535")))
    save(scalar, out_dir, "tiny-nocard.pt")
    save(scalar, out_dir, "tiny-sidecar.pt")
    with open(os.path.join(out_dir, "tiny-sidecar.json"), "w") as f:
        json.dump(card("tiny-sidecar", (1, 4, 12, 12), "raw16/65535"), f, indent=2)
    torch.manual_seed(0)
    save(ScalarNet(probability=True), out_dir, "tiny-prob.pt",
         json.dumps(card("tiny-prob", (1, 4, 12, 12), "raw16/65535", kind="probability")))
    save(TupleNet(), out_dir, "tiny-tuple.pt", json.dumps(card("tiny-tuple", (1, 4, 12, 12), "raw16/65535")))
    save(scalar, out_dir, "tiny-badshape.pt", json.dumps(card("tiny-badshape", (1, 5, 20, 20), "raw16/65535")))
    save(scalar, out_dir, "tiny-badcard.pt", '{"name": "tiny-badcard", "input": {"shape": [1, 4')
    save(NanNet(), out_dir, "tiny-nan.pt", json.dumps(card("tiny-nan", (1, 4, 12, 12), "raw16/65535")))
    features = card("tiny-features", (1, 6, 16, 16), "raw16/65535", out_shape=(1, 4, 4),
                    meaning="sum of the edge channels pooled 4x4")
    features["layers"] = {"edges": [2, 6, 16, 16], "pooled": [2], "output": [1, 4, 4]}
    save(EdgeNet(), out_dir, "tiny-features.pt", json.dumps(features))


if __name__ == "__main__":
    main()
