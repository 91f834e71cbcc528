#!/usr/bin/env python3
"""Writes a segment's layers as Zarr surface volumes with a real Zarr library, for inkgen's tests.

    write_zarr.py SEGMENT_DIR OUT_DIR

Reads SEGMENT_DIR/layers/NN.tif (16-bit, via PIL) into a (layers, Y, X) array and writes, with
whatever `zarr` this Python has (Debian's python3-zarr 2.x, or zarr 3 from PyPI):
  zarr 2: v2-<codec>.zarr for blosc, zstd, zlib, gzip and none; v2-slash.zarr (dimension
          separator "/"); v2-u8.zarr (uint8); v2-ome.zarr (an OME-Zarr group, levels 0 and 1)
  zarr 3: v3-<codec>.zarr for zstd, blosc, gzip and none; v3-u8.zarr; v3-ome.zarr
Chunks are (4, 16, 16): small, so that a crop touches few of many. Prints the names written,
one per line. inkgen's own code writes none of these.
"""
import sys
from pathlib import Path

import numpy as np
import zarr
from PIL import Image

CHUNKS = (4, 16, 16)


def load(segment):
    files = sorted((segment / "layers").glob("*.tif"))
    return np.stack([np.array(Image.open(f), dtype=np.uint16) for f in files])


def ome_attrs(levels):
    return {"multiscales": [{"version": "0.4", "name": "surface volume",
                             "axes": [{"name": n, "type": "space"} for n in ("z", "y", "x")],
                             "datasets": [{"path": str(i), "coordinateTransformations":
                                           [{"type": "scale", "scale": [1.0, 2.0 ** i, 2.0 ** i]}]}
                                          for i in range(levels)]}]}


def write_v2(volume, out):
    import numcodecs
    names = []
    for name, compressor in [("blosc", numcodecs.Blosc(cname="lz4", clevel=5,
                                                       shuffle=numcodecs.Blosc.SHUFFLE)),
                             ("zstd", numcodecs.Zstd(level=3)), ("zlib", numcodecs.Zlib(level=5)),
                             ("gzip", numcodecs.GZip(level=5)), ("none", None)]:
        a = zarr.open(str(out / f"v2-{name}.zarr"), mode="w", shape=volume.shape, chunks=CHUNKS,
                      dtype="<u2", compressor=compressor)
        a[:] = volume
        names.append(f"v2-{name}.zarr")
    store = zarr.storage.NestedDirectoryStore(str(out / "v2-slash.zarr"))
    a = zarr.open(store, mode="w", shape=volume.shape, chunks=CHUNKS, dtype="<u2")
    a[:] = volume
    names.append("v2-slash.zarr")
    a = zarr.open(str(out / "v2-u8.zarr"), mode="w", shape=volume.shape, chunks=CHUNKS, dtype="|u1")
    a[:] = (volume >> 8).astype(np.uint8)
    names.append("v2-u8.zarr")
    g = zarr.open_group(str(out / "v2-ome.zarr"), mode="w")
    g.create_dataset("0", data=volume, chunks=CHUNKS, dtype="<u2")
    g.create_dataset("1", data=volume[:, ::2, ::2], chunks=CHUNKS, dtype="<u2")
    g.attrs.update(ome_attrs(2))
    names.append("v2-ome.zarr")
    return names


def write_v3(volume, out):
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec
    names = []
    for name, compressors in [("zstd", [ZstdCodec(level=3)]),
                              ("blosc", [BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")]),
                              ("gzip", [GzipCodec(level=5)]), ("none", None)]:
        a = zarr.create_array(store=str(out / f"v3-{name}.zarr"), shape=volume.shape,
                              chunks=CHUNKS, dtype="uint16", compressors=compressors,
                              zarr_format=3)
        a[:] = volume
        names.append(f"v3-{name}.zarr")
    a = zarr.create_array(store=str(out / "v3-u8.zarr"), shape=volume.shape, chunks=CHUNKS,
                          dtype="uint8", zarr_format=3)
    a[:] = (volume >> 8).astype(np.uint8)
    names.append("v3-u8.zarr")
    g = zarr.open_group(str(out / "v3-ome.zarr"), mode="w", zarr_format=3)
    for level, data in enumerate([volume, volume[:, ::2, ::2]]):
        a = g.create_array(str(level), shape=data.shape, chunks=CHUNKS, dtype="uint16")
        a[:] = data
    g.attrs["ome"] = dict(ome_attrs(2), version="0.5")
    names.append("v3-ome.zarr")
    return names


def main():
    segment, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    volume = load(segment)
    major = int(zarr.__version__.split(".")[0])
    names = write_v3(volume, out) if major >= 3 else write_v2(volume, out)
    print("\n".join(names))


if __name__ == "__main__":
    main()
