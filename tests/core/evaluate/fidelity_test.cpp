// Known answers of the fidelity metrics: an oracle diff, noise, a uniform shift, a sign flip, a
// film at the right and the wrong depth, a noise run against the masked mean profile, and the
// refusals.
#include "inkgen/evaluate/fidelity.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "fidelity_fixture.hpp"
#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

namespace fs = std::filesystem;
using test::TruthSegment;

// A per-column Gaussian film of `depth` layers centred on `centre`.
FloatVolume bump_film(int depth, int height, int width, double centre) {
  FloatVolume f{depth, height, width, {}};
  for (int z = 0; z < depth; ++z)
    for (int i = 0; i < height * width; ++i)
      f.values.push_back(static_cast<float>(std::exp(-0.5 * std::pow((z - centre) / 0.8, 2))));
  return f;
}

FloatVolume gaussian_noise(int depth, int height, int width, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 0.01f);
  FloatVolume v{depth, height, width, {}};
  for (int i = 0; i < depth * height * width; ++i)
    v.values.push_back(g(rng));
  return v;
}

FidelityReport score_one(const TruthSegment& s, const fs::path& run) {
  return evaluate_fidelity(s.dir, {run});
}

TEST(FidelityMetrics, RightFilmAnyFootprintScoresOneAndFourLayersOffScoresLow) {
  const int d = 12, h = 8, w = 8;
  const FloatVolume film = bump_film(d, h, w, 5.0);
  // Film-shaped change of a different positive amplitude per column, zero in half the columns.
  FloatVolume right = film;
  FloatVolume off = bump_film(d, h, w, 9.0);
  for (int z = 0; z < d; ++z) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const float amplitude = x < 4 ? 0.0f : 0.01f * (1 + y + x);
        right.values[(z * h + y) * w + x] *= amplitude;
        off.values[(z * h + y) * w + x] *= amplitude;
      }
    }
  }
  EXPECT_NEAR(film_alignment(right, film, +1), 1.0, 1e-9);
  // A Gaussian of sigma 0.8 layers holds 97.7% of its sum within +-2 layers.
  EXPECT_NEAR(*band_fraction(right, film), 0.977, 0.002);
  EXPECT_LT(film_alignment(off, film, +1), 0.1);
  EXPECT_LT(*band_fraction(off, film), 0.2);
  // The same film asked of a minimize run is the wrong sign.
  EXPECT_EQ(film_alignment(right, film, -1), 0.0);
}

TEST(FidelityMetrics, IidNoiseScoresOneOverTwoDMinusOne) {
  const int d = 12;
  const FloatVolume noise = gaussian_noise(d, 64, 64, 11);
  const double expected = 1.0 / (2.0 * (d - 1));
  EXPECT_NEAR(film_alignment(noise, bump_film(d, 64, 64, 5.0), +1), expected, 0.1 * expected);
  EXPECT_NEAR(film_alignment(noise, bump_film(d, 64, 64, 5.0), -1), expected, 0.1 * expected);
}

TEST(FidelityMetrics, UniformShiftScoresZeroFilmAlignment) {
  const FloatVolume film = bump_film(12, 6, 6, 5.5);
  const FloatVolume shift{12, 6, 6, std::vector<float>(12 * 6 * 6, 0.1f)};
  EXPECT_EQ(film_alignment(shift, film, +1), 0.0);
  EXPECT_EQ(film_alignment(FloatVolume{12, 6, 6, std::vector<float>(12 * 6 * 6, 0.0f)}, film, 1),
            0.0);
  // Four of twelve layers (4..7) lie in the band around layer 5.5.
  EXPECT_NEAR(*band_fraction(shift, film), 4.0 / 12.0, 1e-6);
  EXPECT_FALSE(band_fraction(FloatVolume{12, 6, 6, std::vector<float>(12 * 6 * 6, 0.0f)}, film));
}

TEST(FidelityMetrics, FlatFilmColumnsAreSkippedButTheirChangeCounts) {
  FloatVolume film = bump_film(10, 1, 2, 4.0);
  for (int z = 0; z < 10; ++z)
    film.values[z * 2 + 1] = 0.0f;  // column x=1 has no film
  FloatVolume diff = film;
  for (int z = 0; z < 10; ++z)
    diff.values[z * 2 + 1] = film.values[z * 2];  // the same change where there is no film
  EXPECT_NEAR(film_alignment(diff, film, +1), 0.5, 1e-6);
  EXPECT_NEAR(*band_fraction(diff, film), 0.5 * 0.977, 0.002);
}

TEST(FidelityMetrics, InkSignalIsTheScaledDifference) {
  RawVolume raw{1, 1, 3, {25600, 25600, 100}};
  const FloatVolume ink{1, 1, 3, {512.0f, 0.0f, 300.0f}};
  const FloatVolume s = ink_signal(raw, ink, parse_value_scale("min(raw16>>8,200)/255"));
  EXPECT_FLOAT_EQ(s.values[0], 2.0f / 255.0f);  // 100 - 98 levels
  EXPECT_FLOAT_EQ(s.values[1], 0.0f);
  EXPECT_FLOAT_EQ(s.values[2], 0.0f);  // raw - ink clamps at 0, in the same level
}

TEST(FidelityMetrics, MeanProfileAveragesTheMaskedPixels) {
  FloatVolume film{2, 1, 2, {1.0f, 0.0f, 0.5f, 0.25f}};
  cv::Mat mask(1, 2, CV_8UC1, cv::Scalar(0));
  mask.at<unsigned char>(0, 0) = 255;
  const FloatVolume p = mean_profile(film, mask);
  EXPECT_EQ(p.height, 1);
  EXPECT_FLOAT_EQ(p.values[0], 1.0f);
  EXPECT_FLOAT_EQ(p.values[1], 0.5f);
  EXPECT_FLOAT_EQ(mean_profile(film, cv::Mat()).values[1], 0.375f);
}

TEST(FidelityRuns, OracleMinimizeDiffScoresInkAndBand) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  test::write_run(tmp / "run", test::segment_run_record("minimize", s),
                  test::linear_ink_signal(s, -1));
  const FidelityReport r = score_one(s, tmp / "run");
  ASSERT_EQ(r.starts.size(), 1u);
  const StartFidelity& f = r.starts[0];
  EXPECT_EQ(f.mode, "minimize");
  EXPECT_EQ(f.sigma, -1);
  ASSERT_TRUE(f.kas_ink);
  EXPECT_GT(*f.kas_ink, 0.9999);
  ASSERT_TRUE(f.f_band);
  EXPECT_GT(*f.f_band, 0.95);
  EXPECT_GT(f.kas_film, 0.99);
  EXPECT_DOUBLE_EQ(*f.p0, 0.5);
  EXPECT_DOUBLE_EQ(*f.p1, 0.88);
  EXPECT_EQ(f.crop, test::truth_crop);
  EXPECT_EQ(f.z0, test::truth_z0);
  EXPECT_EQ(f.depth, test::truth_depth);
}

TEST(FidelityRuns, SignFlipScoresNegativeInkAndZeroFilm) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  // A maximize run that removed the ink.
  test::write_run(tmp / "run", test::segment_run_record("maximize", s),
                  test::linear_ink_signal(s, -1));
  const StartFidelity f = score_one(s, tmp / "run").starts.at(0);
  ASSERT_TRUE(f.kas_ink);
  EXPECT_LT(*f.kas_ink, -0.9999);
  EXPECT_EQ(f.kas_film, 0.0);
}

TEST(FidelityRuns, LighterInkTurnsTheFilmsRightSign) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  // The same oracle change, on a segment whose synth options say the ink is lighter: removing
  // denser film is then adding ink.
  test::write_run(tmp / "run", test::segment_run_record("maximize", s),
                  test::linear_ink_signal(s, -1));
  EXPECT_EQ(score_one(s, tmp / "run").starts.at(0).kas_film, 0.0);
  std::ofstream(s.dir / (s.dir.filename().string() + "_synth.json"))
      << R"({"ink_contrast": -0.06})";
  EXPECT_GT(score_one(s, tmp / "run").starts.at(0).kas_film, 0.99);
}

TEST(FidelityRuns, IidNoiseScoresNoInkAndLittleFilm) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  test::write_run(tmp / "run", test::segment_run_record("maximize", s),
                  gaussian_noise(test::truth_depth, 16, 16, 5));
  const StartFidelity f = score_one(s, tmp / "run").starts.at(0);
  ASSERT_TRUE(f.kas_ink);
  EXPECT_LT(std::abs(*f.kas_ink), 0.1);
  const double expected = 1.0 / (2.0 * (test::truth_depth - 1));
  EXPECT_NEAR(f.kas_film, expected, 0.35 * expected);  // 256 columns: a loose tolerance
  EXPECT_LT(*f.f_band, 0.6);
}

TEST(FidelityRuns, UniformShiftScoresZero) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  FloatVolume shift{test::truth_depth, 16, 16, std::vector<float>(test::truth_depth * 256, 0.02f)};
  test::write_run(tmp / "run", test::segment_run_record("maximize", s), shift);
  const StartFidelity f = score_one(s, tmp / "run").starts.at(0);
  EXPECT_EQ(f.kas_film, 0.0);
  EXPECT_EQ(f.kas_ink, 0.0);
}

TEST(FidelityRuns, CropWithoutInkHasNoInkScore) {
  test::TempDir tmp;
  cv::Mat mask(TruthSegment::height, TruthSegment::width, CV_8UC1, cv::Scalar(0));
  const TruthSegment s = test::make_truth_segment(tmp / "seg", mask);  // no pixel inked
  test::write_run(tmp / "run", test::segment_run_record("maximize", s),
                  gaussian_noise(test::truth_depth, 16, 16, 5));
  EXPECT_FALSE(score_one(s, tmp / "run").starts.at(0).kas_ink);
}

TEST(FidelityRuns, InkSignalFollowsTheRunsScaleRule) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  const std::string rule = "min(raw16>>8,200)/255";
  const ValueScale scale = parse_value_scale(rule);
  // The quantised signal the Grand Prize rule shows the model, worked out voxel by voxel.
  const FloatVolume ink =
      test::window_of(s.ink, test::truth_crop, test::truth_z0, test::truth_depth);
  FloatVolume oracle = ink;
  std::size_t i = 0;
  for (int z = 0; z < test::truth_depth; ++z) {
    for (int y = test::truth_crop.y1; y < test::truth_crop.y2; ++y) {
      for (int x = test::truth_crop.x1; x < test::truth_crop.x2; ++x, ++i) {
        const std::uint16_t raw = s.raw.at(test::truth_z0 + z, y, x);
        oracle.values[i] =
            scale.to_model(raw) - scale.to_model(static_cast<std::uint16_t>(raw - ink.values[i]));
      }
    }
  }
  test::write_run(tmp / "gp", test::segment_run_record("maximize", s, rule), oracle);
  test::write_run(tmp / "linear", test::segment_run_record("maximize", s, rule),
                  test::linear_ink_signal(s, +1));
  EXPECT_GT(*score_one(s, tmp / "gp").starts.at(0).kas_ink, 0.9999);
  EXPECT_LT(*score_one(s, tmp / "linear").starts.at(0).kas_ink, 0.99);
}

// A noise run has no crop: its change is compared with the film's mean profile over the mask, on
// the card's window. Outside the mask the film lies 5 layers deeper; averaging it in would move
// the profile away from the change.
TEST(FidelityRuns, NoiseRunUsesTheMaskedMeanProfileOnTheCardsWindow) {
  test::TempDir tmp;
  cv::Mat mask(TruthSegment::height, TruthSegment::width, CV_8UC1, cv::Scalar(0));
  mask.colRange(0, 12).setTo(255);
  const TruthSegment s =
      test::make_truth_segment(tmp / "seg", mask, [](int, int x) { return x < 12 ? 6.0 : 11.0; });
  const int depth = 10, card_z0 = 3;
  FloatVolume diff{depth, 10, 10, {}};
  for (int z = 0; z < depth; ++z)
    for (int i = 0; i < 100; ++i)
      diff.values.push_back(static_cast<float>(
          0.02 * (1 + i % 7) * std::exp(-0.5 * std::pow((z + card_z0 - 6) / 0.8, 2))));
  test::write_run(tmp / "run", test::noise_run_record("maximize", depth, card_z0), diff);
  const StartFidelity f = score_one(s, tmp / "run").starts.at(0);
  EXPECT_EQ(f.source, "noise");
  EXPECT_FALSE(f.crop);
  EXPECT_EQ(f.z0, card_z0);
  EXPECT_EQ(f.depth, depth);
  EXPECT_FALSE(f.kas_ink);
  EXPECT_GT(f.kas_film, 0.9999);
  EXPECT_GT(*f.f_band, 0.97);
  // The unmasked mean profile (both film depths) would not fit this change.
  const FloatVolume film =
      test::window_of(s.film, {0, 0, TruthSegment::width, TruthSegment::height}, card_z0, depth);
  EXPECT_LT(film_alignment(diff, mean_profile(film, cv::Mat()), +1), 0.9);
  EXPECT_LT(*band_fraction(diff, mean_profile(film, cv::Mat())), 0.9);
}

TEST(FidelityRuns, RecordedZ0OfANoiseRunWinsOverTheCard) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  auto record = test::noise_run_record("minimize", 10, 3);
  record["options"]["z0"] = 5;
  test::write_run(tmp / "run", record, gaussian_noise(10, 10, 10, 2));
  EXPECT_EQ(score_one(s, tmp / "run").starts.at(0).z0, 5);
}

// OUT/run.json lists both starts; each start folder's own record lists itself under the parent's
// folder name. A batch holds one-start runs deeper down. Every start counts once.
TEST(FidelityRuns, FindsTheStartsOfSeveralStartRunsAndBatches) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  const FloatVolume oracle = test::linear_ink_signal(s, +1);
  auto record = test::segment_run_record("maximize", s);
  auto second = record["starts"][0];
  record["starts"][0]["folder"] = "000";
  second["index"] = 1;
  second["folder"] = "001";
  record["starts"].push_back(second);
  for (const std::string folder : {"000", "001"}) {
    auto one = record;
    one["starts"] = nlohmann::json::array({record["starts"][folder == "000" ? 0 : 1]});
    test::write_run(tmp / "multi" / folder, one, oracle);
  }
  test::write_text(tmp / "multi" / "run.json", record.dump());

  const auto batch_run = tmp / "batch" / "seg" / test::truth_crop.text() / "minimize-segment";
  test::write_run(batch_run, test::segment_run_record("minimize", s),
                  test::linear_ink_signal(s, -1));
  test::write_text(tmp / "batch" / "manifest.jsonl", "{}\n");

  const auto starts = find_run_starts(tmp / "multi");
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0].folder, tmp / "multi" / "000");
  EXPECT_EQ(starts[1].name, (tmp / "multi" / "001").string());
  // A start folder given alone is its own record's folder.
  const auto alone = find_run_starts(tmp / "multi" / "001");
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0].folder, tmp / "multi" / "001");

  const FidelityReport r = evaluate_fidelity(s.dir, {tmp / "multi", tmp / "batch"});
  ASSERT_EQ(r.starts.size(), 3u);
  EXPECT_EQ(r.starts[2].name, batch_run.string());
  const auto summary = r.summary();
  EXPECT_EQ(summary["starts"], 3);
  EXPECT_EQ(summary["by_mode"]["maximize"]["starts"], 2);
  EXPECT_EQ(summary["by_mode"]["minimize"]["starts"], 1);
  EXPECT_GT(summary["KAS_ink"].get<double>(), 0.9999);
  EXPECT_EQ(summary["KAS_ink_starts"], 3);
  EXPECT_NEAR(summary["p1"].get<double>(), 0.88, 1e-12);
}

TEST(FidelityRuns, AttributionTifIsScoredAsMoreInk) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  test::write_run(tmp / "run", test::segment_run_record("minimize", s),
                  test::linear_ink_signal(s, +1));
  fs::rename(tmp / "run" / "diff.tif", tmp / "run" / "attribution.tif");
  const StartFidelity f = score_one(s, tmp / "run").starts.at(0);
  EXPECT_EQ(f.mode, "attribution");
  EXPECT_EQ(f.sigma, 1);
  EXPECT_GT(*f.kas_ink, 0.9999);
}

TEST(FidelityRuns, SkipsUnfinishedStartsAndOtherSegments) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  auto failed = test::segment_run_record("maximize", s);
  failed["starts"][0]["status"] = "failed";
  fs::create_directories(tmp / "runs" / "a");
  test::write_text(tmp / "runs" / "a" / "run.json", failed.dump());
  auto other = test::segment_run_record("maximize", s);
  other["starts"][0]["source"]["segment_name"] = "another";
  test::write_run(tmp / "runs" / "b", other, test::linear_ink_signal(s, 1));
  test::write_run(tmp / "runs" / "c", test::segment_run_record("maximize", s),
                  test::linear_ink_signal(s, 1));
  const FidelityReport r = evaluate_fidelity(s.dir, {tmp / "runs"});
  ASSERT_EQ(r.starts.size(), 1u);
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_NE(r.skipped[0].find("not finished"), std::string::npos) << r.skipped[0];
  EXPECT_NE(r.skipped[1].find("another"), std::string::npos) << r.skipped[1];
  EXPECT_THROW(evaluate_fidelity(s.dir, {tmp / "runs" / "a"}), Error);
}

ErrorKind fidelity_error_kind(const std::function<void()>& f, std::string& message) {
  try {
    f();
  } catch (const Error& e) {
    message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return ErrorKind::internal;
}

TEST(FidelityErrors, MissingTruthSaysHowToMakeIt) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  fs::remove(s.dir / "seg_film.tif");
  std::string message;
  EXPECT_EQ(fidelity_error_kind([&] { open_segment_truth(s.dir); }, message), ErrorKind::input);
  EXPECT_NE(message.find("seg_film.tif"), std::string::npos) << message;
  EXPECT_NE(message.find("inkgen synth"), std::string::npos) << message;
}

TEST(FidelityErrors, TruthOfAnotherSizeIsRefused) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  fs::remove(s.dir / "layers" / "15.tif");  // the segment now has 15 layers, the truth 16
  std::string message;
  EXPECT_EQ(fidelity_error_kind([&] { open_segment_truth(s.dir); }, message), ErrorKind::input);
  EXPECT_NE(message.find("16 pages"), std::string::npos) << message;
}

TEST(FidelityErrors, DiffOfAnotherSizeIsRefused) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  test::write_run(tmp / "run", test::segment_run_record("maximize", s),
                  gaussian_noise(test::truth_depth - 1, 16, 16, 1));
  std::string message;
  EXPECT_EQ(fidelity_error_kind([&] { score_one(s, tmp / "run"); }, message), ErrorKind::input);
  EXPECT_NE(message.find("11 pages"), std::string::npos) << message;
  EXPECT_NE(message.find("12 layers"), std::string::npos) << message;
}

TEST(FidelityErrors, MoreThanOneChannelIsRefused) {
  test::TempDir tmp;
  const TruthSegment s = test::make_truth_segment(tmp / "seg");
  auto record = test::segment_run_record("maximize", s);
  record["model"]["input_shape"] = {1, 2, test::truth_depth, 16, 16};
  test::write_run(tmp / "run", record, gaussian_noise(2 * test::truth_depth, 16, 16, 1));
  std::string message;
  EXPECT_EQ(fidelity_error_kind([&] { score_one(s, tmp / "run"); }, message), ErrorKind::input);
  EXPECT_NE(message.find("2 channels"), std::string::npos) << message;
}

TEST(FidelityErrors, FolderWithoutRunRecordIsRefused) {
  test::TempDir tmp;
  fs::create_directories(tmp / "empty" / "sub");
  std::string message;
  EXPECT_EQ(fidelity_error_kind([&] { find_run_starts(tmp / "empty"); }, message),
            ErrorKind::input);
  EXPECT_NE(message.find("no run.json"), std::string::npos) << message;
  EXPECT_EQ(fidelity_error_kind([&] { find_run_starts(tmp / "missing"); }, message),
            ErrorKind::input);
  test::write_text(tmp / "empty" / "run.json", "{not json");
  EXPECT_EQ(fidelity_error_kind([&] { find_run_starts(tmp / "empty"); }, message),
            ErrorKind::input);
  // A start that is not an object was an nlohmann type_error: exit 70, "please report this".
  for (const char* starts : {"[null]", "[1, 2]", "[{\"folder\": 5}, null]"}) {
    test::write_text(tmp / "empty" / "run.json", std::string("{\"starts\": ") + starts + "}");
    EXPECT_EQ(fidelity_error_kind([&] { find_run_starts(tmp / "empty"); }, message),
              ErrorKind::input)
        << starts;
    EXPECT_NE(message.find("not an object"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace inkgen
