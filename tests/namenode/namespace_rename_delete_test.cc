// Namespace rename and delete, through Apply.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "namenode/namespace.h"
#include "tests/common/status_assert.h"
#include "tests/namenode/namespace_ops.h"

namespace dfs {
namespace {

class NamespaceRenameDeleteTest : public ::testing::Test {
 protected:
  Status Apply(const proto::Op& op) { return ns_.Apply(op).status; }
  bool Exists(const std::string& path) { return ns_.GetFileInfo(path).ok(); }
  uint64_t InodeOf(const std::string& path) {
    auto s = ns_.GetFileInfo(path);
    return s.ok() ? s->inode_id() : 0;
  }
  void ExpectRefused(const proto::Op& op, Code code) {
    const std::string before = Dump(ns_);
    Status s = Apply(op);
    EXPECT_EQ(s.code(), code) << s.ToString() << " for " << op.ShortDebugString();
    EXPECT_EQ(Dump(ns_), before) << "refused op changed the namespace: " << op.ShortDebugString();
  }
  static std::set<uint64_t> Ids(const std::vector<proto::Block>& blocks) {
    std::set<uint64_t> ids;
    for (const auto& b : blocks) ids.insert(b.id());
    return ids;
  }

  Namespace ns_;
  OpBuilder ops_;
};

TEST_F(NamespaceRenameDeleteTest, RenameFileKeepsItsInodeAndBlocks) {
  auto blocks = WriteFile(&ns_, &ops_, "/a/f", {10, 20});
  ASSERT_EQ(blocks.size(), 2u);
  const uint64_t id = InodeOf("/a/f");
  ASSERT_OK(Apply(ops_.Mkdirs("/b")));
  ASSERT_OK(Apply(ops_.Rename("/a/f", "/b/g")));
  EXPECT_FALSE(Exists("/a/f"));
  EXPECT_EQ(InodeOf("/b/g"), id);
  EXPECT_EQ(ns_.GetFileInfo("/b/g")->length(), 30u);
  EXPECT_EQ(ns_.FileOfBlock(blocks[0].id()), id);
  EXPECT_EQ(ns_.PathOf(id), "/b/g");
  EXPECT_EQ(ns_.GetFileInfo("/a")->children(), 0u);
}

TEST_F(NamespaceRenameDeleteTest, RenameDirectoryMovesItsWholeSubtree) {
  WriteFile(&ns_, &ops_, "/a/x/f", {1});
  ASSERT_OK(Apply(ops_.Rename("/a", "/z")));
  EXPECT_FALSE(Exists("/a"));
  EXPECT_TRUE(Exists("/z/x/f"));
  EXPECT_EQ(ns_.GetFileInfo("/z/x/f")->length(), 1u);
}

TEST_F(NamespaceRenameDeleteTest, RenameIntoAnExistingDirectoryKeepsTheName) {
  WriteFile(&ns_, &ops_, "/f", {3});
  ASSERT_OK(Apply(ops_.Mkdirs("/d/e")));
  ASSERT_OK(Apply(ops_.Rename("/f", "/d")));
  EXPECT_FALSE(Exists("/f"));
  EXPECT_TRUE(Exists("/d/f"));
}

// The root is an existing directory too (proto/namespace.proto: RenameOp.overwrite).
TEST_F(NamespaceRenameDeleteTest, RenameIntoTheRootMovesTheEntryThere) {
  ASSERT_OK(Apply(ops_.Mkdirs("/d/e")));
  ASSERT_OK(Apply(ops_.Rename("/d/e", "/")));
  EXPECT_TRUE(Exists("/e"));
  EXPECT_FALSE(Exists("/d/e"));
}

TEST_F(NamespaceRenameDeleteTest, RenameOntoItselfSucceedsAndChangesNothing) {
  WriteFile(&ns_, &ops_, "/d/f", {3});
  const std::string before = Dump(ns_);
  EXPECT_OK(Apply(ops_.Rename("/d/f", "/d/f")));
  EXPECT_OK(Apply(ops_.Rename("/d", "/d")));
  EXPECT_OK(Apply(ops_.Rename("/d/f", "/d")));  // "into /d" is where it already is
  EXPECT_EQ(Dump(ns_), before);
}

TEST_F(NamespaceRenameDeleteTest, RenameOntoAnExistingFileIsRefused) {
  WriteFile(&ns_, &ops_, "/f", {3});
  WriteFile(&ns_, &ops_, "/g", {4});
  ExpectRefused(ops_.Rename("/f", "/g"), Code::kAlreadyExists);
  WriteFile(&ns_, &ops_, "/d/f", {5});
  ExpectRefused(ops_.Rename("/f", "/d"), Code::kAlreadyExists);  // /d/f exists
}

TEST_F(NamespaceRenameDeleteTest, RenameDirectoryIntoItsOwnSubtreeIsRefused) {
  ASSERT_OK(Apply(ops_.Mkdirs("/a/b/c")));
  ExpectRefused(ops_.Rename("/a", "/a/b/c/a2"), Code::kInvalidArgument);
  ExpectRefused(ops_.Rename("/a", "/a/b"), Code::kInvalidArgument);  // into existing /a/b
  ExpectRefused(ops_.Rename("/a/b", "/a/b/c"), Code::kInvalidArgument);
}

TEST_F(NamespaceRenameDeleteTest, RenameToASiblingSharingANamePrefixIsAllowed) {
  ASSERT_OK(Apply(ops_.Mkdirs("/a/b")));
  ASSERT_OK(Apply(ops_.Rename("/a", "/ab")));
  EXPECT_TRUE(Exists("/ab/b"));
}

TEST_F(NamespaceRenameDeleteTest, RenameToAMissingParentIsRefused) {
  WriteFile(&ns_, &ops_, "/f", {3});
  ExpectRefused(ops_.Rename("/f", "/no/such/g"), Code::kNotFound);
}

TEST_F(NamespaceRenameDeleteTest, RenameBelowAFileIsRefused) {
  WriteFile(&ns_, &ops_, "/f", {3});
  WriteFile(&ns_, &ops_, "/g", {3});
  ExpectRefused(ops_.Rename("/g", "/f/g"), Code::kFailedPrecondition);
}

TEST_F(NamespaceRenameDeleteTest, RenameOfAMissingSourceOrTheRootIsRefused) {
  ASSERT_OK(Apply(ops_.Mkdirs("/d")));
  ExpectRefused(ops_.Rename("/missing", "/d/x"), Code::kNotFound);
  ExpectRefused(ops_.Rename("/", "/d/root"), Code::kInvalidArgument);
}

TEST_F(NamespaceRenameDeleteTest, RenameUpdatesParentsModificationTimes) {
  WriteFile(&ns_, &ops_, "/a/f", {1});
  ASSERT_OK(Apply(ops_.Mkdirs("/b")));
  const int64_t a_before = ns_.GetFileInfo("/a")->mtime_ms();
  const int64_t b_before = ns_.GetFileInfo("/b")->mtime_ms();
  ASSERT_OK(Apply(ops_.Rename("/a/f", "/b/f")));
  EXPECT_GT(ns_.GetFileInfo("/a")->mtime_ms(), a_before);
  EXPECT_GT(ns_.GetFileInfo("/b")->mtime_ms(), b_before);
}

TEST_F(NamespaceRenameDeleteTest, OverwritingRenameReplacesAFileAndReturnsItsBlocks) {
  auto src_blocks = WriteFile(&ns_, &ops_, "/src", {10});
  auto victim_blocks = WriteFile(&ns_, &ops_, "/dst", {20, 30});
  const uint64_t src_id = InodeOf("/src");
  OpResult r = ns_.Apply(ops_.Rename("/src", "/dst", true));
  ASSERT_OK(r.status);
  EXPECT_EQ(Ids(r.removed_blocks), Ids(victim_blocks));
  EXPECT_FALSE(Exists("/src"));
  EXPECT_EQ(InodeOf("/dst"), src_id);
  EXPECT_EQ(ns_.GetFileInfo("/dst")->length(), 10u);
  EXPECT_EQ(ns_.file_count(), 1u);
  EXPECT_EQ(ns_.block_count(), 1u);
  EXPECT_EQ(ns_.FileOfBlock(victim_blocks[0].id()), 0u);
  EXPECT_EQ(ns_.FileOfBlock(src_blocks[0].id()), src_id);
}

TEST_F(NamespaceRenameDeleteTest, OverwritingRenameTreatsAnExistingDirectoryAsTheNewName) {
  ASSERT_OK(Apply(ops_.Mkdirs("/a/x")));
  ASSERT_OK(Apply(ops_.Mkdirs("/empty")));
  ASSERT_OK(Apply(ops_.Rename("/a", "/empty", true)));
  EXPECT_TRUE(Exists("/empty/x"));
  EXPECT_FALSE(Exists("/a"));
  EXPECT_FALSE(Exists("/empty/a"));
}

TEST_F(NamespaceRenameDeleteTest, OverwritingRenameRefusesMismatchedOrNonEmptyVictims) {
  WriteFile(&ns_, &ops_, "/f", {1});
  WriteFile(&ns_, &ops_, "/full/inside", {2});
  ASSERT_OK(Apply(ops_.Mkdirs("/d")));
  ASSERT_OK(Apply(ops_.Mkdirs("/empty")));
  ExpectRefused(ops_.Rename("/f", "/empty", true), Code::kAlreadyExists);      // file onto dir
  ExpectRefused(ops_.Rename("/d", "/f", true), Code::kFailedPrecondition);     // dir onto file
  ExpectRefused(ops_.Rename("/d", "/full", true), Code::kFailedPrecondition);  // not empty
}

TEST_F(NamespaceRenameDeleteTest, DeleteFileReturnsItsBlocks) {
  auto blocks = WriteFile(&ns_, &ops_, "/d/f", {10, 20});
  OpResult r = ns_.Apply(ops_.Delete("/d/f"));
  ASSERT_OK(r.status);
  EXPECT_EQ(Ids(r.removed_blocks), Ids(blocks));
  EXPECT_FALSE(Exists("/d/f"));
  EXPECT_EQ(ns_.file_count(), 0u);
  EXPECT_EQ(ns_.block_count(), 0u);
  EXPECT_EQ(ns_.FileOfBlock(blocks[0].id()), 0u);
  EXPECT_EQ(ns_.GetBlock(blocks[1].id()), nullptr);
}

TEST_F(NamespaceRenameDeleteTest, DeleteEmptyDirectoryNeedsNoRecursion) {
  ASSERT_OK(Apply(ops_.Mkdirs("/d")));
  ASSERT_OK(Apply(ops_.Delete("/d", false)));
  EXPECT_FALSE(Exists("/d"));
  EXPECT_EQ(ns_.directory_count(), 1u);
}

TEST_F(NamespaceRenameDeleteTest, DeleteNonEmptyDirectoryWithoutRecursionChangesNothing) {
  WriteFile(&ns_, &ops_, "/d/f", {10});
  ExpectRefused(ops_.Delete("/d", false), Code::kFailedPrecondition);
  EXPECT_TRUE(Exists("/d/f"));
}

TEST_F(NamespaceRenameDeleteTest, RecursiveDeleteRemovesTheSubtreeAndReturnsAllItsBlocks) {
  auto b1 = WriteFile(&ns_, &ops_, "/d/f1", {1, 2});
  auto b2 = WriteFile(&ns_, &ops_, "/d/x/y/f2", {3});
  auto kept = WriteFile(&ns_, &ops_, "/keep", {4});
  ASSERT_OK(Apply(ops_.Create("/d/x/open", "c")));
  OpResult open_block = ns_.Apply(ops_.AddBlock("/d/x/open", "c"));
  ASSERT_OK(open_block.status);
  OpResult r = ns_.Apply(ops_.Delete("/d", true));
  ASSERT_OK(r.status);
  std::set<uint64_t> expected = Ids(b1);
  for (uint64_t id : Ids(b2)) expected.insert(id);
  expected.insert(open_block.block.id());
  EXPECT_EQ(Ids(r.removed_blocks), expected);
  EXPECT_EQ(r.removed_blocks.size(), expected.size());
  EXPECT_FALSE(Exists("/d"));
  EXPECT_EQ(ns_.file_count(), 1u);
  EXPECT_EQ(ns_.directory_count(), 1u);
  EXPECT_EQ(ns_.block_count(), 1u);
  EXPECT_EQ(ns_.FileOfBlock(kept[0].id()), InodeOf("/keep"));
  for (uint64_t id : expected) EXPECT_EQ(ns_.FileOfBlock(id), 0u);
}

TEST_F(NamespaceRenameDeleteTest, DeleteOfTheRootOrAMissingPathIsRefused) {
  WriteFile(&ns_, &ops_, "/f", {1});
  ExpectRefused(ops_.Delete("/", true), Code::kInvalidArgument);
  ExpectRefused(ops_.Delete("/missing", true), Code::kNotFound);
  ExpectRefused(ops_.Delete("/f/below", true), Code::kFailedPrecondition);
}

TEST_F(NamespaceRenameDeleteTest, NameIsReusableAfterDelete) {
  WriteFile(&ns_, &ops_, "/f", {1});
  const uint64_t old_id = InodeOf("/f");
  ASSERT_OK(Apply(ops_.Delete("/f")));
  ASSERT_OK(Apply(ops_.Mkdirs("/f")));
  EXPECT_EQ(ns_.GetFileInfo("/f")->type(), proto::DIRECTORY);
  EXPECT_NE(InodeOf("/f"), old_id);
}

}  // namespace
}  // namespace dfs
