// Namespace checkpoint images: SaveImage then LoadImage reproduces the state.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "namenode/namespace.h"
#include "tests/common/status_assert.h"
#include "tests/common/temp_dir.h"
#include "tests/namenode/namespace_ops.h"

namespace dfs {
namespace {

class NamespaceImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    image_ = dir_.Join("image");
    // A tree with nested directories, closed files, an open file with a block, an empty
    // file, a renamed file and a deleted one (so the counters are past the live ids).
    ASSERT_OK(ns_.Apply(ops_.Mkdirs("/empty/dir")).status);
    WriteFile(&ns_, &ops_, "/data/a", {1 << 20, 12345}, 2);
    WriteFile(&ns_, &ops_, "/data/deep/b", {7}, 1);
    WriteFile(&ns_, &ops_, "/data/gone", {9});
    ASSERT_OK(ns_.Apply(ops_.Delete("/data/gone")).status);
    WriteFile(&ns_, &ops_, "/tmp/moved", {}, 3);
    ASSERT_OK(ns_.Apply(ops_.Rename("/tmp/moved", "/data/moved")).status);
    ASSERT_OK(ns_.Apply(ops_.Create("/data/open", "writer-9")).status);
    ASSERT_OK(ns_.Apply(ops_.AddBlock("/data/open", "writer-9")).status);
  }

  TempDir dir_;
  std::string image_;
  Namespace ns_;
  OpBuilder ops_;
};

TEST_F(NamespaceImageTest, LoadedImageHasTheSameTreeBlocksAndLeases) {
  ASSERT_OK(ns_.SaveImage(image_, 42));
  Namespace loaded;
  auto index = loaded.LoadImage(image_);
  ASSERT_OK(index);
  EXPECT_EQ(*index, 42u);
  EXPECT_EQ(Dump(loaded), Dump(ns_));
  EXPECT_EQ(loaded.file_count(), ns_.file_count());
  EXPECT_EQ(loaded.directory_count(), ns_.directory_count());
  EXPECT_EQ(loaded.block_count(), ns_.block_count());
  EXPECT_TRUE(loaded.GetFileInfo("/data/open")->under_construction());
  std::vector<std::string> open;
  loaded.ForEachOpenFile([&](const Inode& f) { open.push_back(loaded.PathOf(f.id)); });
  EXPECT_EQ(open, std::vector<std::string>{"/data/open"});
  EXPECT_FALSE(std::filesystem::exists(image_ + ".tmp"));
}

TEST_F(NamespaceImageTest, LoadedImageMapsBlocksToTheirFiles) {
  ASSERT_OK(ns_.SaveImage(image_, 1));
  Namespace loaded;
  ASSERT_OK(loaded.LoadImage(image_));
  int checked = 0;
  ns_.ForEachFile([&](const Inode& f) {
    for (const auto& b : f.blocks) {
      EXPECT_EQ(loaded.FileOfBlock(b.id()), f.id);
      ASSERT_NE(loaded.GetBlock(b.id()), nullptr);
      EXPECT_EQ(loaded.GetBlock(b.id())->ShortDebugString(), b.ShortDebugString());
      ++checked;
    }
  });
  EXPECT_EQ(checked, 4);
}

TEST_F(NamespaceImageTest, IdsAllocatedAfterLoadDoNotCollideAndMatchTheOriginal) {
  std::set<uint64_t> old_inodes, old_blocks, old_stamps;
  ns_.ForEachFile([&](const Inode& f) {
    old_inodes.insert(f.id);
    for (const auto& b : f.blocks) {
      old_blocks.insert(b.id());
      old_stamps.insert(b.generation_stamp());
    }
  });
  ASSERT_OK(ns_.SaveImage(image_, 7));
  Namespace loaded;
  ASSERT_OK(loaded.LoadImage(image_));

  // The same ops on the original and the loaded copy must give the same results: that is
  // what lets a replica restart from an image and keep applying the log.
  OpBuilder more_ops = ops_;
  const proto::Op create = more_ops.Create("/data/new", "c");
  const proto::Op add = more_ops.AddBlock("/data/new", "c");
  OpResult c1 = ns_.Apply(create);
  OpResult c2 = loaded.Apply(create);
  ASSERT_OK(c2.status);
  EXPECT_EQ(c2.file.inode_id(), c1.file.inode_id());
  OpResult a1 = ns_.Apply(add);
  OpResult a2 = loaded.Apply(add);
  ASSERT_OK(a2.status);
  EXPECT_EQ(a2.block.ShortDebugString(), a1.block.ShortDebugString());

  EXPECT_EQ(old_inodes.count(c2.file.inode_id()), 0u);
  EXPECT_EQ(old_blocks.count(a2.block.id()), 0u);
  EXPECT_EQ(old_stamps.count(a2.block.generation_stamp()), 0u);
  EXPECT_GT(c2.file.inode_id(), *old_inodes.rbegin());
  EXPECT_GT(a2.block.id(), *old_blocks.rbegin());
  EXPECT_EQ(Dump(loaded), Dump(ns_));
}

TEST_F(NamespaceImageTest, EmptyNamespaceRoundTrips) {
  Namespace empty;
  ASSERT_OK(empty.SaveImage(image_, 0));
  ASSERT_OK(ns_.LoadImage(image_));
  EXPECT_EQ(Dump(ns_), Dump(Namespace()));
}

TEST_F(NamespaceImageTest, TruncatedImageIsDataLossAndLeavesTheStateAlone) {
  ASSERT_OK(ns_.SaveImage(image_, 3));
  const uint64_t size = std::filesystem::file_size(image_);
  ASSERT_EQ(::truncate(image_.c_str(), static_cast<off_t>(size - 10)), 0);
  Namespace other;
  ASSERT_OK(other.Apply(ops_.Mkdirs("/mine")).status);
  const std::string before = Dump(other);
  EXPECT_CODE(other.LoadImage(image_), kDataLoss);
  EXPECT_EQ(Dump(other), before);
}

TEST_F(NamespaceImageTest, CorruptImageIsDataLoss) {
  ASSERT_OK(ns_.SaveImage(image_, 3));
  std::string data = ReadWholeFile(image_);
  data[data.size() / 2] ^= 0x20;
  WriteWholeFile(image_, data);
  Namespace other;
  EXPECT_CODE(other.LoadImage(image_), kDataLoss);
}

TEST_F(NamespaceImageTest, MissingImageIsAnError) {
  Namespace other;
  EXPECT_FALSE(other.LoadImage(dir_.Join("absent")).ok());
}

}  // namespace
}  // namespace dfs
