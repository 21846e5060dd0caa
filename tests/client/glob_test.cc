// Brace alternatives of remote path patterns (the matching itself runs against a real
// cluster in tests/cluster/cli_test.cc).
#include "client/glob.h"

#include <gtest/gtest.h>

namespace dfs {
namespace {

std::vector<std::string> Expand(const std::string& p) {
  auto r = ExpandBraces(p);
  EXPECT_TRUE(r.ok()) << p << ": " << r.status().ToString();
  return r.ok() ? *r : std::vector<std::string>{};
}

TEST(GlobTest, BracesSpellOutTheirAlternativesInOrder) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Expand("/a/b"), V({"/a/b"}));
  EXPECT_EQ(Expand("/x/{a,b}/c"), V({"/x/a/c", "/x/b/c"}));
  EXPECT_EQ(Expand("/{a,b}{1,2}"), V({"/a1", "/a2", "/b1", "/b2"}));
  EXPECT_EQ(Expand("/{a,b{1,2}}"), V({"/a", "/b1", "/b2"}));  // nested
  EXPECT_EQ(Expand("/x{,.old}"), V({"/x", "/x.old"}));        // an empty alternative
  EXPECT_EQ(ExpandBraces("/x{a,b").status().code(), Code::kInvalidArgument);
}

TEST(GlobTest, OnlyPatternCharactersMakeAPattern) {
  EXPECT_FALSE(HasGlob("/plain/path.txt"));
  for (const char* p : {"/a*", "/a?", "/[ab]", "/{a,b}"}) EXPECT_TRUE(HasGlob(p)) << p;
}

}  // namespace
}  // namespace dfs
