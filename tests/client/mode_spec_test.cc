// chmod's mode argument, octal and symbolic.
#include "client/dfs_permissions.h"

#include <gtest/gtest.h>

namespace dfs {
namespace {

uint32_t Apply(const std::string& spec, uint32_t mode, bool dir = false) {
  auto r = ApplyModeSpec(spec, mode, dir);
  EXPECT_TRUE(r.ok()) << spec << ": " << r.status().ToString();
  return r.ok() ? *r : ~0u;
}

TEST(ModeSpecTest, OctalReplacesTheMode) {
  EXPECT_EQ(Apply("755", 0), 0755u);
  EXPECT_EQ(Apply("0640", 0777), 0640u);
  EXPECT_EQ(Apply("1777", 0), 01777u);
  EXPECT_EQ(Apply("0", 0777), 0u);
}

TEST(ModeSpecTest, SymbolicClausesChangeWhatTheyName) {
  EXPECT_EQ(Apply("u+x", 0644), 0744u);
  EXPECT_EQ(Apply("go-w", 0666), 0644u);
  EXPECT_EQ(Apply("u+x,go-w", 0666), 0744u);
  EXPECT_EQ(Apply("a=r", 0777), 0444u);
  EXPECT_EQ(Apply("+x", 0644), 0755u);  // no who: everyone
  EXPECT_EQ(Apply("u=rwx,g=rx,o=", 0), 0750u);
  EXPECT_EQ(Apply("o=", 0777), 0770u);
  EXPECT_EQ(Apply("g+w-x", 0654), 0664u);  // several operations in one clause
  EXPECT_EQ(Apply("+t", 0777), 01777u);
  EXPECT_EQ(Apply("u+t", 0777), 0777u);  // the sticky bit goes with o (or a)
  EXPECT_EQ(Apply("o-t", 01777), 0777u);
}

TEST(ModeSpecTest, CapitalXIsExecuteOnlyForDirectoriesOrWhatIsExecutable) {
  EXPECT_EQ(Apply("a+X", 0644, false), 0644u);
  EXPECT_EQ(Apply("a+X", 0644, true), 0755u);
  EXPECT_EQ(Apply("a+X", 0744, false), 0755u);
}

TEST(ModeSpecTest, AnythingElseIsRefused) {
  for (const char* bad : {"", "8", "07777x", "17777", "u", "u+q", "x+u", "u+x,", ",u+x",
                          "u+x;g+w", "rwx", "u+s", "4755", "2755", "6777"}) {
    EXPECT_EQ(ApplyModeSpec(bad, 0644, false).status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace dfs
