#include "mapreduce/line_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace dfs::mr {
namespace {

// A file in memory, read in small pieces so lines cross read boundaries too.
class MemorySource : public ByteSource {
 public:
  MemorySource(std::string data, size_t max_read) : data_(std::move(data)), max_read_(max_read) {}
  Status Seek(uint64_t pos) override {
    pos_ = std::min<uint64_t>(pos, data_.size());
    return Status::Ok();
  }
  Result<size_t> Read(char* buf, size_t n) override {
    n = std::min({n, max_read_, data_.size() - static_cast<size_t>(pos_)});
    memcpy(buf, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t max_read_;
  uint64_t pos_ = 0;
};

std::vector<std::pair<uint64_t, std::string>> ReadSplit(const std::string& data, uint64_t start,
                                                        uint64_t len, size_t max_read = 7) {
  MemorySource src(data, max_read);
  SplitLineReader r(&src, start, len);
  std::vector<std::pair<uint64_t, std::string>> out;
  std::string_view line;
  uint64_t off;
  while (true) {
    auto more = r.Next(&line, &off);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more) break;
    out.emplace_back(off, std::string(line));
  }
  return out;
}

TEST(SplitLineReader, LineCrossingSplitBoundaryIsReadOnceByItsFirstSplit) {
  std::string data = "first line\nsecond line crosses\nthird\n";
  auto a = ReadSplit(data, 0, 15);  // ends inside "second line..."
  auto b = ReadSplit(data, 15, data.size() - 15);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].second, "first line");
  EXPECT_EQ(a[1].second, "second line crosses");
  EXPECT_EQ(a[1].first, 11u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].second, "third");
}

TEST(SplitLineReader, SplitStartingExactlyAtALineKeepsThatLine) {
  std::string data = "aaaa\nbbbb\ncccc\n";
  auto a = ReadSplit(data, 0, 5);
  auto b = ReadSplit(data, 5, 10);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].second, "aaaa");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].second, "bbbb");
  EXPECT_EQ(b[1].second, "cccc");
}

TEST(SplitLineReader, LastLineWithoutNewlineAndEmptyLines) {
  std::string data = "x\n\n\nlast";
  auto all = ReadSplit(data, 0, data.size());
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].second, "");
  EXPECT_EQ(all[3].second, "last");
  EXPECT_EQ(all[3].first, 4u);
}

TEST(SplitLineReader, SplitInsideOneLongLineReadsNothing) {
  std::string data = "0123456789012345678901234567890\nz\n";
  EXPECT_TRUE(ReadSplit(data, 10, 10).empty());
}

TEST(SplitLineReader, AnySplittingReadsEveryLineExactlyOnce) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string data;
    int lines = static_cast<int>(rng() % 30);
    for (int i = 0; i < lines; ++i) {
      data += std::string(rng() % 12, static_cast<char>('a' + i % 26));
      if (i + 1 < lines || rng() % 2) data += '\n';
    }
    auto whole = ReadSplit(data, 0, data.size(), 1 << 20);
    uint64_t split = 1 + rng() % 9;
    std::vector<std::pair<uint64_t, std::string>> joined;
    for (uint64_t s = 0; s < data.size(); s += split) {
      auto part = ReadSplit(data, s, std::min<uint64_t>(split, data.size() - s), 1 + rng() % 5);
      joined.insert(joined.end(), part.begin(), part.end());
    }
    ASSERT_EQ(joined, whole) << "round " << round << " split " << split;
  }
}

}  // namespace
}  // namespace dfs::mr
