// A datanode follows commands only from the namenode leading in the highest term it has
// seen: a deposed leader (a lower term), or a follower, is ignored.
#include <gtest/gtest.h>

#include "datanode/datanode.h"

namespace dfs {
namespace {

TEST(LeaderFilterTest, OnlyTheLeaderOfTheHighestTermSeenIsObeyed) {
  LeaderFilter f;
  EXPECT_FALSE(f.Accept(false, 0));  // a follower
  EXPECT_TRUE(f.Accept(true, 3));    // the leader of term 3
  EXPECT_FALSE(f.Accept(false, 0));
  EXPECT_TRUE(f.Accept(true, 4));    // a new leader in term 4
  EXPECT_FALSE(f.Accept(true, 3));   // the deposed leader still thinks it leads: ignored
  EXPECT_TRUE(f.Accept(true, 4));
  EXPECT_TRUE(f.Accept(true, 9));
  EXPECT_FALSE(f.Accept(true, 4));
}

}  // namespace
}  // namespace dfs
