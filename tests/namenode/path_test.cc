#include "namenode/path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/common/status_assert.h"

namespace dfs {
namespace {

using Parts = std::vector<std::string>;

TEST(PathTest, RootHasNoComponents) {
  auto p = SplitPath("/");
  ASSERT_OK(p);
  EXPECT_TRUE(p->empty());
}

TEST(PathTest, SplitsAbsolutePathsIntoComponents) {
  auto p = SplitPath("/a/bc/d.txt");
  ASSERT_OK(p);
  EXPECT_EQ(*p, (Parts{"a", "bc", "d.txt"}));
}

TEST(PathTest, NamesMayContainDotsAndSpacesThatAreNotDotComponents) {
  auto p = SplitPath("/.hidden/a..b/.../x y");
  ASSERT_OK(p);
  EXPECT_EQ(*p, (Parts{".hidden", "a..b", "...", "x y"}));
}

TEST(PathTest, RefusesEmptyAndRelativePaths) {
  EXPECT_CODE(SplitPath(""), kInvalidArgument);
  EXPECT_CODE(SplitPath("a/b"), kInvalidArgument);
  EXPECT_CODE(SplitPath("./a"), kInvalidArgument);
}

TEST(PathTest, RefusesEmptyComponents) {
  EXPECT_CODE(SplitPath("//"), kInvalidArgument);
  EXPECT_CODE(SplitPath("/a//b"), kInvalidArgument);
  EXPECT_CODE(SplitPath("/a/"), kInvalidArgument);
  EXPECT_CODE(SplitPath("//a"), kInvalidArgument);
}

TEST(PathTest, RefusesDotAndDotDotComponents) {
  EXPECT_CODE(SplitPath("/."), kInvalidArgument);
  EXPECT_CODE(SplitPath("/.."), kInvalidArgument);
  EXPECT_CODE(SplitPath("/a/./b"), kInvalidArgument);
  EXPECT_CODE(SplitPath("/a/../b"), kInvalidArgument);
  EXPECT_CODE(SplitPath("/a/.."), kInvalidArgument);
}

TEST(PathTest, RefusesNulBytes) {
  EXPECT_CODE(SplitPath(std::string("/a\0b", 4)), kInvalidArgument);
  EXPECT_CODE(SplitPath(std::string("/ab\0", 4)), kInvalidArgument);
}

TEST(PathTest, NamesUpTo255BytesAreAccepted) {
  auto p = SplitPath("/" + std::string(255, 'n'));
  ASSERT_OK(p);
  EXPECT_EQ(p->at(0).size(), 255u);
}

TEST(PathTest, NamesOver255BytesAreRefused) {
  EXPECT_CODE(SplitPath("/" + std::string(256, 'n')), kInvalidArgument);
  EXPECT_CODE(SplitPath("/a/" + std::string(256, 'n') + "/b"), kInvalidArgument);
}

// Components of 199 bytes plus their slash: n of them make a path of 200 * n bytes.
std::string PathOfLength(size_t components, size_t tail) {
  std::string p;
  for (size_t i = 0; i < components; ++i) p += "/" + std::string(199, 'a');
  if (tail) p += "/" + std::string(tail - 1, 'b');
  return p;
}

TEST(PathTest, WholePathLimitIs4096Bytes) {
  const std::string at_limit = PathOfLength(20, 96);
  ASSERT_EQ(at_limit.size(), kMaxPathBytes);
  EXPECT_OK(SplitPath(at_limit));
  const std::string over = PathOfLength(20, 97);
  ASSERT_EQ(over.size(), kMaxPathBytes + 1);
  EXPECT_CODE(SplitPath(over), kInvalidArgument);
}

TEST(PathTest, JoinInvertsSplit) {
  EXPECT_EQ(JoinPath({}), "/");
  for (const std::string p : {"/", "/a", "/a/b/c"}) {
    auto parts = SplitPath(p);
    ASSERT_OK(parts);
    EXPECT_EQ(JoinPath(*parts), p);
  }
}

TEST(PathTest, ParentAndBaseName) {
  EXPECT_EQ(ParentPath("/a/b/c"), "/a/b");
  EXPECT_EQ(ParentPath("/a"), "/");
  EXPECT_EQ(ParentPath("/"), "/");
  EXPECT_EQ(BaseName("/a/b/c"), "c");
  EXPECT_EQ(BaseName("/a"), "a");
}

}  // namespace
}  // namespace dfs
