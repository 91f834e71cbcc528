#include "inkgen/evaluate/atlas.hpp"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "inkgen/common/error.hpp"
#include "test_support.hpp"

namespace inkgen {
namespace {

TEST(Atlas, ChannelListsTakeAllChannelsAndRanges) {
  EXPECT_EQ(parse_channel_list("all", 3), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(parse_channel_list("0-3", 8), (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(parse_channel_list("5,0-1,1,7", 8), (std::vector<std::int64_t>{5, 0, 1, 7}));
  for (const char* bad : {"", "8", "3-1", "a", "1,", "-2", "0-9", "1-x"}) {
    try {
      parse_channel_list(bad, 8);
      ADD_FAILURE() << "'" << bad << "' was taken";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage) << bad;
      EXPECT_NE(std::string(e.what()).find("below 8"), std::string::npos) << e.what();
    }
  }
}

TEST(Atlas, EachTileShowsTheLayerItsChannelChangedMost) {
  at::Tensor d = at::zeros({5, 16, 16});
  d[3].fill_(0.2);
  d[1][4][4] = -0.5;  // one strong voxel does not outweigh a whole layer
  EXPECT_EQ(atlas_tile_layer(d), 3);
  EXPECT_EQ(atlas_tile_layer(d.unsqueeze(0)), 3);
}

TEST(Atlas, TheGridHasOneTilePerChannelInRowsOfEight) {
  test::TempDir tmp;
  std::vector<AtlasTile> tiles;
  for (int k = 0; k < 10; ++k)
    tiles.push_back({k, at::randn({6, 16, 16}), 0.1 * k, 0.2 * k});
  write_atlas(tmp / "atlas.png", tiles, {"a caption"});
  const cv::Mat one = cv::imread((tmp / "atlas.png").string());
  ASSERT_FALSE(one.empty());
  tiles.resize(3);
  write_atlas(tmp / "three.png", tiles, {"a caption"});
  const cv::Mat three = cv::imread((tmp / "three.png").string());
  // Two rows of eight columns, then one row of three: as wide as 8 and 3 tiles, taller by a row.
  EXPECT_GT(one.rows, three.rows);
  EXPECT_NEAR(static_cast<double>(one.cols) / three.cols, 8.0 / 3.0, 0.1);
  EXPECT_THROW(write_atlas(tmp / "none.png", {}, {}), Error);
}

}  // namespace
}  // namespace inkgen
