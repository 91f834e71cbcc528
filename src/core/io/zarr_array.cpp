#include "inkgen/io/zarr_array.hpp"

#include <blosc.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Far beyond any surface volume (a segment is ~100 layers by ~10^5 pixels a side); keeps every
// product below overflow.
constexpr std::int64_t max_extent = std::int64_t{1} << 31;
// One chunk decoded at a time must fit in memory: Zarr writers use 64..1024 voxels a side.
constexpr std::int64_t max_chunk_bytes = std::int64_t{1} << 30;

[[noreturn]] void refuse(const fs::path& where, const std::string& problem) {
  throw Error(ErrorKind::input, "Zarr '" + where.string() + "' " + problem);
}

std::string read_small_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) refuse(path, "cannot be read (" + ec.message() + ")");
  if (size > (1u << 24)) refuse(path, "is over 16 MiB; Zarr metadata is a few KiB");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) refuse(path, "cannot be read");
  return text.str();
}

json read_metadata(const fs::path& path) {
  return parse_json_input(read_small_file(path), ErrorKind::input, "Zarr metadata " + path.string(),
                          "rewrite it with a Zarr library");
}

std::array<std::int64_t, 3> three_extents(const json& value, const fs::path& where,
                                          const std::string& what) {
  if (!value.is_array() || value.size() != 3) {
    refuse(where, "has " + what + " " + excerpt(value) +
                      "; a surface volume has three dimensions (layers, Y, X)");
  }
  std::array<std::int64_t, 3> out{};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto v = whole_of(value[i]);
    if (!v || *v < 1 || *v > max_extent)
      refuse(where, "has " + what + " " + excerpt(value) + ", not three positive sizes");
    out[i] = *v;
  }
  return out;
}

std::uint16_t fill_of(const json& value, const fs::path& where) {
  if (value.is_null()) return 0;
  const auto v = whole_of(value);
  if (!v || *v < 0 || *v > 65535) refuse(where, "has fill_value " + excerpt(value));
  return static_cast<std::uint16_t>(*v);
}

void check_sizes(const ZarrArray& a, const fs::path& where) {
  // Multiplied one side at a time, each bounded first: three sides of 1e9 overflow 64 bits.
  std::int64_t bytes = a.bytes;
  for (const auto side : a.chunks) {
    if (side > max_chunk_bytes || bytes * side > max_chunk_bytes)
      refuse(where, "has chunks over 1 GiB; rechunk it (64..1024 voxels a side is usual)");
    bytes *= side;
  }
}

ChunkCodec codec_named(const std::string& id, const fs::path& where) {
  if (id == "blosc") return ChunkCodec::blosc;
  if (id == "zstd") return ChunkCodec::zstd;
  if (id == "zlib" || id == "gzip") return ChunkCodec::zlib_or_gzip;
  refuse(where, "is compressed with '" + excerpt(id) +
                    "'; inkgen reads blosc, zstd, zlib, gzip or uncompressed chunks: rewrite it "
                    "with one of those");
}

ZarrArray open_v2(const fs::path& dir) {
  const fs::path meta = dir / ".zarray";
  const json j = read_metadata(meta);
  if (!j.is_object()) refuse(meta, "is not a JSON object");
  ZarrArray a;
  a.dir = dir;
  a.format = 2;
  a.shape = three_extents(j.value("shape", json()), meta, "shape");
  a.chunks = three_extents(j.value("chunks", json()), meta, "chunks");
  const std::string dtype = j.value("dtype", json("")).is_string() ? j.value("dtype", "") : "";
  if (dtype == "|u1" || dtype == "<u1" || dtype == ">u1") {
    a.bytes = 1;
  } else if (dtype == "<u2" || dtype == ">u2") {
    a.bytes = 2;
    a.big_endian = dtype[0] == '>';
  } else {
    refuse(meta, "holds dtype " + excerpt(j.value("dtype", json())) +
                     "; inkgen reads uint8 or uint16 surface volumes");
  }
  if (j.value("order", json("C")) != "C")
    refuse(meta, "stores chunks in Fortran order; rewrite it with order \"C\"");
  if (j.contains("filters") && !j["filters"].is_null() && !j["filters"].empty())
    refuse(meta, "has filters " + excerpt(j["filters"]) + "; rewrite it without filters");
  const json compressor = j.value("compressor", json());
  if (!compressor.is_null()) {
    if (!compressor.is_object() || !compressor.value("id", json()).is_string())
      refuse(meta, "has compressor " + excerpt(compressor));
    a.codec = codec_named(compressor["id"].get<std::string>(), meta);
  }
  const json separator = j.value("dimension_separator", json("."));
  if (separator != "." && separator != "/")
    refuse(meta, "has dimension_separator " + excerpt(separator));
  a.separator = separator.get<std::string>()[0];
  a.fill_value = fill_of(j.value("fill_value", json()), meta);
  check_sizes(a, meta);
  return a;
}

ZarrArray open_v3(const fs::path& dir, const json& j) {
  const fs::path meta = dir / "zarr.json";
  ZarrArray a;
  a.dir = dir;
  a.format = 3;
  a.shape = three_extents(j.value("shape", json()), meta, "shape");
  const json grid = j.value("chunk_grid", json());
  if (grid.value("name", json()) != "regular")
    refuse(meta, "has chunk grid " + excerpt(grid) + "; inkgen reads regular chunk grids");
  a.chunks = three_extents(grid.value("configuration", json::object()).value("chunk_shape", json()),
                           meta, "chunk_shape");
  const json dtype = j.value("data_type", json());
  if (dtype == "uint8") {
    a.bytes = 1;
  } else if (dtype == "uint16") {
    a.bytes = 2;
  } else {
    refuse(meta,
           "holds data_type " + excerpt(dtype) + "; inkgen reads uint8 or uint16 surface volumes");
  }
  const json keys = j.value("chunk_key_encoding", json::object());
  const std::string encoding = keys.value("name", json("default")).is_string()
                                   ? keys.value("name", std::string("default"))
                                   : std::string();
  const json key_separator = keys.value("configuration", json::object())
                                 .value("separator", json(encoding == "v2" ? "." : "/"));
  if ((encoding != "default" && encoding != "v2") || (key_separator != "." && key_separator != "/"))
    refuse(meta, "has chunk_key_encoding " + excerpt(keys));
  a.key_prefix = encoding == "default" ? "c" + key_separator.get<std::string>() : "";
  a.separator = key_separator.get<std::string>()[0];
  const json codecs = j.value("codecs", json());
  if (!codecs.is_array() || codecs.empty()) refuse(meta, "has no codecs list");
  bool seen_bytes = false;
  for (const auto& c : codecs) {
    const std::string name = c.value("name", json("")).is_string() ? c.value("name", "") : "";
    const json config = c.value("configuration", json::object());
    if (name == "bytes") {
      seen_bytes = true;
      a.big_endian = config.value("endian", json("little")) == "big";
    } else if (name == "sharding_indexed") {
      refuse(meta,
             "is sharded; inkgen reads unsharded arrays: rewrite it without shards "
             "(zarr.create_array(..., shards=None))");
    } else if (name == "transpose") {
      refuse(meta, "transposes its chunks; rewrite it without the transpose codec");
    } else if (name == "crc32c") {
      a.crc32c_suffix = true;
    } else if (!seen_bytes) {
      refuse(meta, "has codec " + excerpt(c) + " before 'bytes'");
    } else if (a.codec != ChunkCodec::none) {
      refuse(meta, "has two compressors; rewrite it with one");
    } else {
      a.codec = codec_named(name, meta);
    }
  }
  if (!seen_bytes) refuse(meta, "has no 'bytes' codec");
  a.fill_value = fill_of(j.value("fill_value", json()), meta);
  check_sizes(a, meta);
  return a;
}

// The multiscale level's path of an OME-Zarr group (v2 .zattrs or v3 zarr.json attributes).
fs::path level_path(const fs::path& dir, const json& attributes, int level) {
  json multiscales = attributes.value("multiscales", json());
  if (multiscales.is_null() && attributes.contains("ome"))
    multiscales = attributes["ome"].value("multiscales", json());
  if (!multiscales.is_array() || multiscales.empty() ||
      !multiscales[0].value("datasets", json()).is_array()) {
    refuse(dir, "is a Zarr group without OME-Zarr multiscales; give the array inside it");
  }
  const json& datasets = multiscales[0]["datasets"];
  if (level < 0 || level >= static_cast<int>(datasets.size())) {
    refuse(dir, "has multiscale levels 0.." + std::to_string(datasets.size() - 1) + ", not " +
                    std::to_string(level) + "; choose --level within them");
  }
  const json path = datasets[static_cast<std::size_t>(level)].value("path", json());
  if (!path.is_string() || path.get<std::string>().empty() ||
      path.get<std::string>().find("..") != std::string::npos) {
    refuse(dir, "names level " + std::to_string(level) + " by path " + excerpt(path));
  }
  return dir / path.get<std::string>();
}

std::vector<unsigned char> read_chunk_file(const fs::path& path, bool* missing) {
  std::ifstream in(path, std::ios::binary);
  *missing = !in;
  if (!in) return {};
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
}

// The chunk's raw bytes, exactly `size` of them.
std::vector<unsigned char> decode(const ZarrArray& a, std::vector<unsigned char> data,
                                  std::size_t size, const fs::path& file) {
  const auto corrupt = [&](const std::string& why) {
    throw Error(ErrorKind::input, "Zarr chunk " + file.string() + " cannot be decoded (" + why +
                                      "); restore the file from its source");
  };
  if (a.crc32c_suffix) {
    if (data.size() < 4) corrupt("shorter than its checksum");
    data.resize(data.size() - 4);
  }
  // Each codec's sizes are checked before the chunk's buffer is allocated.
  std::vector<unsigned char> out;
  switch (a.codec) {
    case ChunkCodec::none:
      if (data.size() != size)
        corrupt(std::to_string(data.size()) + " bytes, not " + std::to_string(size));
      return data;
    case ChunkCodec::blosc: {
      std::size_t raw = 0, compressed = 0, block = 0;
      if (data.size() < BLOSC_MIN_HEADER_LENGTH) corrupt("shorter than a blosc header");
      blosc_cbuffer_sizes(data.data(), &raw, &compressed, &block);
      if (raw != size || compressed != data.size()) corrupt("blosc sizes do not match the chunk");
      out.resize(size);
      if (blosc_decompress_ctx(data.data(), out.data(), size, 1) != static_cast<int>(size))
        corrupt("blosc");
      return out;
    }
    case ChunkCodec::zstd: {
      const unsigned long long declared = ZSTD_getFrameContentSize(data.data(), data.size());
      if (declared == ZSTD_CONTENTSIZE_ERROR) corrupt("not a zstd frame");
      if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != size)
        corrupt("zstd frame holds " + std::to_string(declared) + " bytes");
      out.resize(size);
      const std::size_t n = ZSTD_decompress(out.data(), size, data.data(), data.size());
      if (ZSTD_isError(n)) corrupt(std::string("zstd: ") + ZSTD_getErrorName(n));
      if (n != size) corrupt("zstd gave " + std::to_string(n) + " bytes");
      return out;
    }
    case ChunkCodec::zlib_or_gzip: {
      out.resize(size);
      z_stream z{};
      // 32 + 15: either a zlib or a gzip header, detected.
      if (inflateInit2(&z, 32 + 15) != Z_OK) corrupt("zlib");
      z.next_in = data.data();
      z.avail_in = static_cast<uInt>(data.size());
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(size);
      const int rc = inflate(&z, Z_FINISH);
      const std::size_t n = size - z.avail_out;
      inflateEnd(&z);
      if (rc != Z_STREAM_END || n != size) corrupt("zlib/gzip");
      return out;
    }
  }
  corrupt("unknown codec");
  return out;
}

fs::path chunk_file(const ZarrArray& a, std::int64_t cz, std::int64_t cy, std::int64_t cx) {
  const std::string sep(1, a.separator);
  std::string key =
      a.key_prefix + std::to_string(cz) + sep + std::to_string(cy) + sep + std::to_string(cx);
  return a.dir / key;
}

}  // namespace

bool is_zarr(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path / ".zarray", ec) || fs::is_regular_file(path / ".zgroup", ec) ||
         fs::is_regular_file(path / "zarr.json", ec);
}

namespace {

ZarrArray open_any(const fs::path& path, int level) {
  std::error_code ec;
  if (fs::is_regular_file(path / ".zarray", ec)) return open_v2(path);
  if (fs::is_regular_file(path / ".zgroup", ec)) {
    const fs::path attrs = path / ".zattrs";
    const json attributes = fs::is_regular_file(attrs, ec) ? read_metadata(attrs) : json::object();
    return open_any(level_path(path, attributes, level), 0);
  }
  if (fs::is_regular_file(path / "zarr.json", ec)) {
    const json j = read_metadata(path / "zarr.json");
    if (!j.is_object() || j.value("zarr_format", json()) != 3)
      refuse(path / "zarr.json", "is not Zarr v3 metadata (zarr_format 3)");
    if (j.value("node_type", json()) == "group")
      return open_any(level_path(path, j.value("attributes", json::object()), level), 0);
    return open_v3(path, j);
  }
  refuse(path, "holds no .zarray, .zgroup or zarr.json; give a Zarr array or OME-Zarr group");
}

}  // namespace

ZarrArray open_zarr_array(const fs::path& path, int level) {
  // The readers above look values up by the types Zarr writes; metadata of another shape (an
  // array where an object belongs, found by the fuzzer) surfaces here as nlohmann's type errors.
  try {
    return open_any(path, level);
  } catch (const nlohmann::json::exception& e) {
    refuse(path, "has metadata of the wrong shape (" + excerpt(std::string(e.what()), 120) +
                     "); rewrite it with a Zarr library");
  }
}

std::vector<std::uint16_t> read_zarr_region(const ZarrArray& a, int z_begin, int z_end,
                                            const Crop& crop, int* chunks_read) {
  const std::int64_t depth = z_end - z_begin, height = crop.height(), width = crop.width();
  const std::uint16_t fill =
      a.bytes == 1 ? static_cast<std::uint16_t>(a.fill_value * 257) : a.fill_value;
  std::vector<std::uint16_t> out(static_cast<std::size_t>(depth * height * width), fill);
  const std::size_t chunk_bytes = static_cast<std::size_t>(a.chunk_voxels() * a.bytes);
  const std::int64_t lo[3] = {z_begin, crop.y1, crop.x1};
  const std::int64_t hi[3] = {z_end, crop.y2, crop.x2};
  for (std::int64_t cz = lo[0] / a.chunks[0]; cz * a.chunks[0] < hi[0]; ++cz) {
    for (std::int64_t cy = lo[1] / a.chunks[1]; cy * a.chunks[1] < hi[1]; ++cy) {
      for (std::int64_t cx = lo[2] / a.chunks[2]; cx * a.chunks[2] < hi[2]; ++cx) {
        const fs::path file = chunk_file(a, cz, cy, cx);
        std::error_code ec;
        if (!fs::exists(file, ec)) continue;  // the fill value, already there
        // No codec here grows data much: a larger file is not this array's chunk.
        const auto file_size = fs::file_size(file, ec);
        if (ec || file_size > 2 * chunk_bytes + (1u << 20)) {
          throw Error(ErrorKind::input, "Zarr chunk " + file.string() +
                                            (ec ? " cannot be read (" + ec.message() + ")"
                                                : " is far larger than a chunk of this array") +
                                            "; restore the file from its source");
        }
        bool missing = false;
        std::vector<unsigned char> data = read_chunk_file(file, &missing);
        if (missing) continue;
        if (chunks_read) ++*chunks_read;
        const std::vector<unsigned char> raw = decode(a, std::move(data), chunk_bytes, file);
        const std::int64_t origin[3] = {cz * a.chunks[0], cy * a.chunks[1], cx * a.chunks[2]};
        const std::int64_t z0 = std::max(lo[0], origin[0]),
                           z1 = std::min(hi[0], origin[0] + a.chunks[0]);
        const std::int64_t y0 = std::max(lo[1], origin[1]),
                           y1 = std::min(hi[1], origin[1] + a.chunks[1]);
        const std::int64_t x0 = std::max(lo[2], origin[2]),
                           x1 = std::min(hi[2], origin[2] + a.chunks[2]);
        for (std::int64_t z = z0; z < z1; ++z) {
          for (std::int64_t y = y0; y < y1; ++y) {
            const std::int64_t in_row =
                ((z - origin[0]) * a.chunks[1] + (y - origin[1])) * a.chunks[2];
            const std::int64_t out_row = ((z - lo[0]) * height + (y - lo[1])) * width;
            for (std::int64_t x = x0; x < x1; ++x) {
              const unsigned char* p = raw.data() + (in_row + x - origin[2]) * a.bytes;
              out[static_cast<std::size_t>(out_row + x - lo[2])] =
                  a.bytes == 1   ? static_cast<std::uint16_t>(p[0] * 257)
                  : a.big_endian ? static_cast<std::uint16_t>(p[0] << 8 | p[1])
                                 : static_cast<std::uint16_t>(p[1] << 8 | p[0]);
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace inkgen
