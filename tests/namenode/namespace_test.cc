// Namespace: mkdirs, create, append, blocks, replication and path checks, all through
// Apply. Rename and delete are in namespace_rename_delete_test.cc.
#include "namenode/namespace.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/common/status_assert.h"
#include "tests/namenode/namespace_ops.h"

namespace dfs {
namespace {

class NamespaceTest : public ::testing::Test {
 protected:
  Status Apply(const proto::Op& op) { return ns_.Apply(op).status; }
  bool Exists(const std::string& path) { return ns_.GetFileInfo(path).ok(); }
  bool IsDir(const std::string& path) {
    auto s = ns_.GetFileInfo(path);
    return s.ok() && s->type() == proto::DIRECTORY;
  }
  // Applies op, expects it refused with code, and expects the namespace unchanged.
  void ExpectRefused(const proto::Op& op, Code code) {
    const std::string before = Dump(ns_);
    Status s = Apply(op);
    EXPECT_EQ(s.code(), code) << s.ToString() << " for " << op.ShortDebugString();
    EXPECT_FALSE(s.message().empty());
    EXPECT_EQ(Dump(ns_), before) << "refused op changed the namespace: " << op.ShortDebugString();
  }

  Namespace ns_;
  OpBuilder ops_;
};

TEST_F(NamespaceTest, NewNamespaceHasOnlyTheRoot) {
  auto root = ns_.GetFileInfo("/");
  ASSERT_OK(root);
  EXPECT_EQ(root->type(), proto::DIRECTORY);
  EXPECT_EQ(root->inode_id(), kRootInodeId);
  EXPECT_EQ(root->children(), 0u);
  EXPECT_EQ(ns_.file_count(), 0u);
  EXPECT_EQ(ns_.directory_count(), 1u);
}

TEST_F(NamespaceTest, MkdirsWithParentsCreatesEveryMissingDirectory) {
  ASSERT_OK(Apply(ops_.Mkdirs("/a/b/c")));
  EXPECT_TRUE(IsDir("/a"));
  EXPECT_TRUE(IsDir("/a/b"));
  EXPECT_TRUE(IsDir("/a/b/c"));
  EXPECT_EQ(ns_.directory_count(), 4u);
  EXPECT_EQ(ns_.GetFileInfo("/a/b/c")->mode(), 0755u);
  EXPECT_EQ(ns_.GetFileInfo("/a/b/c")->owner(), "tester");
}

TEST_F(NamespaceTest, MkdirsWithoutParentsNeedsTheParent) {
  ExpectRefused(ops_.Mkdirs("/a/b", false), Code::kNotFound);
  ASSERT_OK(Apply(ops_.Mkdirs("/a", false)));
  ASSERT_OK(Apply(ops_.Mkdirs("/a/b", false)));
  EXPECT_TRUE(IsDir("/a/b"));
}

TEST_F(NamespaceTest, MkdirsOfAnExistingDirectorySucceedsOnlyWithParents) {
  ASSERT_OK(Apply(ops_.Mkdirs("/a/b")));
  const std::string before = Dump(ns_);
  EXPECT_OK(Apply(ops_.Mkdirs("/a/b", true)));
  EXPECT_EQ(Dump(ns_), before);
  ExpectRefused(ops_.Mkdirs("/a/b", false), Code::kAlreadyExists);
  ExpectRefused(ops_.Mkdirs("/", false), Code::kAlreadyExists);
  EXPECT_OK(Apply(ops_.Mkdirs("/", true)));
}

TEST_F(NamespaceTest, MkdirsOverOrBelowAFileIsRefused) {
  WriteFile(&ns_, &ops_, "/d/f", {10});
  ExpectRefused(ops_.Mkdirs("/d/f"), Code::kAlreadyExists);
  ExpectRefused(ops_.Mkdirs("/d/f/x/y"), Code::kFailedPrecondition);
}

TEST_F(NamespaceTest, CreateMakesAnEmptyFileUnderConstruction) {
  ASSERT_OK(Apply(ops_.Mkdirs("/d")));
  OpResult r = ns_.Apply(ops_.Create("/d/f", "client-1", false, false, 2, 4096));
  ASSERT_OK(r.status);
  EXPECT_EQ(r.file.path(), "/d/f");
  EXPECT_EQ(r.file.type(), proto::FILE);
  EXPECT_TRUE(r.file.under_construction());
  EXPECT_EQ(r.file.replication(), 2u);
  EXPECT_EQ(r.file.block_size(), 4096u);
  EXPECT_EQ(r.file.length(), 0u);
  EXPECT_EQ(r.file.mode(), 0644u);
  EXPECT_EQ(ns_.file_count(), 1u);
  EXPECT_EQ(ns_.GetFileInfo("/d")->children(), 1u);
  EXPECT_EQ(ns_.GetFileInfo("/d/f")->inode_id(), r.file.inode_id());
}

TEST_F(NamespaceTest, CreateNeedsTheParentUnlessAskedToMakeIt) {
  ExpectRefused(ops_.Create("/p/q/f", "c", false, false), Code::kNotFound);
  ASSERT_OK(Apply(ops_.Create("/p/q/f", "c", false, true)));
  EXPECT_TRUE(IsDir("/p/q"));
  EXPECT_TRUE(Exists("/p/q/f"));
}

TEST_F(NamespaceTest, CreateBelowAFileIsRefused) {
  WriteFile(&ns_, &ops_, "/f", {1});
  ExpectRefused(ops_.Create("/f/g", "c", false, true), Code::kFailedPrecondition);
  ExpectRefused(ops_.Create("/f/g/h", "c", false, true), Code::kFailedPrecondition);
}

TEST_F(NamespaceTest, CreateOverAnExistingFileIsRefusedWithoutOverwrite) {
  WriteFile(&ns_, &ops_, "/f", {100});
  ExpectRefused(ops_.Create("/f", "client-2"), Code::kAlreadyExists);
}

TEST_F(NamespaceTest, CreateWithOverwriteReplacesTheFileAndReturnsItsBlocks) {
  auto old_blocks = WriteFile(&ns_, &ops_, "/f", {100, 50});
  ASSERT_EQ(old_blocks.size(), 2u);
  const uint64_t old_inode = ns_.GetFileInfo("/f")->inode_id();
  OpResult r = ns_.Apply(ops_.Create("/f", "client-2", true));
  ASSERT_OK(r.status);
  ASSERT_EQ(r.removed_blocks.size(), 2u);
  EXPECT_EQ(r.removed_blocks[0].id(), old_blocks[0].id());
  EXPECT_EQ(r.removed_blocks[1].id(), old_blocks[1].id());
  EXPECT_NE(r.file.inode_id(), old_inode);
  EXPECT_EQ(ns_.GetFileInfo("/f")->length(), 0u);
  EXPECT_EQ(ns_.FileOfBlock(old_blocks[0].id()), 0u);
  EXPECT_EQ(ns_.block_count(), 0u);
  EXPECT_EQ(ns_.file_count(), 1u);
}

TEST_F(NamespaceTest, CreateOverADirectoryIsRefusedEvenWithOverwrite) {
  ASSERT_OK(Apply(ops_.Mkdirs("/d")));
  ExpectRefused(ops_.Create("/d", "c", false), Code::kAlreadyExists);
  ExpectRefused(ops_.Create("/d", "c", true), Code::kAlreadyExists);
  ExpectRefused(ops_.Create("/", "c", true), Code::kAlreadyExists);
}

TEST_F(NamespaceTest, CreateOverAFileBeingWrittenByAnotherClientIsRefused) {
  ASSERT_OK(Apply(ops_.Create("/f", "client-1")));
  ExpectRefused(ops_.Create("/f", "client-2", true), Code::kFailedPrecondition);
}

TEST_F(NamespaceTest, CreateChecksReplicationBlockSizeAndClientName) {
  ExpectRefused(ops_.Create("/f", "c", false, false, 0), Code::kInvalidArgument);
  ExpectRefused(ops_.Create("/f", "c", false, false, kMaxReplication + 1), Code::kInvalidArgument);
  ExpectRefused(ops_.Create("/f", "c", false, false, 3, 0), Code::kInvalidArgument);
  ExpectRefused(ops_.Create("/f", "c", false, false, 3, 1000), Code::kInvalidArgument);
  ExpectRefused(ops_.Create("/f", "c", false, false, 3, kMaxBlockSize + 512),
                Code::kInvalidArgument);
  ExpectRefused(ops_.Create("/f", ""), Code::kInvalidArgument);
  EXPECT_OK(Apply(ops_.Create("/f", "c", false, false, kMaxReplication, kMaxBlockSize)));
}

TEST_F(NamespaceTest, AddBlockAndCompleteCommitBlockLengths) {
  ASSERT_OK(Apply(ops_.Create("/f", "c", false, false, 3, 1024)));
  OpResult b1 = ns_.Apply(ops_.AddBlock("/f", "c"));
  ASSERT_OK(b1.status);
  EXPECT_EQ(b1.block.num_bytes(), 0u);
  proto::Block prev = b1.block;
  prev.set_num_bytes(1024);
  OpResult b2 = ns_.Apply(ops_.AddBlock("/f", "c", prev));
  ASSERT_OK(b2.status);
  EXPECT_NE(b2.block.id(), b1.block.id());
  EXPECT_NE(b2.block.generation_stamp(), b1.block.generation_stamp());
  EXPECT_EQ(ns_.GetFileInfo("/f")->length(), 1024u);
  proto::Block last = b2.block;
  last.set_num_bytes(300);
  ASSERT_OK(Apply(ops_.Complete("/f", "c", last)));
  auto info = ns_.GetFileInfo("/f");
  EXPECT_EQ(info->length(), 1324u);
  EXPECT_FALSE(info->under_construction());
  auto file = ns_.GetFile("/f");
  ASSERT_OK(file);
  ASSERT_EQ((*file)->blocks.size(), 2u);
  EXPECT_EQ((*file)->blocks[0].num_bytes(), 1024u);
  EXPECT_EQ((*file)->blocks[1].num_bytes(), 300u);
  EXPECT_EQ(ns_.FileOfBlock(b1.block.id()), info->inode_id());
  ASSERT_NE(ns_.GetBlock(b2.block.id()), nullptr);
  EXPECT_EQ(ns_.GetBlock(b2.block.id())->num_bytes(), 300u);
  EXPECT_EQ(ns_.block_count(), 2u);
}

TEST_F(NamespaceTest, BlockOpsNeedTheLeaseHolder) {
  ASSERT_OK(Apply(ops_.Create("/f", "owner")));
  ExpectRefused(ops_.AddBlock("/f", "intruder"), Code::kFailedPrecondition);
  OpResult b = ns_.Apply(ops_.AddBlock("/f", "owner"));
  ASSERT_OK(b.status);
  ExpectRefused(ops_.Complete("/f", "intruder", b.block), Code::kFailedPrecondition);
  ExpectRefused(ops_.AbandonBlock("/f", b.block, "intruder"), Code::kFailedPrecondition);
  ASSERT_OK(Apply(ops_.Complete("/f", "owner", b.block)));
  ExpectRefused(ops_.AddBlock("/f", "owner"), Code::kFailedPrecondition);
  ExpectRefused(ops_.Complete("/f", "owner"), Code::kFailedPrecondition);
}

TEST_F(NamespaceTest, CommittingABlockThatIsNotTheLastOneIsRefused) {
  ASSERT_OK(Apply(ops_.Create("/f", "c")));
  OpResult b1 = ns_.Apply(ops_.AddBlock("/f", "c"));
  ASSERT_OK(b1.status);
  proto::Block p1 = b1.block;
  p1.set_num_bytes(1 << 20);
  OpResult b2 = ns_.Apply(ops_.AddBlock("/f", "c", p1));
  ASSERT_OK(b2.status);
  ExpectRefused(ops_.AddBlock("/f", "c", p1), Code::kFailedPrecondition);
  ExpectRefused(ops_.Complete("/f", "c", p1), Code::kFailedPrecondition);
}

TEST_F(NamespaceTest, BlockLongerThanTheBlockSizeIsRefused) {
  ASSERT_OK(Apply(ops_.Create("/f", "c", false, false, 3, 1024)));
  OpResult b = ns_.Apply(ops_.AddBlock("/f", "c"));
  ASSERT_OK(b.status);
  proto::Block too_long = b.block;
  too_long.set_num_bytes(1025);
  ExpectRefused(ops_.Complete("/f", "c", too_long), Code::kInvalidArgument);
  ExpectRefused(ops_.AddBlock("/f", "c", too_long), Code::kInvalidArgument);
  EXPECT_TRUE(ns_.GetFileInfo("/f")->under_construction());
}

TEST_F(NamespaceTest, AbandonBlockDropsTheLastBlock) {
  ASSERT_OK(Apply(ops_.Create("/f", "c")));
  OpResult b = ns_.Apply(ops_.AddBlock("/f", "c"));
  ASSERT_OK(b.status);
  OpResult r = ns_.Apply(ops_.AbandonBlock("/f", b.block, "c"));
  ASSERT_OK(r.status);
  ASSERT_EQ(r.removed_blocks.size(), 1u);
  EXPECT_EQ(r.removed_blocks[0].id(), b.block.id());
  EXPECT_EQ(ns_.FileOfBlock(b.block.id()), 0u);
  EXPECT_TRUE((*ns_.GetFile("/f"))->blocks.empty());
  ExpectRefused(ops_.AbandonBlock("/f", b.block, "c"), Code::kFailedPrecondition);
}

TEST_F(NamespaceTest, AppendReopensAClosedFileForOneWriter) {
  WriteFile(&ns_, &ops_, "/f", {700});
  OpResult r = ns_.Apply(ops_.Append("/f", "appender"));
  ASSERT_OK(r.status);
  EXPECT_TRUE(r.file.under_construction());
  EXPECT_EQ(r.file.length(), 700u);
  ExpectRefused(ops_.Append("/f", "other"), Code::kFailedPrecondition);
  ExpectRefused(ops_.AddBlock("/f", "writer"), Code::kFailedPrecondition);
  OpResult b = ns_.Apply(ops_.AddBlock("/f", "appender"));
  ASSERT_OK(b.status);
  b.block.set_num_bytes(20);
  ASSERT_OK(Apply(ops_.Complete("/f", "appender", b.block)));
  EXPECT_EQ(ns_.GetFileInfo("/f")->length(), 720u);
}

TEST_F(NamespaceTest, AppendNeedsAnExistingFile) {
  ASSERT_OK(Apply(ops_.Mkdirs("/d")));
  ExpectRefused(ops_.Append("/d", "c"), Code::kFailedPrecondition);
  ExpectRefused(ops_.Append("/missing", "c"), Code::kNotFound);
  WriteFile(&ns_, &ops_, "/f", {1});
  ExpectRefused(ops_.Append("/f", ""), Code::kInvalidArgument);
}

TEST_F(NamespaceTest, SetReplicationAcceptsOneToMaxOnFilesOnly) {
  WriteFile(&ns_, &ops_, "/f", {1});
  ASSERT_OK(Apply(ops_.SetReplication("/f", 1)));
  EXPECT_EQ(ns_.GetFileInfo("/f")->replication(), 1u);
  ASSERT_OK(Apply(ops_.SetReplication("/f", kMaxReplication)));
  EXPECT_EQ(ns_.GetFileInfo("/f")->replication(), kMaxReplication);
  ExpectRefused(ops_.SetReplication("/f", 0), Code::kInvalidArgument);
  ExpectRefused(ops_.SetReplication("/f", kMaxReplication + 1), Code::kInvalidArgument);
  ASSERT_OK(Apply(ops_.Mkdirs("/d")));
  ExpectRefused(ops_.SetReplication("/d", 2), Code::kFailedPrecondition);
  ExpectRefused(ops_.SetReplication("/missing", 2), Code::kNotFound);
}

TEST_F(NamespaceTest, MalformedPathsAreRefusedByEveryOp) {
  ASSERT_OK(Apply(ops_.Mkdirs("/a/b")));
  WriteFile(&ns_, &ops_, "/a/f", {5});
  const std::string long_name = "/a/" + std::string(256, 'x');
  const std::string nul(std::string("/a/f\0g", 6));
  for (const std::string bad :
       {"/a/../b", "/a/./b", "/a//b", "/a/b/", "a/b", "", "/..", long_name.c_str()}) {
    SCOPED_TRACE("path '" + bad + "'");
    ExpectRefused(ops_.Mkdirs(bad), Code::kInvalidArgument);
    ExpectRefused(ops_.Create(bad, "c", true, true), Code::kInvalidArgument);
    ExpectRefused(ops_.Rename("/a/f", bad), Code::kInvalidArgument);
  }
  ExpectRefused(ops_.Mkdirs(nul), Code::kInvalidArgument);
  ExpectRefused(ops_.Create(nul, "c", true, true), Code::kInvalidArgument);
  ExpectRefused(ops_.Rename("/a/f", nul), Code::kInvalidArgument);
  ExpectRefused(ops_.Rename(nul, "/a/g"), Code::kInvalidArgument);
  ExpectRefused(ops_.Delete("/a/../a", true), Code::kInvalidArgument);
  ExpectRefused(ops_.Append("/a//f", "c"), Code::kInvalidArgument);
  ExpectRefused(ops_.SetReplication("/./a/f", 1), Code::kInvalidArgument);
  EXPECT_CODE(ns_.GetFileInfo("/a/./f"), kInvalidArgument);
}

TEST_F(NamespaceTest, NamesOfExactly255BytesAreAccepted) {
  const std::string name = "/" + std::string(255, 'y');
  ASSERT_OK(Apply(ops_.Create(name, "c")));
  EXPECT_TRUE(Exists(name));
}

TEST_F(NamespaceTest, EmptyOpIsRefused) {
  proto::Op op;
  op.set_time_ms(1);
  const std::string before = Dump(ns_);
  EXPECT_CODE(ns_.Apply(op).status, kInvalidArgument);
  EXPECT_EQ(Dump(ns_), before);
}

TEST_F(NamespaceTest, ListPagesThroughChildrenInNameOrder) {
  for (const char* n : {"c", "a", "d", "b"}) ASSERT_OK(Apply(ops_.Mkdirs(std::string("/") + n)));
  bool more = false;
  auto page = ns_.List("/", "", 2, &more);
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].path(), "/a");
  EXPECT_EQ((*page)[1].path(), "/b");
  EXPECT_TRUE(more);
  page = ns_.List("/", "b", 2, &more);
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].path(), "/c");
  EXPECT_EQ((*page)[1].path(), "/d");
  EXPECT_FALSE(more);
}

TEST_F(NamespaceTest, ContentSummaryCountsTheSubtree) {
  WriteFile(&ns_, &ops_, "/d/x/f1", {100, 20}, 2);
  WriteFile(&ns_, &ops_, "/d/f2", {5}, 3);
  WriteFile(&ns_, &ops_, "/other", {1000}, 1);
  auto sum = ns_.GetContentSummary("/d");
  ASSERT_OK(sum);
  EXPECT_EQ(sum->files, 2u);
  EXPECT_EQ(sum->directories, 2u);
  EXPECT_EQ(sum->length, 125u);
  EXPECT_EQ(sum->space_consumed, 120u * 2 + 5u * 3);
}

TEST_F(NamespaceTest, OpenFilesAreTrackedFromCreateOrAppendToCloseOrDelete) {
  auto open_files = [&] {
    std::vector<std::string> out;
    ns_.ForEachOpenFile([&](const Inode& f) { out.push_back(ns_.PathOf(f.id)); });
    std::sort(out.begin(), out.end());
    return out;
  };
  ASSERT_OK(ns_.Apply(ops_.Create("/a")).status);
  ASSERT_OK(ns_.Apply(ops_.Create("/b")).status);
  EXPECT_EQ(open_files(), (std::vector<std::string>{"/a", "/b"}));
  ASSERT_OK(ns_.Apply(ops_.Complete("/a")).status);
  ASSERT_OK(ns_.Apply(ops_.Delete("/b")).status);
  EXPECT_TRUE(open_files().empty());
  ASSERT_OK(ns_.Apply(ops_.Append("/a")).status);
  ASSERT_OK(ns_.Apply(ops_.Rename("/a", "/c")).status);
  EXPECT_EQ(open_files(), std::vector<std::string>{"/c"});
  // Overwriting an open file by its own writer replaces it.
  ASSERT_OK(ns_.Apply(ops_.Create("/c", "client-1", true)).status);
  EXPECT_EQ(open_files(), std::vector<std::string>{"/c"});
}

}  // namespace
}  // namespace dfs
