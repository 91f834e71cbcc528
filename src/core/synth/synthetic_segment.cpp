#include "inkgen/synth/synthetic_segment.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "inkgen/common/atomic_file.hpp"
#include "inkgen/common/error.hpp"
#include "inkgen/common/json_text.hpp"
#include "inkgen/io/layer_image.hpp"
#include "inkgen/io/segment.hpp"
#include "inkgen/io/segment_writer.hpp"
#include "inkgen/io/zarr_writer.hpp"
#include "inkgen/run/diff_writer.hpp"

namespace inkgen {

namespace {

namespace fs = std::filesystem;

constexpr double pi = 3.14159265358979323846;

// The look of the segment, in raw 16-bit units and layers, chosen after the real scroll chunk in
// ../shared (air about 10000, papyrus 28000-38000) and the Grand Prize segments (65 layers, the
// recto near layer 32, ink a weak signal on the recto).
constexpr double air_level = 10500;
constexpr double papyrus_contrast = 20500;  // papyrus minus air
constexpr double sheet_thickness = 13;      // layers, about 100 um at 7.91 um a voxel
constexpr double thickness_variation = 1.5;
// How far apart the bends of the sheet lie: two scales of smooth noise whose zero crossings lie
// about 4.4 sigma apart, i.e. ~160 and ~60 pixels, the smaller bends half as high.
constexpr double bend_sigma_large = 36;
constexpr double bend_sigma_small = 14;
constexpr double bend_small_weight = 0.5;
constexpr double fibre_contrast = 0.16;  // fraction of papyrus_contrast
constexpr double bundle_contrast = 0.06;
constexpr double density_variation = 0.04;
// Ink (SynthOptions): by default a film on the recto from 1.5 layers above the surface to 0.3 into
// the papyrus, denser by 7% of the papyrus-air contrast, which the blur spreads to ~3.5%: a faint
// signal, as real ink is, but one a small model learns (models/train_bundled.py).
constexpr double noise_before_blur = 0.12 * papyrus_contrast;  // the blur narrows it to ~0.02
constexpr double noise_after_blur = 450;

constexpr std::int64_t max_voxels = 256LL * 1024 * 1024;

// Greek capitals that the Hershey fonts draw as Latin letters; 'V' upside down is lambda.
constexpr const char* greek_like = "ABCEHIKMNOPTXYZV";

// The std distributions differ between standard libraries; these draws do not, so that a seed
// names one segment whichever library inkgen was built with.
class Random {
 public:
  Random(std::uint32_t seed, std::uint32_t stream) {
    std::seed_seq sequence{seed, stream};
    engine_.seed(sequence);
  }
  double uniform() { return (static_cast<double>(engine_()) + 0.5) / 4294967296.0; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi) { return lo + static_cast<int>(uniform() * (hi - lo + 1)); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2.0 * std::log(uniform()));
    const double angle = 2.0 * pi * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  std::mt19937 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// One stream per part of the segment: the text can change without changing the sheet.
enum Stream : std::uint32_t {
  surface_stream = 1,
  thickness_stream,
  mask_stream,
  density_stream,
  fibre_stream,
  hand_stream,
  ink_stream,
  noise_stream,
};

// A float volume, z-major like RawVolume.
struct Field {
  int depth = 1;
  int height = 0;
  int width = 0;
  std::vector<float> v;

  Field(int d, int h, int w) : depth(d), height(h), width(w), v(std::size_t(d) * h * w, 0.f) {}
  float& at(int z, int y, int x) { return v[(std::size_t(z) * height + y) * width + x]; }
  float at(int z, int y, int x) const { return v[(std::size_t(z) * height + y) * width + x]; }
};

std::vector<float> gaussian_kernel(double sigma) {
  const int r = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<float> k(2 * r + 1);
  double sum = 0;
  for (int i = -r; i <= r; ++i)
    sum += k[i + r] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
  for (auto& x : k)
    x = static_cast<float>(x / sum);
  return k;
}

// Gaussian blur along one axis (0 = z, 1 = y, 2 = x), edges clamped. Our own rather than
// OpenCV's so that the result does not depend on which SIMD path OpenCV picks.
void blur_axis(Field& f, int axis, double sigma) {
  const auto k = gaussian_kernel(sigma);
  const int r = static_cast<int>(k.size() / 2);
  const std::size_t outer = axis == 0 ? 1 : (axis == 1 ? f.depth : std::size_t(f.depth) * f.height);
  const int n = axis == 0 ? f.depth : (axis == 1 ? f.height : f.width);
  const std::size_t inner = axis == 0 ? std::size_t(f.height) * f.width : (axis == 1 ? f.width : 1);
  std::vector<float> block(n * inner);
  for (std::size_t o = 0; o < outer; ++o) {
    float* data = f.v.data() + o * n * inner;
    std::copy(data, data + n * inner, block.begin());
    for (int a = 0; a < n; ++a) {
      float* out = data + a * inner;
      if (inner == 1) {
        float sum = 0;
        for (int j = -r; j <= r; ++j)
          sum += k[j + r] * block[std::clamp(a + j, 0, n - 1)];
        *out = sum;
        continue;
      }
      std::fill(out, out + inner, 0.f);
      for (int j = -r; j <= r; ++j) {
        const float* in = block.data() + std::clamp(a + j, 0, n - 1) * inner;
        const float w = k[j + r];
        for (std::size_t i = 0; i < inner; ++i)
          out[i] += w * in[i];
      }
    }
  }
}

void blur(Field& f, double sigma_z, double sigma_y, double sigma_x) {
  if (sigma_z > 0 && f.depth > 1) blur_axis(f, 0, sigma_z);
  if (sigma_y > 0) blur_axis(f, 1, sigma_y);
  if (sigma_x > 0) blur_axis(f, 2, sigma_x);
}

Field white_noise(Random& random, int d, int h, int w) {
  Field f(d, h, w);
  for (auto& x : f.v)
    x = static_cast<float>(random.normal());
  return f;
}

// Scales to zero mean and, by `unit`, either unit standard deviation or values within [-1, 1].
enum class Unit { deviation, peak };
void normalize(Field& f, Unit unit) {
  double sum = 0;
  for (float x : f.v)
    sum += x;
  const double mean = sum / f.v.size();
  double scale = 0;
  for (float x : f.v)
    scale =
        unit == Unit::peak ? std::max(scale, std::abs(x - mean)) : scale + (x - mean) * (x - mean);
  if (unit == Unit::deviation) scale = std::sqrt(scale / f.v.size());
  if (scale <= 0) scale = 1;
  for (auto& x : f.v)
    x = static_cast<float>((x - mean) / scale);
}

// A smooth random 2D field of features about `sigma` pixels wide.
Field smooth_field(Random& random, int h, int w, double sigma_y, double sigma_x, Unit unit) {
  Field f = white_noise(random, 1, h, w);
  blur(f, 0, sigma_y, sigma_x);
  normalize(f, unit);
  return f;
}

// Like smooth_field (unit deviation), but made on a grid 3 sigma larger on every side and cut
// out: the blur's clamped edges repeat the edge noise, which would bend the border far more than
// the middle.
Field padded_smooth_field(Random& random, int h, int w, double sigma) {
  const int pad = static_cast<int>(std::ceil(3 * sigma));
  Field big = white_noise(random, 1, h + 2 * pad, w + 2 * pad);
  blur(big, 0, sigma, sigma);
  Field f(1, h, w);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      f.at(0, y, x) = big.at(0, y + pad, x + pad);
  normalize(f, Unit::deviation);
  return f;
}

// The p-th percentile (0..100) of the values, by the nearest rank.
double percentile(std::vector<float> values, double p) {
  if (values.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::lround(p / 100 * (values.size() - 1)));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

std::vector<float> on_mask(const cv::Mat& values, const cv::Mat& mask) {
  std::vector<float> out;
  for (int y = 0; y < values.rows; ++y)
    for (int x = 0; x < values.cols; ++x)
      if (mask.empty() || mask.at<std::uint8_t>(y, x)) out.push_back(values.at<float>(y, x));
  if (out.empty() && !mask.empty()) return on_mask(values, cv::Mat());
  return out;
}

// The height of the recto surface: smooth bends scaled so that on the papyrus the 1st and 99th
// percentiles lie at middle - bend and middle + bend (scaling by the field's own spread rather
// than by a fixed factor keeps the promised range however few bends a small segment holds).
cv::Mat bending_surface(Random& random, const cv::Mat& mask, int layers, double bend) {
  const int h = mask.rows;
  const int w = mask.cols;
  const Field large = padded_smooth_field(random, h, w, bend_sigma_large);
  const Field small = padded_smooth_field(random, h, w, bend_sigma_small);
  cv::Mat field(h, w, CV_32FC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      field.at<float>(y, x) =
          static_cast<float>(large.at(0, y, x) + bend_small_weight * small.at(0, y, x));
  const std::vector<float> papyrus = on_mask(field, mask);
  const double lo = percentile(papyrus, 1);
  const double hi = percentile(papyrus, 99);
  const double middle = (layers - 1) / 2.0;
  const double scale = hi > lo ? 2 * bend / (hi - lo) : 0;
  cv::Mat surface(h, w, CV_32FC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      surface.at<float>(y, x) =
          static_cast<float>(middle + scale * (field.at<float>(y, x) - (lo + hi) / 2));
  return surface;
}

// Length of the overlap of [a0, a1] and [b0, b1].
double overlap(double a0, double a1, double b0, double b1) {
  return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
}

cv::Mat papyrus_mask(Random& random, int h, int w) {
  // A torn edge: the border's width wanders smoothly and is ragged on a small scale.
  const double side = std::min(w, h);
  const Field wander = smooth_field(random, h, w, 20, 20, Unit::peak);
  const Field ragged = smooth_field(random, h, w, 1.5, 1.5, Unit::deviation);
  cv::Mat mask(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double to_edge = std::min({x, w - 1 - x, y, h - 1 - y});
      const double border =
          0.07 * side + 0.05 * side * wander.at(0, y, x) + 1.5 * ragged.at(0, y, x);
      mask.at<std::uint8_t>(y, x) = to_edge > border ? 255 : 0;
    }
  }
  return mask;
}

// How one hand writes: font, letter height, stroke width, line spacing.
struct Hand {
  int font = cv::FONT_HERSHEY_SIMPLEX;
  double letter_height = 32;
  int stroke = 3;
  double line_spacing = 52;
};

struct Letter {
  std::string glyph;  // one character for the font
  bool upside_down = false;
  std::string written;  // what it stands for, for the record
};

double font_scale(const Hand& hand, double letter_height) {
  int baseline = 0;
  const cv::Size h = cv::getTextSize("H", hand.font, 1.0, 1, &baseline);
  return letter_height / h.height;
}

double letter_width(const Hand& hand, const Letter& letter, double letter_height) {
  int baseline = 0;
  return cv::getTextSize(letter.glyph, hand.font, font_scale(hand, letter_height), hand.stroke,
                         &baseline)
      .width;
}

// Draws one letter, rotated by `angle` degrees about its centre, into the 0/255 canvas.
void draw_letter(cv::Mat& canvas, const Hand& hand, const Letter& letter, double letter_height,
                 cv::Point2d centre, double angle) {
  const double scale = font_scale(hand, letter_height);
  int baseline = 0;
  const cv::Size size = cv::getTextSize(letter.glyph, hand.font, scale, hand.stroke, &baseline);
  const int side = static_cast<int>(std::ceil(std::hypot(size.width, size.height + baseline))) +
                   4 * hand.stroke + 4;
  cv::Mat patch(side, side, CV_8UC1, cv::Scalar(0));
  const cv::Point origin((side - size.width) / 2, (side + size.height) / 2);
  cv::putText(patch, letter.glyph, origin, hand.font, scale, cv::Scalar(255), hand.stroke,
              cv::LINE_AA);
  const cv::Mat rotation = cv::getRotationMatrix2D(cv::Point2f(side / 2.f, side / 2.f),
                                                   angle + (letter.upside_down ? 180 : 0), 1.0);
  cv::Mat turned;
  cv::warpAffine(patch, turned, rotation, patch.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT);
  const int x0 = static_cast<int>(std::lround(centre.x)) - side / 2;
  const int y0 = static_cast<int>(std::lround(centre.y)) - side / 2;
  for (int y = 0; y < side; ++y) {
    const int cy = y0 + y;
    if (cy < 0 || cy >= canvas.rows) continue;
    for (int x = 0; x < side; ++x) {
      const int cx = x0 + x;
      if (cx < 0 || cx >= canvas.cols) continue;
      if (turned.at<std::uint8_t>(y, x) >= 128) canvas.at<std::uint8_t>(cy, cx) = 255;
    }
  }
}

// The text as lines of words of letters; a random text when none is given.
using Word = std::vector<Letter>;

Letter letter_of(char c) {
  if (c == 'V') return {"V", true, "\xCE\x9B"};  // upside-down V: capital lambda
  return {std::string(1, c), false, std::string(1, c)};
}

Word random_word(Random& random) {
  const std::string alphabet = greek_like;
  Word word;
  const int length = random.integer(2, 7);
  for (int i = 0; i < length; ++i)
    word.push_back(letter_of(alphabet[random.integer(0, static_cast<int>(alphabet.size()) - 1)]));
  return word;
}

std::vector<std::vector<Word>> given_lines(const std::string& text) {
  std::vector<std::vector<Word>> lines(1);
  Word word;
  const auto end_word = [&] {
    if (!word.empty()) lines.back().push_back(word);
    word.clear();
  };
  for (const char c : text) {
    if (c == '\n') {
      end_word();
      lines.emplace_back();
    } else if (c == ' ' || c == '\t') {
      end_word();
    } else if (c > ' ' && c < 127) {
      word.push_back({std::string(1, c), false, std::string(1, c)});
    } else {
      throw Error(ErrorKind::usage,
                  "--text holds a character the Hershey fonts cannot draw (byte " +
                      std::to_string(static_cast<unsigned char>(c)) +
                      "); use printable ASCII letters");
    }
  }
  end_word();
  return lines;
}

// Writes the text in lines across the sheet and returns the ink footprint; `written` receives
// what fitted.
cv::Mat write_text(const SynthOptions& options, std::string& written) {
  const int w = options.width;
  const int h = options.height;
  Random random(options.seed, hand_stream);
  Hand hand;
  const int fonts[] = {cv::FONT_HERSHEY_SIMPLEX, cv::FONT_HERSHEY_DUPLEX, cv::FONT_HERSHEY_COMPLEX,
                       cv::FONT_HERSHEY_TRIPLEX};
  hand.font = fonts[random.integer(0, 3)];
  hand.letter_height = std::min(random.uniform(24, 40), h / 4.0);
  // Pen strokes of Herculaneum hands are about a tenth of the letter height or more.
  hand.stroke =
      std::max(2, static_cast<int>(std::lround(hand.letter_height * random.uniform(0.09, 0.15))));
  hand.line_spacing = hand.letter_height * random.uniform(1.5, 1.8);
  const double lh = hand.letter_height;

  // Inside the widest border the mask can have, so that little of the text falls off the sheet.
  const double border = 0.11 * std::min(w, h);
  const double left = border + 0.3 * lh;
  const double right = w - border - 0.3 * lh;
  double baseline = border + 1.2 * lh;

  const bool random_text = !options.text.has_value();
  const auto lines = random_text ? std::vector<std::vector<Word>>() : given_lines(*options.text);
  std::size_t line_index = 0;
  std::size_t word_index = 0;

  cv::Mat canvas(h, w, CV_8UC1, cv::Scalar(0));
  written.clear();
  while (baseline < h - border - 0.2 * lh) {
    if (!random_text && line_index >= lines.size()) break;
    const double line_angle = random.uniform(-2.5, 2.5);
    const double slope = std::tan(line_angle * pi / 180);
    double u = left + random.uniform(0, 0.8 * lh);
    bool line_has_words = false;
    std::string line_text;
    while (true) {
      Word word;
      if (random_text) {
        word = random_word(random);
      } else {
        if (word_index >= lines[line_index].size()) break;
        word = lines[line_index][word_index];
      }
      double width = 0;
      for (const auto& letter : word)
        width += letter_width(hand, letter, lh) + 0.2 * lh;
      if (u + width > right && line_has_words) break;
      for (const auto& letter : word) {
        const double size = lh * random.uniform(0.92, 1.08);
        const double advance = letter_width(hand, letter, size);
        if (u + advance > right) break;  // a word longer than the line: the rest falls off
        const double cx = u + advance / 2;
        const cv::Point2d centre(
            cx, baseline + (cx - left) * slope - size / 2 + random.uniform(-0.06, 0.06) * lh);
        draw_letter(canvas, hand, letter, size, centre, line_angle + random.uniform(-6, 6));
        line_text += letter.written;
        u += advance + lh * random.uniform(0.12, 0.3);
      }
      line_has_words = true;
      line_text += ' ';
      u += lh * random.uniform(0.4, 0.8);
      if (!random_text) ++word_index;
    }
    if (!random_text) {
      if (word_index >= lines[line_index].size()) {
        ++line_index;
        word_index = 0;
      }
    }
    while (!line_text.empty() && line_text.back() == ' ')
      line_text.pop_back();
    if (!written.empty()) written += '\n';
    written += line_text;
    baseline += hand.line_spacing;
  }
  return canvas;
}

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// Refuses a value outside [lo, hi] (or not a number) with the option's name and its bounds.
void check_range(const char* option, double value, double lo, double hi, const std::string& fix) {
  if (value >= lo && value <= hi) return;
  throw Error(ErrorKind::usage, std::string(option) + " " + number(value) +
                                    " is out of bounds; give " + number(lo) + " to " + number(hi) +
                                    fix);
}

// A bend of a quarter of the layers keeps the sheet inside the volume (the default 3 is always
// allowed so that small test volumes keep working).
double max_bend(int layers) {
  return std::max(3.0, layers / 4.0);
}

void check_options(const SynthOptions& o) {
  if (o.width < 16 || o.height < 16) {
    throw Error(ErrorKind::usage, "--size " + std::to_string(o.width) + "," +
                                      std::to_string(o.height) +
                                      " is too small; give at least 16 pixels a side");
  }
  if (o.layers < 1 || o.layers > 1000) {
    throw Error(ErrorKind::usage, "--layers " + std::to_string(o.layers) +
                                      " is out of bounds; give 1 to 1000 (segments have 65)");
  }
  if (std::int64_t(o.width) * o.height * o.layers > max_voxels) {
    throw Error(ErrorKind::usage,
                "a synthetic segment of " + std::to_string(o.width) + "x" +
                    std::to_string(o.height) + "x" + std::to_string(o.layers) +
                    " voxels would need too much memory; keep width*height*layers under " +
                    std::to_string(max_voxels));
  }
  check_range("--bend", o.bend, 0, max_bend(o.layers),
              " layers (0 = flat; at most a quarter of --layers)");
  check_range("--ink-depth", o.ink_depth, -4, 10,
              " layers from the surface (negative = above it, positive = into the papyrus)");
  check_range("--ink-thickness", o.ink_thickness, 0.1, 8, " layers");
  check_range("--ink-contrast", o.ink_contrast, -0.5, 0.5,
              " (a fraction of the papyrus-air contrast; negative = lighter ink, 0 = invisible)");
  check_range("--blur", o.blur, 0, 3, " voxels (0 = no blur)");
}

// The film's extent relative to the surface, in layers.
struct Film {
  double top = 0;     // towards the air
  double bottom = 0;  // towards the papyrus
};

Film film_of(const SynthOptions& o) {
  return {o.ink_depth - o.ink_thickness / 2, o.ink_depth + o.ink_thickness / 2};
}

std::uint16_t quantize(double v) {
  return static_cast<std::uint16_t>(std::clamp(std::lround(v), 0L, 65535L));
}

FloatVolume to_float_volume(Field&& f) {
  FloatVolume out;
  out.depth = f.depth;
  out.height = f.height;
  out.width = f.width;
  out.values = std::move(f.v);
  return out;
}

// What the ink adds before the blur: the film's overlap with each voxel under the strokes.
Field ink_field(const SynthOptions& o, const cv::Mat& surface, const cv::Mat& labels,
                const Field& strength) {
  Field ink(o.layers, o.height, o.width);
  if (o.ink_contrast == 0) return ink;
  const Film film = film_of(o);
  for (int z = 0; z < o.layers; ++z) {
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        if (!labels.at<std::uint8_t>(y, x)) continue;
        const double d = z - surface.at<float>(y, x);
        const double overlap_ = overlap(d - 0.5, d + 0.5, film.top, film.bottom);
        ink.at(z, y, x) = static_cast<float>(papyrus_contrast * o.ink_contrast *
                                             (0.8 + 0.2 * strength.at(0, y, x)) * overlap_);
      }
    }
  }
  return ink;
}

// The film as if every papyrus pixel were inked: its overlap with each voxel, blurred as the
// volume is, divided by the largest value so that a column's maximum is about 1 (a little less
// where the film straddles two layers or the surface is steep).
Field film_field(const SynthOptions& o, const cv::Mat& surface, const cv::Mat& mask) {
  Field f(o.layers, o.height, o.width);
  const Film film = film_of(o);
  for (int z = 0; z < o.layers; ++z) {
    for (int y = 0; y < o.height; ++y) {
      for (int x = 0; x < o.width; ++x) {
        if (!mask.at<std::uint8_t>(y, x)) continue;
        const double d = z - surface.at<float>(y, x);
        f.at(z, y, x) = static_cast<float>(overlap(d - 0.5, d + 0.5, film.top, film.bottom));
      }
    }
  }
  blur(f, o.blur, o.blur, o.blur);
  const float peak = f.v.empty() ? 0.f : *std::max_element(f.v.begin(), f.v.end());
  if (peak > 0)
    for (auto& v : f.v)
      v /= peak;
  return f;
}

at::Tensor tensor_of(const FloatVolume& v) {
  return at::from_blob(const_cast<float*>(v.values.data()), {v.depth, v.height, v.width},
                       at::kFloat);
}

// What made the segment, for tools that read its answers.
nlohmann::json synth_record(const SyntheticSegment& s) {
  const SynthOptions& o = s.options;
  const Film film = film_of(o);
  const auto [lo, hi] = surface_percentiles(s, 1, 99);
  nlohmann::json j;
  j["generator"] = "inkgen synth";
  j["seed"] = o.seed;
  j["size"] = {o.width, o.height};
  j["layers"] = o.layers;
  j["bend"] = o.bend;
  j["ink_depth"] = o.ink_depth;
  j["ink_thickness"] = o.ink_thickness;
  j["ink_contrast"] = o.ink_contrast;
  j["blur"] = o.blur;
  j["text"] = s.text;
  j["text_given"] = o.text.has_value();
  // Rounded to a millionth of a layer: -0.6 + 0.9 is 0.30000000000000004 in binary.
  const auto tidy = [](double v) { return std::round(v * 1e6) / 1e6; };
  j["film_layers_from_surface"] = {tidy(film.top), tidy(film.bottom)};
  j["surface_p01_p99"] = {lo, hi};
  j["conventions"] =
      "layers grow into the papyrus; surface = recto height per pixel (_surface.tif); ink film "
      "from surface + ink_depth - ink_thickness/2 to surface + ink_depth + ink_thickness/2; "
      "_ink.tif = written voxels minus the same segment without ink (raw 16-bit units); "
      "_film.tif = the film's overlap with each voxel on the mask, blurred like the volume, "
      "divided by its largest value";
  return j;
}

}  // namespace

namespace {

// Throws Error(interrupted) once a stop was asked for; called between stages of seconds each.
void check_stop(const std::atomic<bool>* stop, const char* what) {
  if (stop && stop->load())
    throw Error(ErrorKind::interrupted, std::string("synth interrupted ") + what);
}

}  // namespace

SyntheticSegment make_synthetic_segment(const SynthOptions& options,
                                        const std::atomic<bool>* stop) {
  const auto heard = [stop] { check_stop(stop, "before writing; nothing was written"); };
  check_options(options);
  const int w = options.width;
  const int h = options.height;
  const int layers = options.layers;
  SyntheticSegment out;
  out.options = options;

  Random mask_random(options.seed, mask_stream);
  out.mask = papyrus_mask(mask_random, h, w);
  Random surface_random(options.seed, surface_stream);
  out.surface = bending_surface(surface_random, out.mask, layers, options.bend);
  Random thickness_random(options.seed, thickness_stream);
  const Field thickness = smooth_field(thickness_random, h, w, 40, 40, Unit::peak);

  Random density_random(options.seed, density_stream);
  const Field density = smooth_field(density_random, h, w, 30, 30, Unit::peak);
  // Fibre bundles: strips a few pixels across and long along the fibres.
  const Field bundles_h = smooth_field(density_random, h, w, 3, 30, Unit::deviation);
  const Field bundles_v = smooth_field(density_random, h, w, 30, 3, Unit::deviation);
  heard();

  // Fibres live in sheet coordinates: depth d below the surface, sampled at whole layers from
  // d = -2 on. The recto's fibres run along x, the verso's along y.
  const int sheet_depth = static_cast<int>(std::ceil(sheet_thickness + thickness_variation)) + 5;
  Random fibre_random(options.seed, fibre_stream);
  Field fibres_h = white_noise(fibre_random, sheet_depth, h, w);
  blur(fibres_h, 0.8, 0.9, 9);
  normalize(fibres_h, Unit::deviation);
  Field fibres_v = white_noise(fibre_random, sheet_depth, h, w);
  blur(fibres_v, 0.8, 9, 0.9);
  normalize(fibres_v, Unit::deviation);
  heard();

  out.ink_labels = write_text(options, out.text);
  cv::bitwise_and(out.ink_labels, out.mask, out.ink_labels);
  Random ink_random(options.seed, ink_stream);
  const Field ink_strength = smooth_field(ink_random, h, w, 6, 6, Unit::peak);

  // The sheet and the ink are made and blurred apart (the blur is linear), so that the segment
  // without ink is known exactly: same sheet, same noise, quantized the same way.
  Field sheet(layers, h, w);
  Random noise_random(options.seed, noise_stream);
  for (int z = 0; z < layers; ++z) {
    heard();
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const double d = z - out.surface.at<float>(y, x);
        double value = air_level;
        if (out.mask.at<std::uint8_t>(y, x)) {
          const double t = sheet_thickness + thickness_variation * thickness.at(0, y, x);
          const double papyrus = overlap(d - 0.5, d + 0.5, 0, t);
          if (papyrus > 0) {
            const double k = std::clamp(d + 2, 0.0, sheet_depth - 1.001);
            const int k0 = static_cast<int>(k);
            const double f = k - k0;
            const double fh = (1 - f) * fibres_h.at(k0, y, x) + f * fibres_h.at(k0 + 1, y, x);
            const double fv = (1 - f) * fibres_v.at(k0, y, x) + f * fibres_v.at(k0 + 1, y, x);
            // Recto to verso over two layers around the middle of the sheet.
            const double recto = std::clamp((t / 2 + 1 - d) / 2, 0.0, 1.0);
            const double fibre = std::tanh(1.5 * (recto * fh + (1 - recto) * fv)) / std::tanh(1.5);
            const double bundle =
                recto * bundles_h.at(0, y, x) + (1 - recto) * bundles_v.at(0, y, x);
            const double rho = (1 + density_variation * density.at(0, y, x)) *
                               (1 + bundle_contrast * bundle) * (1 + fibre_contrast * fibre);
            value += papyrus_contrast * papyrus * rho;
          }
        }
        sheet.at(z, y, x) = static_cast<float>(value + noise_before_blur * noise_random.normal());
      }
    }
  }
  blur(sheet, options.blur, options.blur, options.blur);
  heard();
  Field ink = ink_field(options, out.surface, out.ink_labels, ink_strength);
  blur(ink, options.blur, options.blur, options.blur);
  heard();

  out.volume.depth = layers;
  out.volume.height = h;
  out.volume.width = w;
  out.volume.voxels.resize(sheet.v.size());
  for (std::size_t i = 0; i < sheet.v.size(); ++i) {
    const double bare = sheet.v[i] + noise_after_blur * noise_random.normal();
    const std::uint16_t without = quantize(bare);
    out.volume.voxels[i] = quantize(bare + ink.v[i]);
    ink.v[i] = static_cast<float>(int(out.volume.voxels[i]) - int(without));
  }
  out.ink = to_float_volume(std::move(ink));
  sheet = Field(1, 0, 0);  // free it before the film takes as much again
  heard();
  out.film = to_float_volume(film_field(options, out.surface, out.mask));
  return out;
}

std::pair<double, double> surface_percentiles(const SyntheticSegment& segment, double lo,
                                              double hi) {
  const std::vector<float> heights = on_mask(segment.surface, segment.mask);
  return {percentile(heights, lo), percentile(heights, hi)};
}

void write_synthetic_segment(const fs::path& dir, const SyntheticSegment& segment,
                             VolumeFormat format, const std::atomic<bool>* stop) {
  const auto heard = [stop] {
    check_stop(stop, "while writing; the folder holds part of the segment: rerun with --force");
  };
  const std::string name = segment_name(dir);
  if (format == VolumeFormat::zarr) {
    write_zarr_volume(dir / (name + ".zarr"), segment.volume);
    write_image_atomically(dir / (name + "_mask.png"), segment.mask);
  } else {
    write_segment(dir, segment.volume, segment.mask);
  }
  heard();
  write_image_atomically(dir / (name + "_inklabels.png"), segment.ink_labels);
  write_float_tiff_stack(dir / (name + "_ink.tif"), tensor_of(segment.ink));
  heard();
  write_float_tiff_stack(dir / (name + "_film.tif"), tensor_of(segment.film));
  heard();
  const cv::Mat surface =
      segment.surface.isContinuous() ? segment.surface : segment.surface.clone();
  write_float_tiff_stack(dir / (name + "_surface.tif"),
                         at::from_blob(const_cast<float*>(surface.ptr<float>()),
                                       {1, surface.rows, surface.cols}, at::kFloat));
  write_text_atomically(dir / (name + "_synth.json"), json_text(synth_record(segment), 2) + "\n");
  // In Zarr, no layer file is ours: an earlier segment's go, so that the reader finds the Zarr.
  std::set<std::string> ours;
  for (int z = 0; format == VolumeFormat::tiff_layers && z < segment.volume.depth; ++z)
    ours.insert(layer_file_name(z, segment.volume.depth));
  std::vector<fs::path> stale;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / "layers", ec)) {
    const auto stem = entry.path().stem().string();
    const bool numbered = !stem.empty() && std::all_of(stem.begin(), stem.end(), ::isdigit);
    if (entry.is_regular_file() && numbered && is_layer_file_name(entry.path()) &&
        !ours.count(entry.path().filename().string())) {
      stale.push_back(entry.path());
    }
  }
  for (const auto& path : stale) {
    std::error_code removed;
    if (!fs::remove(path, removed) || removed) {
      throw Error(ErrorKind::output, "cannot remove the earlier layer " + path.string() +
                                         "; remove it by hand or choose another --out");
    }
  }
  if (format == VolumeFormat::zarr) fs::remove(dir / "layers", ec);  // only when empty
}

}  // namespace inkgen
