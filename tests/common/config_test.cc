#include "common/config.h"

#include <gtest/gtest.h>

#include "tests/common/status_assert.h"
#include "tests/common/temp_dir.h"

namespace dfs {
namespace {

TEST(ConfigTest, ParsesKeyValueLinesTrimmingWhitespace) {
  auto c = Config::Parse("a = 1\n  b=two words  \n\tc\t=\t3\t\n", "test");
  ASSERT_OK(c);
  EXPECT_EQ(c->GetString("a"), "1");
  EXPECT_EQ(c->GetString("b"), "two words");
  EXPECT_EQ(c->GetString("c"), "3");
  EXPECT_FALSE(c->Has("d"));
}

TEST(ConfigTest, IgnoresCommentsAndBlankLines) {
  auto c = Config::Parse("# a comment\n\n   \nkey = value # trailing\n#other = x\n", "test");
  ASSERT_OK(c);
  EXPECT_EQ(c->GetString("key"), "value");
  EXPECT_FALSE(c->Has("other"));
  EXPECT_FALSE(c->Has("#other"));
}

TEST(ConfigTest, AcceptsWindowsLineEndings) {
  auto c = Config::Parse("a = 1\r\nb = 2\r\n", "test");
  ASSERT_OK(c);
  EXPECT_EQ(c->GetString("a"), "1");
  EXPECT_EQ(c->GetString("b"), "2");
}

TEST(ConfigTest, LineWithoutEqualsSignIsRefusedNamingOriginAndLine) {
  auto c = Config::Parse("a = 1\n# fine\njust words\n", "node.conf");
  ASSERT_CODE(c, kInvalidArgument);
  EXPECT_NE(c.status().message().find("node.conf:3"), std::string::npos) << c.status().message();
}

TEST(ConfigTest, LaterDefinitionOfAKeyWins) {
  auto c = Config::Parse("a = 1\na = 2\n", "test");
  ASSERT_OK(c);
  EXPECT_EQ(c->GetString("a"), "2");
}

TEST(ConfigTest, GettersReturnDefaultsForMissingKeys) {
  Config c;
  EXPECT_EQ(c.GetString("missing", "dflt"), "dflt");
  EXPECT_EQ(c.GetInt("missing", 42), 42);
}

TEST(ConfigTest, GetIntUnderstandsSizeUnits) {
  auto c = Config::Parse("plain = 512\nblock = 4M\nbad = lots\n", "test");
  ASSERT_OK(c);
  EXPECT_EQ(c->GetInt("plain", 0), 512);
  EXPECT_EQ(c->GetInt("block", 0), 4 << 20);
  EXPECT_EQ(c->GetInt("bad", 7), 7);
}

TEST(ConfigTest, ToStringParsesBackToTheSameEntries) {
  Config c;
  c.Set("namenode", "localhost:9000");
  c.Set("block_size", "1M");
  auto back = Config::Parse(c.ToString(), "roundtrip");
  ASSERT_OK(back);
  EXPECT_EQ(back->GetString("namenode"), "localhost:9000");
  EXPECT_EQ(back->GetString("block_size"), "1M");
  EXPECT_EQ(back->ToString(), c.ToString());
}

TEST(ConfigTest, LoadReadsAFileAndReportsAMissingOne) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  WriteWholeFile(dir.Join("x.conf"), "k = v\n");
  auto c = Config::Load(dir.Join("x.conf"));
  ASSERT_OK(c);
  EXPECT_EQ(c->GetString("k"), "v");
  EXPECT_CODE(Config::Load(dir.Join("absent.conf")), kNotFound);
}

TEST(ConfigTest, ClientConfigRequiresANamenodeLine) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  WriteWholeFile(dir.Join("good.conf"), "namenode = host:9000\n");
  WriteWholeFile(dir.Join("bad.conf"), "block_size = 1M\n");
  auto good = LoadClientConfig(dir.Join("good.conf"));
  ASSERT_OK(good);
  EXPECT_EQ(good->GetString("namenode"), "host:9000");
  EXPECT_EQ(good->GetString("namenodes"), "host:9000");
  WriteWholeFile(dir.Join("group.conf"), "namenodes = h1:9000,h2:9000\n");
  auto group = LoadClientConfig(dir.Join("group.conf"));
  ASSERT_OK(group);
  EXPECT_EQ(group->GetString("namenodes"), "h1:9000,h2:9000");
  EXPECT_CODE(LoadClientConfig(dir.Join("bad.conf")), kInvalidArgument);
  EXPECT_CODE(LoadClientConfig(dir.Join("absent.conf")), kNotFound);
}

TEST(ParseSizeTest, PlainNumbersAreBytes) {
  EXPECT_EQ(*ParseSize("0"), 0u);
  EXPECT_EQ(*ParseSize("512"), 512u);
  EXPECT_EQ(*ParseSize("512b"), 512u);
  EXPECT_EQ(*ParseSize("512B"), 512u);
}

TEST(ParseSizeTest, UnitsAreBinary) {
  EXPECT_EQ(*ParseSize("1k"), 1024u);
  EXPECT_EQ(*ParseSize("1K"), 1024u);
  EXPECT_EQ(*ParseSize("1KB"), 1024u);
  EXPECT_EQ(*ParseSize("1KiB"), 1024u);
  EXPECT_EQ(*ParseSize("4M"), 4ull << 20);
  EXPECT_EQ(*ParseSize("4MiB"), 4ull << 20);
  EXPECT_EQ(*ParseSize("2G"), 2ull << 30);
  EXPECT_EQ(*ParseSize("3T"), 3ull << 40);
  EXPECT_EQ(*ParseSize("1.5k"), 1536u);
  EXPECT_EQ(*ParseSize("64 M"), 64ull << 20);
}

TEST(ParseSizeTest, RefusesMalformedSizes) {
  EXPECT_CODE(ParseSize(""), kInvalidArgument);
  EXPECT_CODE(ParseSize("M"), kInvalidArgument);
  EXPECT_CODE(ParseSize("abc"), kInvalidArgument);
  EXPECT_CODE(ParseSize("-1"), kInvalidArgument);
  EXPECT_CODE(ParseSize("10x"), kInvalidArgument);
  EXPECT_CODE(ParseSize("10 MBs"), kInvalidArgument);
}

// strtod also accepts "inf" and "nan"; converting those to an integer is undefined.
TEST(ParseSizeTest, RefusesNonFiniteNumbers) {
  EXPECT_FALSE(ParseSize("inf").ok());
  EXPECT_FALSE(ParseSize("nan").ok());
  EXPECT_FALSE(ParseSize("infinityG").ok());
}

TEST(ParseSizeTest, RefusesSizesThatDoNotFitIn64Bits) {
  EXPECT_FALSE(ParseSize("16777216T").ok());  // 2^64 bytes
  EXPECT_FALSE(ParseSize("1e30").ok());
}

}  // namespace
}  // namespace dfs
