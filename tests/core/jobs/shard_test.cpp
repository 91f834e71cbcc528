#include "inkgen/jobs/shard.hpp"

#include <gtest/gtest.h>

#include "inkgen/common/error.hpp"

namespace inkgen {
namespace {

TEST(BatchShard, ParsesIOfN) {
  const Shard s = parse_shard("2/5");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.text(), "2/5");
  for (const char* bad : {"", "1", "5/5", "-1/3", "1/0", "a/b", "1/2/3", "1 /2x", " 0/2", "0/2 ",
                          "+0/2", "0/+2", "0/", "/2", "0/2000000"}) {
    try {
      parse_shard(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage);
      EXPECT_NE(std::string(e.what()).find("--shard"), std::string::npos);
    }
  }
}

TEST(BatchShard, ShardsPartitionTheJobs) {
  for (int n = 1; n <= 4; ++n) {
    for (std::size_t job = 0; job < 20; ++job) {
      int owners = 0;
      for (int i = 0; i < n; ++i)
        owners += Shard{i, n}.contains(job) ? 1 : 0;
      EXPECT_EQ(owners, 1) << job << " of " << n;
    }
  }
}

}  // namespace
}  // namespace inkgen
