#include "inkgen/card/crop_normalization.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

Normalization of(const std::string& json) {
  return parse_normalization(nlohmann::json::parse(json), "test");
}

TEST(CropNormalization, FormulasOnValuesWorkedByHand) {
  const std::vector<float> x{4, 1, 3, 2};  // sorted 1 2 3 4
  const auto st = normalization_stats(of(R"({"kind": "standardize"})"), x);
  EXPECT_DOUBLE_EQ(st.center, 2.5);
  EXPECT_DOUBLE_EQ(st.spread, std::sqrt(1.25));  // population std
  const auto rb = normalization_stats(of(R"({"kind": "robust", "clip": 1})"), x);
  EXPECT_DOUBLE_EQ(rb.center, 2.5);           // the mean of the two middle values
  EXPECT_DOUBLE_EQ(rb.spread, 1.4826 * 1.0);  // |x - 2.5| = 0.5 0.5 1.5 1.5 -> median 1
  const auto pc = normalization_stats(of(R"({"kind": "percentile", "low": 25, "high": 75})"), x);
  EXPECT_DOUBLE_EQ(pc.center, 1.75);  // linear: index 0.75 between 1 and 2
  EXPECT_DOUBLE_EQ(pc.spread, 3.25 - 1.75);
  std::vector<float> y = x;
  normalize(of(R"({"kind": "percentile", "low": 25, "high": 75})"), pc, y);
  EXPECT_EQ(y, (std::vector<float>{1.0f, 0.0f, (3 - 1.75f) / 1.5f, (2 - 1.75f) / 1.5f}));
  // A flat crop would divide by zero: its spread is 1.
  EXPECT_EQ(normalization_stats(of(R"({"kind": "standardize"})"), {3, 3, 3}).spread, 1.0);
}

TEST(CropNormalization, RobustClipsAndTheInverseRestoresWhatWasNotClipped) {
  const Normalization how = of(R"({"kind": "robust", "clip": 2})");
  EXPECT_EQ(how.range(), std::make_pair(-2.0, 2.0));
  std::vector<float> x{0.1f, 0.2f, 0.3f, 0.4f, 9.0f};
  const auto s = normalization_stats(how, x);
  std::vector<float> y = x;
  normalize(how, s, y);
  EXPECT_FLOAT_EQ(y[4], 2.0f) << "the outlier is clipped";
  denormalize(s, y);
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(y[i], x[i], 1e-6);
  EXPECT_NEAR(y[4], s.center + 2 * s.spread, 1e-6);
}

TEST(CropNormalization, RefusesMalformedCards) {
  for (const char* bad :
       {R"({"kind": "zscore"})", R"({"kind": "percentile", "low": 90, "high": 10})",
        R"({"kind": "robust", "clip": -1})", R"("robust")"}) {
    EXPECT_THROW(of(bad), Error) << bad;
  }
}

// The same statistics and values as NumPy's own mean, std, median and percentile.
TEST(CropNormalization, AgreesWithNumPy) {
  const std::string python = INKGEN_PYTHON;
  if (std::system((python + " -c 'import numpy' >/dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << python << " has no numpy";
  test::TempDir tmp;
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> level(0, 200);  // many ties, as 8-bit scans have
  std::vector<float> x(4 * 13 * 12);
  for (auto& v : x)
    v = static_cast<float>(level(rng)) / 255.0f;
  std::ofstream(tmp / "x.f32", std::ios::binary)
      .write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size() * 4));
  const std::string script =
      "import numpy as np, json, sys\n"
      "x = np.fromfile(sys.argv[1], dtype=np.float32).astype(np.float64)\n"
      "med = np.median(x); mad = 1.4826 * np.median(np.abs(x - med))\n"
      "lo, hi = np.percentile(x, [2.5, 97])\n"
      "out = {'standardize': [x.mean(), x.std()], 'robust': [med, mad], 'percentile': [lo, hi - "
      "lo],\n"
      "       'y_robust': list(np.clip((x - med) / mad, -3, 3)[:50]),\n"
      "       'y_percentile': list(np.clip((x - lo) / (hi - lo), 0, 1)[:50])}\n"
      "print(json.dumps(out))\n";
  test::write_text(tmp / "ref.py", script);
  ASSERT_EQ(std::system((python + " " + (tmp / "ref.py").string() + " " + (tmp / "x.f32").string() +
                         " > " + (tmp / "ref.json").string())
                            .c_str()),
            0);
  const auto ref = test::read_json(tmp / "ref.json");
  const std::map<std::string, Normalization> kinds{
      {"standardize", of(R"({"kind": "standardize"})")},
      {"robust", of(R"({"kind": "robust", "clip": 3})")},
      {"percentile", of(R"({"kind": "percentile", "low": 2.5, "high": 97})")}};
  for (const auto& [name, how] : kinds) {
    const auto s = normalization_stats(how, x);
    EXPECT_NEAR(s.center, ref[name][0].get<double>(), 1e-9) << name;
    EXPECT_NEAR(s.spread, ref[name][1].get<double>(), 1e-9) << name;
    if (name == "standardize") continue;
    std::vector<float> y = x;
    normalize(how, s, y);
    for (std::size_t i = 0; i < 50; ++i)
      ASSERT_NEAR(y[i], ref["y_" + name][i].get<double>(), 1e-6) << name << " voxel " << i;
  }
}

}  // namespace
}  // namespace inkgen
