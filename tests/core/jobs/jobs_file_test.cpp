#include "inkgen/jobs/jobs_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

// The message of the Error that parsing `text` throws, checking its class.
std::string jobs_error_of(const std::string& text) {
  try {
    parse_jobs_text(text, "jobs.jsonl");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::input) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return "";
}

TEST(BatchJobsFile, ReadsJsonLinesWithEveryKindOfValue) {
  const auto jobs = parse_jobs_text(
      "# a comment, then a blank line\n"
      "\n"
      R"({"mode": "maximize", "segment": "s1", "crops": ["0,0,16,16", [16, 0, 32, 16]], "steps": 5, "lr": "0.5", "seed": 7, "clamp": false, "noise_range": [0.2, 0.6], "input-shape": "1,6,16,16"})"
      "\n"
      R"({"mode": "minimize", "segment": "s2", "crops": "auto", "stride": 8, "sample": 3, "sample-seed": 9, "name": "a", "no-clamp": false})"
      "\r\n"
      R"({"source": "noise", "mode": "maximize", "count": 2, "steps": 10.0, "lr": 1e-3, "blur-every": 2, "blur_sigma": 0.7})"
      "\n",
      "jobs.jsonl");
  ASSERT_EQ(jobs.size(), 3u);
  const auto& a = jobs[0];
  EXPECT_EQ(a.line, 3);
  EXPECT_EQ(a.values.at("mode"), "maximize");
  EXPECT_EQ(a.values.at("segment"), "s1");
  ASSERT_EQ(a.values.at("crops").size(), 2u);
  EXPECT_EQ(parse_crop(a.values.at("crops")[1]), (Crop{16, 0, 32, 16}));
  EXPECT_EQ(a.get<int>("steps"), 5);
  EXPECT_DOUBLE_EQ(*a.get<double>("lr"), 0.5);
  EXPECT_EQ(a.get<std::uint64_t>("seed"), 7u);
  EXPECT_FALSE(*a.get<bool>("clamp"));
  EXPECT_EQ(a.get<std::string>("noise-range"), "0.2,0.6");
  EXPECT_EQ(a.get<std::string>("input-shape"), "1,6,16,16");
  EXPECT_FALSE(a.has("source"));
  const auto& b = jobs[1];
  EXPECT_EQ(b.line, 4);
  EXPECT_EQ(b.values.at("crops"), "auto");
  EXPECT_EQ(b.get<int>("stride"), 8);
  EXPECT_EQ(b.get<int>("sample"), 3);
  EXPECT_EQ(b.get<std::uint64_t>("sample-seed"), 9u);
  EXPECT_EQ(b.get<std::string>("name"), "a");
  EXPECT_TRUE(*b.get<bool>("clamp"));
  const auto& c = jobs[2];
  EXPECT_EQ(c.get<std::string>("source"), "noise");
  EXPECT_EQ(c.get<int>("count"), 2);
  EXPECT_EQ(c.get<int>("steps"), 10);
  EXPECT_EQ(c.get<int>("blur-every"), 2);
  EXPECT_DOUBLE_EQ(*c.get<double>("blur-sigma"), 0.7);
}

TEST(BatchJobsFile, ReadsAPlainListOfSegmentDirectories) {
  const auto jobs =
      parse_jobs_text("# segments\n/data/20230509182749\n\n  relative/seg 2  \n", "list.txt");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].get<std::string>("segment"), "/data/20230509182749");
  EXPECT_EQ(jobs[0].line, 2);
  EXPECT_EQ(jobs[1].get<std::string>("segment"), "relative/seg 2");
  EXPECT_FALSE(jobs[1].has("mode"));
  EXPECT_NE(jobs_error_of("/data/a\n{\"mode\": \"maximize\"}\n").find("line 2"), std::string::npos);
  EXPECT_NE(jobs_error_of("/data/a\n[1]\n").find("looks like a JSON job"), std::string::npos);
}

TEST(BatchJobsFile, AFileWithoutJobsIsAnInputError) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "   \n# x\n"})
    EXPECT_NE(jobs_error_of(text).find("holds no jobs"), std::string::npos) << text;
}

TEST(BatchJobsFile, AMalformedLineNamesItsLineNumber) {
  const std::string e = jobs_error_of(
      "{\"mode\": \"maximize\"}\n\n{\"mode\": \"maximize\", \"steps\": }\n{\"mode\": 1}\n");
  EXPECT_NE(e.find("jobs.jsonl line 3"), std::string::npos) << e;
  EXPECT_NE(e.find("a JOBS line is not valid JSON"), std::string::npos) << e;
  EXPECT_NE(jobs_error_of("{\"lr\": NaN}\n").find("line 1"), std::string::npos);
  EXPECT_NE(jobs_error_of("[1, 2]\n").find("not a JSON object"), std::string::npos);
  EXPECT_NE(jobs_error_of("{\"mode\": \"maximize\"} trailing\n").find("line 1"), std::string::npos);
}

TEST(BatchJobsFile, UnknownOrRepeatedKeysAreNamed) {
  const std::string unknown =
      jobs_error_of("{\"mode\": \"maximize\"}\n{\"mode\": \"maximize\", \"stepz\": 3}\n");
  EXPECT_NE(unknown.find("line 2"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("unknown key \"stepz\""), std::string::npos) << unknown;
  EXPECT_NE(jobs_error_of("{\"steps\": 1, \"steps\": 2}").find("given twice"), std::string::npos);
  EXPECT_NE(jobs_error_of("{\"noise-range\": \"0,1\", \"noise_range\": \"0,1\"}").find("twice"),
            std::string::npos);
  EXPECT_NE(jobs_error_of("{\"crop\": \"0,0,1,1\", \"crops\": \"auto\"}").find("twice"),
            std::string::npos);
  // Keys of nested values are not job keys.
  EXPECT_EQ(parse_jobs_text("{\"crops\": [[0, 0, 4, 4]], \"mode\": \"minimize\"}", "j").size(), 1u);
}

TEST(BatchJobsFile, ValuesOfTheWrongTypeNameTheKey) {
  const auto check = [](const std::string& line, const std::string& needle) {
    const std::string e = jobs_error_of(line);
    EXPECT_NE(e.find(needle), std::string::npos) << line << " -> " << e;
  };
  check(R"({"steps": "many"})", "\"steps\" must be a whole number");
  check(R"({"steps": 2.5})", "\"steps\" must be a whole number");
  check(R"({"steps": 1e12})", "out of range");
  check(R"({"seed": -1})", "\"seed\"");
  check(R"({"lr": [1]})", "\"lr\" must be a number");
  check(R"({"lr": "fast"})", "\"lr\" must be a number");
  check(R"({"clamp": 1})", "\"clamp\" must be true or false");
  check(R"({"mode": 3})", "\"mode\" must be a string");
  check(R"({"crops": []})", "\"crops\" must be \"auto\"");
  check(R"({"crops": ["0,0,16"]})", "crops: --crop '0,0,16' is not x1,y1,x2,y2");
  check(R"({"crops": [[0, 0, 16]]})", "is neither");
  check(R"({"crops": ["4,4,2,8"]})", "x2 <= x1");
  check(R"({"noise-range": {"lo": 0}})", "\"noise-range\" must be a string");
}

TEST(BatchJobsFile, NumbersJsonCannotSpellAreAcceptedAsStringsForValidationToRefuse) {
  const auto jobs = parse_jobs_text(R"({"lr": "nan"})"
                                    "\n"
                                    R"({"lr": "inf"})",
                                    "j");
  EXPECT_TRUE(std::isnan(*jobs[0].get<double>("lr")));
  EXPECT_TRUE(std::isinf(*jobs[1].get<double>("lr")));
  // A JSON number beyond double's range is malformed JSON.
  const std::string e = jobs_error_of(R"({"lr": 1e999})");
  EXPECT_NE(e.find("line 1: a JOBS line is not valid JSON (number overflow"), std::string::npos)
      << e;
}

TEST(BatchJobsFile, EveryKeyIsKnown) {
  for (const char* key :
       {"mode",        "source",      "segment",  "crops",         "stride",      "sample",
        "sample-seed", "count",       "name",     "model",         "input-shape", "scale",
        "range",       "output-kind", "z0",       "steps",         "lr",          "optimizer",
        "decay",       "seed",        "noise",    "noise-range",   "clamp",       "no-clamp",
        "l2",          "tv",          "jitter",   "blur-every",    "blur-sigma",  "report-every",
        "save-every",  "objective",   "param",    "fourier-decay", "robust",      "diversity",
        "stop-at",     "precision",   "no-freeze"}) {
    EXPECT_NE(std::find(job_keys().begin(), job_keys().end(), key), job_keys().end()) << key;
  }
}

}  // namespace
}  // namespace inkgen
