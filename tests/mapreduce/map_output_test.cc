#include "mapreduce/map_output.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>

#include "mapreduce/records.h"

namespace dfs::mr {
namespace {

class MapOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mr-map-output-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // partition -> its records in file order.
  std::vector<std::vector<std::pair<std::string, std::string>>> ReadOutput(
      const std::string& path) {
    auto index = ReadIndex(path + ".index");
    EXPECT_TRUE(index.ok());
    auto file = RecordReader::OpenFile(path);
    EXPECT_TRUE(file.ok());
    std::vector<std::vector<std::pair<std::string, std::string>>> out;
    int fd = ::open(path.c_str(), O_RDONLY);
    for (size_t p = 0; p + 1 < index->size(); ++p) {
      RecordReader r(fd, (*index)[p], (*index)[p + 1] - (*index)[p]);
      out.emplace_back();
      while (*r.Next()) out.back().emplace_back(std::string(r.key()), std::string(r.value()));
    }
    ::close(fd);
    return out;
  }

  std::string dir_;
};

CombineFn SumCombiner(int* calls) {
  return [calls](SortedRecords* in,
                 const std::function<void(std::string_view, std::string_view)>& emit) {
    ++*calls;
    return ForEachGroup(in, [&](std::string_view key, Values& values) {
      int64_t sum = 0;
      std::string_view v;
      while (values.Next(&v)) sum += std::stoll(std::string(v));
      emit(key, std::to_string(sum));
      return Status::Ok();
    });
  };
}

TEST_F(MapOutputTest, OutputIsSortedByPartitionThenKeyWithoutSpills) {
  MapOutputOptions o;
  o.partitions = 3;
  o.spill_dir = dir_;
  MapOutputBuffer b(o);
  ASSERT_TRUE(b.Add(2, "pear", "1").ok());
  ASSERT_TRUE(b.Add(0, "kiwi", "2").ok());
  ASSERT_TRUE(b.Add(0, "apple", "3").ok());
  ASSERT_TRUE(b.Add(2, "fig", "4").ok());
  ASSERT_TRUE(b.Finish(dir_ + "/out").ok());
  EXPECT_EQ(b.spills(), 0);
  auto parts = ReadOutput(dir_ + "/out");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0],
            (std::vector<std::pair<std::string, std::string>>{{"apple", "3"}, {"kiwi", "2"}}));
  EXPECT_TRUE(parts[1].empty());
  EXPECT_EQ(parts[2],
            (std::vector<std::pair<std::string, std::string>>{{"fig", "4"}, {"pear", "1"}}));
}

TEST_F(MapOutputTest, SpillsAreCombinedAndMergedIntoOneSortedFile) {
  MapOutputOptions o;
  o.partitions = 4;
  o.buffer_bytes = 4096;  // many spills
  o.spill_dir = dir_;
  int calls = 0;
  o.combiner = SumCombiner(&calls);
  MapOutputBuffer b(o);
  std::map<std::string, int64_t> want;
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    std::string key = "k" + std::to_string(rng() % 500);
    ASSERT_TRUE(b.Add(HashPartition(key, 4), key, "1").ok());
    ++want[key];
  }
  ASSERT_TRUE(b.Finish(dir_ + "/out").ok());
  EXPECT_GT(b.spills(), 5);
  EXPECT_GT(calls, 5);
  auto parts = ReadOutput(dir_ + "/out");
  std::map<std::string, int64_t> got;
  for (size_t p = 0; p < parts.size(); ++p) {
    for (size_t i = 0; i < parts[p].size(); ++i) {
      const auto& [k, v] = parts[p][i];
      EXPECT_EQ(HashPartition(k, 4), p);
      if (i > 0) EXPECT_LT(parts[p][i - 1].first, k);  // combined: each key once, in order
      got[k] += std::stoll(v);
    }
  }
  EXPECT_EQ(got, want);
  // Spill files are gone once merged.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_))
    files += e.path().filename().string().rfind("spill", 0) == 0;
  EXPECT_EQ(files, 0);
}

TEST_F(MapOutputTest, CompressedSegmentsDecompressToTheSameRecords) {
  MapOutputOptions o;
  o.partitions = 2;
  o.buffer_bytes = 2048;
  o.spill_dir = dir_;
  o.compress = true;
  MapOutputBuffer b(o);
  std::map<std::string, int> want;
  for (int i = 0; i < 3000; ++i) {
    std::string key = "key" + std::to_string(i % 700);
    ASSERT_TRUE(b.Add(i % 2, key, "v").ok());
    ++want[key + "/" + std::to_string(i % 2)];
  }
  ASSERT_TRUE(b.Finish(dir_ + "/out").ok());
  auto index = ReadIndex(dir_ + "/out.index");
  ASSERT_TRUE(index.ok());
  std::ifstream f(dir_ + "/out", std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::map<std::string, int> got;
  for (size_t p = 0; p + 1 < index->size(); ++p) {
    auto raw = DecompressSegment(
        std::string_view(file).substr((*index)[p], (*index)[p + 1] - (*index)[p]));
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    RecordReader r(*raw);
    std::string prev;
    while (*r.Next()) {
      EXPECT_LE(prev, std::string(r.key()));
      prev = std::string(r.key());
      ++got[prev + "/" + std::to_string(p)];
    }
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(DecompressSegment("not zstd at all").status().code(), Code::kDataLoss);
}

TEST_F(MapOutputTest, PartitionOutOfRangeIsRefused) {
  MapOutputOptions o;
  o.partitions = 2;
  o.spill_dir = dir_;
  MapOutputBuffer b(o);
  EXPECT_EQ(b.Add(2, "k", "v").code(), Code::kInvalidArgument);
}

TEST(HashPartition, SpreadsKeysOverEveryPartitionDeterministically) {
  std::vector<int> counts(8);
  for (int i = 0; i < 8000; ++i) {
    uint32_t p = HashPartition("word" + std::to_string(i), 8);
    ASSERT_LT(p, 8u);
    ASSERT_EQ(p, HashPartition("word" + std::to_string(i), 8));
    ++counts[p];
  }
  for (int c : counts) EXPECT_GT(c, 700);
}

TEST(MergeIterator, MergesSortedStreamsAndGroupsEqualKeys) {
  std::string a, b;
  AppendRecord(&a, "a", "1");
  AppendRecord(&a, "c", "2");
  AppendRecord(&b, "a", "3");
  AppendRecord(&b, "b", "4");
  AppendRecord(&b, "c", "5");
  std::vector<std::unique_ptr<SortedRecords>> in;
  in.push_back(std::make_unique<RecordReader>(a));
  in.push_back(std::make_unique<RecordReader>(b));
  MergeIterator m(std::move(in));
  std::vector<std::string> groups;
  ASSERT_TRUE(ForEachGroup(&m, [&](std::string_view key, Values& values) {
                std::string g(key);
                std::string_view v;
                while (values.Next(&v)) g += ":" + std::string(v);
                groups.push_back(g);
                return Status::Ok();
              }).ok());
  EXPECT_EQ(groups, (std::vector<std::string>{"a:1:3", "b:4", "c:2:5"}));
}

TEST(RecordReader, TruncatedSegmentIsDataLoss) {
  std::string a;
  AppendRecord(&a, "key", "value");
  RecordReader r(std::string_view(a).substr(0, a.size() - 2));
  EXPECT_EQ(r.Next().status().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace dfs::mr
