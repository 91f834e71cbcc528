#!/usr/bin/python3
"""Writes the fuzz targets' seed corpus (committed; rerun only to change it).

  /usr/bin/python3 tests/fuzz/make_corpus.py tests/fuzz/corpus

corpus/layer: small greyscale TIFFs of every layout the layer reader handles, written by hand with
struct (striped and tiled, 8 and 16 bit, both byte orders, min-is-black and min-is-white) and by
Pillow (LZW, Deflate and PackBits compression). corpus/jobs: JOBS files and manifest lines.
"""
import io
import os
import struct
import sys

from PIL import Image


def tiff(width, height, bits, pixels, tiled=False, block=8, photometric=1, order="<"):
    """An uncompressed one-page TIFF: data blocks first, then the directory."""
    bps = bits // 8
    if tiled:
        across, down = -(-width // block), -(-height // block)
        blocks = []
        for ty in range(down):
            for tx in range(across):
                data = bytearray()
                for y in range(ty * block, ty * block + block):
                    for x in range(tx * block, tx * block + block):
                        v = pixels(x, y) if x < width and y < height else 0
                        data += struct.pack(order + ("B" if bps == 1 else "H"), v)
                blocks.append(bytes(data))
    else:
        blocks = []
        for y0 in range(0, height, block):
            data = bytearray()
            for y in range(y0, min(height, y0 + block)):
                for x in range(width):
                    data += struct.pack(order + ("B" if bps == 1 else "H"), pixels(x, y))
            blocks.append(bytes(data))
    out = bytearray(b"II*\0" if order == "<" else b"MM\0*")
    out += struct.pack(order + "I", 0)  # directory offset, patched below
    offsets = []
    for b in blocks:
        offsets.append(len(out))
        out += b
    counts_at = len(out)
    for b in blocks:
        out += struct.pack(order + "I", len(b))
    offsets_at = len(out)
    for o in offsets:
        out += struct.pack(order + "I", o)
    entries = [(256, 4, width), (257, 4, height), (258, 3, bits), (259, 3, 1), (262, 3, photometric),
               (277, 3, 1), (284, 3, 1), (339, 3, 1)]
    if tiled:
        entries += [(322, 3, block), (323, 3, block), (324, 4, None), (325, 4, None)]
    else:
        entries += [(273, 4, None), (278, 4, block), (279, 4, None)]
    entries.sort()
    if len(out) % 2:
        out += b"\0"
    struct.pack_into(order + "I", out, 4, len(out))
    out += struct.pack(order + "H", len(entries))
    for tag, kind, value in entries:
        if tag in (273, 324):
            value, count = (offsets[0], 1) if len(offsets) == 1 else (offsets_at, len(offsets))
        elif tag in (279, 325):
            value, count = (len(blocks[0]), 1) if len(blocks) == 1 else (counts_at, len(blocks))
        else:
            count = 1
        if kind == 3 and count == 1:
            out += struct.pack(order + "HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack(order + "HHII", tag, kind, count, value)
    out += struct.pack(order + "I", 0)
    return bytes(out)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    layer = os.path.join(root, "layer")
    jobs = os.path.join(root, "jobs")
    os.makedirs(layer, exist_ok=True)
    os.makedirs(jobs, exist_ok=True)
    ramp16 = lambda x, y: (x * 4099 + y * 257) % 65536
    ramp8 = lambda x, y: (x * 16 + y) % 256
    files = {
        "strips16.tif": tiff(16, 12, 16, ramp16),
        "strips8.tif": tiff(16, 12, 8, ramp8, block=5),
        "tiles16.tif": tiff(20, 12, 16, ramp16, tiled=True),
        "tiles8-be.tif": tiff(12, 20, 8, ramp8, tiled=True, order=">"),
        "white16-be.tif": tiff(9, 7, 16, ramp16, photometric=0, order=">"),
    }
    for compression in ("tiff_lzw", "tiff_adobe_deflate", "packbits"):
        image = Image.new("L", (16, 12))
        image.putdata([ramp8(i % 16, i // 16) for i in range(16 * 12)])
        buffer = io.BytesIO()
        image.save(buffer, format="TIFF", compression=compression)
        files[compression + "8.tif"] = buffer.getvalue()
    for name, data in files.items():
        with open(os.path.join(layer, name), "wb") as f:
            f.write(data)

    texts = {
        "jsonl.jsonl": (
            '# jobs\n'
            '{"mode": "maximize", "segment": "s1", "crops": ["0,0,64,64", [64, 0, 128, 64]], "steps": 5}\n'
            '{"mode": "minimize", "segment": "s2", "crops": "auto", "stride": 32, "sample": 3, "sample_seed": 1}\n'
            '{"mode": "maximize", "source": "noise", "count": 2, "lr": "1e-3", "noise-range": [0.2, 0.6], "clamp": false}\n'
            '{"mode": "minimize", "from": "segment", "segment": "s3", "crop": "0,0,8,8", "no-clamp": true, "name": "x"}\n'),
        "every-key.jsonl": (
            '{"mode": "maximize", "source": "segment", "segment": "s", "crops": "auto", "stride": 8, '
            '"sample": 2, "sample-seed": 3, "name": "n", "model": "m.pt", "input-shape": [1, 6, 16, 16], '
            '"scale": "raw16/65535", "range": "0,1", "output-kind": "logits", "z0": 1, "steps": 2, "lr": 0.1, '
            '"optimizer": "seed", "decay": 0.1, "seed": 9, "noise": "smooth", "noise-range": "0.1,0.9", '
            '"l2": 0.1, "tv": 0.2, "jitter": 1, "blur-every": 2, "blur-sigma": 0.5, "report-every": 1, '
            '"save-every": 1}\n'),
        "list.txt": "# segments\n/data/20230509182749\nrelative/seg\n\n",
        "manifest.jsonl": (
            '{"key": "s/0_0_64_64/maximize-segment", "status": "done", "fingerprint": "00ff", "time_ms": 1}\n'
            '{"key": "s/auto/maximize-segment", "status": "failed", "error": {"kind": "input", "message": "m"}}\n'
            '{"key": "noise/seed-0-0/minimize-noise", "sta'),
        "shard.txt": "3/8\n",
    }
    for name, text in texts.items():
        with open(os.path.join(jobs, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
