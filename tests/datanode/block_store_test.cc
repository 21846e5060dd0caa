#include "datanode/block_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "tests/common/status_assert.h"
#include "tests/common/temp_dir.h"

namespace dfs {
namespace {

namespace fs = std::filesystem;

proto::Block MakeBlock(uint64_t id, uint64_t gs = 1001) {
  proto::Block b;
  b.set_id(id);
  b.set_generation_stamp(gs);
  return b;
}

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7 + (i >> 8));
  return s;
}

class BlockStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_NO_FATAL_FAILURE(Reopen());
  }

  void Reopen() {
    store_.reset();
    auto s = BlockStore::Open({dir_.Join("data")});
    ASSERT_OK(s);
    store_ = std::move(*s);
  }

  // Writes data as one replica (in chunk-aligned pieces of up to 1 KiB) and finalizes it.
  Result<ReplicaInfo> WriteReplica(const proto::Block& block, const std::string& data) {
    ASSIGN_OR_RETURN(auto writer, store_->Create(block));
    for (size_t off = 0; off < data.size(); off += 1024) {
      size_t n = std::min<size_t>(1024, data.size() - off);
      std::vector<uint32_t> crcs(ChunkCount(n));
      ChunkCrcs(data.data() + off, n, crcs.data());
      RETURN_IF_ERROR(writer->Write(off, data.data() + off, n, crcs.data(), crcs.size()));
    }
    return writer->Finalize();
  }

  Status ReadReplica(const ReplicaInfo& info, uint64_t offset, size_t len, std::string* data,
                     std::vector<uint32_t>* crcs) {
    ASSIGN_OR_RETURN(auto reader, store_->OpenReader(info));
    data->assign(len, '\0');
    crcs->assign(ChunkCount(len), 0);
    return reader->Read(offset, len, data->data(), crcs->data());
  }

  TempDir dir_;
  std::unique_ptr<BlockStore> store_;
};

TEST_F(BlockStoreTest, FinalizedReplicaIsFoundAndReadsBackWithMatchingCrcs) {
  const std::string data = Pattern(2 * kBytesPerChecksum + 276, 'a');
  auto info = WriteReplica(MakeBlock(7), data);
  ASSERT_OK(info);
  EXPECT_EQ(info->num_bytes, data.size());
  EXPECT_EQ(info->generation_stamp, 1001u);

  auto found = store_->Find(7, 1001);
  ASSERT_OK(found);
  EXPECT_EQ(found->num_bytes, data.size());
  EXPECT_EQ(fs::file_size(found->data_path), data.size());

  std::string got;
  std::vector<uint32_t> crcs;
  ASSERT_OK(ReadReplica(*found, 0, data.size(), &got, &crcs));
  EXPECT_EQ(got, data);
  std::vector<uint32_t> expected(ChunkCount(data.size()));
  ChunkCrcs(data.data(), data.size(), expected.data());
  EXPECT_EQ(crcs, expected);

  // Reads end on a chunk boundary or at the replica's end, so every stored CRC applies.
  ASSERT_OK(ReadReplica(*found, kBytesPerChecksum, kBytesPerChecksum, &got, &crcs));
  EXPECT_EQ(got, data.substr(kBytesPerChecksum, kBytesPerChecksum));
  EXPECT_EQ(crcs, std::vector<uint32_t>{expected[1]});
  ASSERT_OK(ReadReplica(*found, kBytesPerChecksum, data.size() - kBytesPerChecksum, &got, &crcs));
  EXPECT_EQ(got, data.substr(kBytesPerChecksum));
  EXPECT_EQ(crcs, std::vector<uint32_t>(expected.begin() + 1, expected.end()));
}

TEST_F(BlockStoreTest, ReplicaIsInvisibleUntilFinalized) {
  auto writer = store_->Create(MakeBlock(8));
  ASSERT_OK(writer);
  const std::string data = Pattern(100, 'x');
  uint32_t crc = Crc32c(data.data(), data.size());
  ASSERT_OK((*writer)->Write(0, data.data(), data.size(), &crc, 1));
  EXPECT_CODE(store_->Find(8, 0), kNotFound);
  EXPECT_TRUE(store_->Report().empty());
  ASSERT_OK((*writer)->Finalize());
  EXPECT_OK(store_->Find(8, 0));
  ASSERT_EQ(store_->Report().size(), 1u);
  EXPECT_EQ(store_->Report()[0].num_bytes(), 100u);
}

TEST_F(BlockStoreTest, FindRefusesAStaleGenerationStamp) {
  ASSERT_OK(WriteReplica(MakeBlock(9, 500), "abc"));
  EXPECT_OK(store_->Find(9, 499));
  EXPECT_OK(store_->Find(9, 500));
  EXPECT_CODE(store_->Find(9, 501), kNotFound);
  EXPECT_CODE(store_->Find(10, 0), kNotFound);
}

TEST_F(BlockStoreTest, ReadsMustBeChunkAlignedAndWithinTheReplica) {
  auto info = WriteReplica(MakeBlock(11), Pattern(1000, 'q'));
  ASSERT_OK(info);
  std::string got;
  std::vector<uint32_t> crcs;
  EXPECT_CODE(ReadReplica(*info, 100, 10, &got, &crcs), kInvalidArgument);
  EXPECT_CODE(ReadReplica(*info, 512, 489, &got, &crcs), kOutOfRange);
  EXPECT_OK(ReadReplica(*info, 512, 488, &got, &crcs));
}

// Writes data at offset of writer, with its chunk CRCs.
Status WriteAt(ReplicaWriter* writer, uint64_t offset, const std::string& data) {
  std::vector<uint32_t> crcs(ChunkCount(data.size()));
  ChunkCrcs(data.data(), data.size(), crcs.data());
  return writer->Write(offset, data.data(), data.size(), crcs.data(), crcs.size());
}

TEST_F(BlockStoreTest, WritesStartAtTheEndOrAtTheLastPartialChunk) {
  auto writer = store_->Create(MakeBlock(12));
  ASSERT_OK(writer);
  const std::string data = Pattern(700, 'p');
  ASSERT_OK(WriteAt(writer->get(), 0, data.substr(0, 100)));
  EXPECT_CODE(WriteAt(writer->get(), 100, data.substr(100)), kInvalidArgument);  // unaligned
  EXPECT_CODE(WriteAt(writer->get(), 512, data.substr(512)), kInvalidArgument);  // a gap
  // The partial chunk is sent again, completed, followed by more data.
  ASSERT_OK(WriteAt(writer->get(), 0, data));
  EXPECT_EQ((*writer)->bytes(), 700u);
  auto info = (*writer)->Finalize();
  ASSERT_OK(info);
  EXPECT_EQ(info->num_bytes, 700u);
  std::string got;
  std::vector<uint32_t> crcs;
  ASSERT_OK(ReadReplica(*info, 0, 700, &got, &crcs));
  EXPECT_EQ(got, data);
}

// A resent partial chunk shorter than the first copy must not leave the old copy's tail in
// the data file, where a restart would count it as part of the replica.
TEST_F(BlockStoreTest, ShorterResentPartialChunkLeavesNoStaleBytes) {
  auto writer = store_->Create(MakeBlock(14));
  ASSERT_OK(writer);
  const std::string data = Pattern(100, 's');
  ASSERT_OK(WriteAt(writer->get(), 0, data));
  Status shorter = WriteAt(writer->get(), 0, data.substr(0, 50));
  if (!shorter.ok()) return;  // refusing it is also consistent
  ASSERT_OK((*writer)->Finalize());
  writer->reset();
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto info = store_->Find(14, 0);
  ASSERT_OK(info);
  EXPECT_EQ(info->num_bytes, 50u);
  std::string got;
  std::vector<uint32_t> crcs;
  EXPECT_OK(ReadReplica(*info, 0, info->num_bytes, &got, &crcs));
}

TEST_F(BlockStoreTest, FlippedByteOnDiskIsDataLossNamingItsChunk) {
  const std::string data = Pattern(3 * kBytesPerChecksum, 'z');
  auto info = WriteReplica(MakeBlock(13), data);
  ASSERT_OK(info);
  std::string on_disk = ReadWholeFile(info->data_path);
  ASSERT_EQ(on_disk, data);
  on_disk[kBytesPerChecksum + 40] ^= 0x01;
  WriteWholeFile(info->data_path, on_disk);

  std::string got;
  std::vector<uint32_t> crcs;
  Status s = ReadReplica(*info, 0, data.size(), &got, &crcs);
  ASSERT_CODE(s, kDataLoss);
  EXPECT_NE(s.message().find("at byte 512"), std::string::npos) << s.message();
  // The chunks around the damaged one still read.
  EXPECT_OK(ReadReplica(*info, 0, kBytesPerChecksum, &got, &crcs));
  EXPECT_CODE(ReadReplica(*info, kBytesPerChecksum, kBytesPerChecksum, &got, &crcs), kDataLoss);
  EXPECT_OK(ReadReplica(*info, 2 * kBytesPerChecksum, kBytesPerChecksum, &got, &crcs));
}

TEST_F(BlockStoreTest, ReopenFindsFinalizedReplicas) {
  const std::string d1 = Pattern(1500, '1'), d2 = Pattern(10, '2');
  ASSERT_OK(WriteReplica(MakeBlock(21, 5), d1));
  ASSERT_OK(WriteReplica(MakeBlock(22, 6), d2));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto r1 = store_->Find(21, 5);
  ASSERT_OK(r1);
  EXPECT_EQ(r1->num_bytes, d1.size());
  EXPECT_EQ(store_->Report().size(), 2u);
  EXPECT_EQ(store_->Storage().used(), d1.size() + d2.size());
  auto r2 = store_->Find(22, 6);
  ASSERT_OK(r2);
  EXPECT_EQ(r2->generation_stamp, 6u);
  std::string got;
  std::vector<uint32_t> crcs;
  ASSERT_OK(ReadReplica(*r1, 0, d1.size(), &got, &crcs));
  EXPECT_EQ(got, d1);
}

TEST_F(BlockStoreTest, ReopenDiscardsAnUnreadableUnfinishedReplica) {
  ASSERT_OK(WriteReplica(MakeBlock(31), "kept"));
  // What a crash mid-write can leave behind in rbw/: a meta file without its header.
  const std::string rbw = dir_.Join("data/rbw");
  WriteWholeFile(rbw + "/blk_32_1001", "partial");
  WriteWholeFile(rbw + "/blk_32_1001.meta", "meta");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(store_->ReportUnfinished().empty());
  EXPECT_FALSE(fs::exists(rbw + "/blk_32_1001"));
  EXPECT_FALSE(fs::exists(rbw + "/blk_32_1001.meta"));
  EXPECT_CODE(store_->Find(32, 0), kNotFound);
  EXPECT_OK(store_->Find(31, 0));
  EXPECT_EQ(store_->Report().size(), 1u);
  EXPECT_OK(store_->Create(MakeBlock(32)));  // the id is free again
}

TEST_F(BlockStoreTest, ReopenDropsAMetaFileWithoutData) {
  auto info = WriteReplica(MakeBlock(33), "data");
  ASSERT_OK(info);
  fs::remove(info->data_path);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_CODE(store_->Find(33, 0), kNotFound);
  EXPECT_FALSE(fs::exists(info->meta_path));
}

TEST_F(BlockStoreTest, UuidPersistsAcrossReopen) {
  const std::string uuid = store_->uuid();
  EXPECT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(store_->uuid(), uuid);
  TempDir other;
  auto s = BlockStore::Open({other.Join("data")});
  ASSERT_OK(s);
  EXPECT_NE((*s)->uuid(), uuid);
}

TEST_F(BlockStoreTest, CreateRefusesADuplicateBlockIdButReplacesAnOlderStamp) {
  ASSERT_OK(WriteReplica(MakeBlock(41), "done"));
  EXPECT_CODE(store_->Create(MakeBlock(41)), kAlreadyExists);
  EXPECT_CODE(store_->Create(MakeBlock(41, 900)), kAlreadyExists);
  auto writing = store_->Create(MakeBlock(42));
  ASSERT_OK(writing);
  EXPECT_CODE(store_->Create(MakeBlock(42)), kAlreadyExists);
  // Pipeline recovery: the block written again with a new stamp replaces the old replica.
  ASSERT_OK(WriteReplica(MakeBlock(41, 2000), "again"));
  auto info = store_->Find(41, 2000);
  ASSERT_OK(info);
  EXPECT_EQ(info->num_bytes, 5u);
  EXPECT_EQ(store_->Report().size(), 1u);
  EXPECT_FALSE(fs::exists(dir_.Join("data/current/blk_41_1001.meta")));
  // The namenode's delete of the old stamp leaves the new replica alone.
  EXPECT_CODE(store_->Delete(41, 1001), kFailedPrecondition);
  EXPECT_OK(store_->Find(41, 2000));
}

TEST_F(BlockStoreTest, AbandonedWriterRemovesItsFilesAndFreesTheId) {
  std::string data_path, meta_path;
  {
    auto writer = store_->Create(MakeBlock(51));
    ASSERT_OK(writer);
    data_path = dir_.Join("data/rbw/blk_51_1001");
    EXPECT_TRUE(fs::exists(data_path));
  }
  EXPECT_FALSE(fs::exists(data_path));
  EXPECT_TRUE(fs::is_empty(dir_.Join("data/rbw")));
  EXPECT_OK(WriteReplica(MakeBlock(51), "second try"));
}

TEST_F(BlockStoreTest, DeleteRemovesTheFilesAndTheReplica) {
  auto info = WriteReplica(MakeBlock(61), Pattern(700, 'd'));
  ASSERT_OK(info);
  ASSERT_TRUE(fs::exists(info->data_path));
  ASSERT_TRUE(fs::exists(info->meta_path));
  EXPECT_EQ(store_->Storage().used(), 700u);
  ASSERT_OK(store_->Delete(61));
  EXPECT_FALSE(fs::exists(info->data_path));
  EXPECT_FALSE(fs::exists(info->meta_path));
  EXPECT_CODE(store_->Find(61, 0), kNotFound);
  EXPECT_TRUE(store_->Report().empty());
  EXPECT_EQ(store_->Storage().used(), 0u);
  EXPECT_CODE(store_->Delete(61), kNotFound);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_CODE(store_->Find(61, 0), kNotFound);
}

TEST_F(BlockStoreTest, ReopenFindsReplicasInEveryDataDirectory) {
  store_.reset();
  const std::vector<std::string> dirs = {dir_.Join("d1"), dir_.Join("d2")};
  auto s = BlockStore::Open(dirs);
  ASSERT_OK(s);
  store_ = std::move(*s);
  for (uint64_t id = 70; id < 76; ++id) ASSERT_OK(WriteReplica(MakeBlock(id), "x"));
  store_.reset();
  // Put the even ids in d1 and the odd ones in d2, wherever Create placed them.
  for (uint64_t id = 70; id < 76; ++id) {
    const std::string& to = dirs[id % 2];
    const std::string& from = dirs[1 - id % 2];
    for (const std::string& name :
         {"blk_" + std::to_string(id), "blk_" + std::to_string(id) + "_1001.meta"}) {
      if (fs::exists(from + "/current/" + name)) {
        fs::rename(from + "/current/" + name, to + "/current/" + name);
      }
    }
  }
  ASSERT_EQ(std::distance(fs::directory_iterator(dirs[0] + "/current"), {}), 6);
  s = BlockStore::Open(dirs);
  ASSERT_OK(s);
  EXPECT_EQ((*s)->Report().size(), 6u);
  for (uint64_t id = 70; id < 76; ++id) EXPECT_OK((*s)->Find(id, 0));
  EXPECT_TRUE(fs::exists(dirs[0] + "/VERSION"));
}

TEST_F(BlockStoreTest, KeptReplicaSurvivesARestartAndIsRecoveredWithANewStamp) {
  std::string data = Pattern(3000, 'k');
  {
    auto w = store_->Create(MakeBlock(95));
    ASSERT_OK(w);
    std::vector<uint32_t> crcs(ChunkCount(data.size()));
    ChunkCrcs(data.data(), data.size(), crcs.data());
    ASSERT_OK((*w)->Write(0, data.data(), data.size(), crcs.data(), crcs.size()));
    EXPECT_EQ((*w)->Keep().num_bytes, 3000u);
  }
  ASSERT_EQ(store_->ReportUnfinished().size(), 1u);
  EXPECT_TRUE(store_->Report().empty());
  EXPECT_CODE(store_->Create(MakeBlock(95)), kAlreadyExists);
  // A crash cut the last write short: the torn last chunk is dropped at restart.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  fs::resize_file(dir_.Join("data") + "/rbw/blk_95_1001", 2900);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  auto unfinished = store_->ReportUnfinished();
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].num_bytes(), 2560u);  // five whole chunks
  EXPECT_EQ(unfinished[0].generation_stamp(), 1001u);

  auto r = store_->Recover(95, 1005);
  ASSERT_OK(r);
  EXPECT_EQ(r->generation_stamp, 1005u);
  EXPECT_EQ(r->num_bytes, 2560u);
  EXPECT_TRUE(store_->ReportUnfinished().empty());
  EXPECT_CODE(store_->Find(95, 1006), kNotFound);
  auto info = store_->Find(95, 1005);
  ASSERT_OK(info);
  std::string back;
  std::vector<uint32_t> crcs;
  ASSERT_OK(ReadReplica(*info, 0, 2560, &back, &crcs));
  EXPECT_EQ(back, data.substr(0, 2560));
  // Recovering again with the same stamp is a no-op; a finalized replica is re-stamped.
  EXPECT_OK(store_->Recover(95, 1005));
  ASSERT_OK(store_->Recover(95, 1007));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_OK(store_->Find(95, 1007));
  EXPECT_CODE(store_->Recover(96, 1007), kNotFound);
  EXPECT_CODE(store_->Recover(95, 1003), kFailedPrecondition);
}

TEST_F(BlockStoreTest, ReplicaStillBeingWrittenIsNotRecovered) {
  auto w = store_->Create(MakeBlock(97));
  ASSERT_OK(w);
  EXPECT_CODE(store_->Recover(97, 1002), kUnavailable);
  // An unfinished replica can be deleted.
  (*w)->Keep();
  ASSERT_OK(store_->Delete(97));
  EXPECT_TRUE(store_->ReportUnfinished().empty());
  EXPECT_FALSE(fs::exists(dir_.Join("data") + "/rbw/blk_97_1001"));
}

// A data directory replaced by a plain file, as a dead disk whose mount point is empty.
void BreakVolume(const std::string& dir) {
  fs::rename(dir, dir + ".dead");
  std::ofstream(dir) << "not a directory";
}

TEST_F(BlockStoreTest, FailedVolumeIsTakenOutOfServiceAndItsReplicasReported) {
  store_.reset();
  const std::vector<std::string> dirs = {dir_.Join("v1"), dir_.Join("v2")};
  auto s = BlockStore::Open(dirs, 1);
  ASSERT_OK(s);
  store_ = std::move(*s);
  for (uint64_t id = 80; id < 86; ++id) ASSERT_OK(WriteReplica(MakeBlock(id), Pattern(700, 'v')));
  // Volumes take new replicas in turn.
  size_t in_v2 = std::distance(fs::directory_iterator(dirs[1] + "/current"), {});
  EXPECT_EQ(in_v2, 6u);  // three replicas, two files each
  auto none = store_->CheckVolumes();
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  BreakVolume(dirs[1]);
  auto lost = store_->CheckVolumes();
  ASSERT_OK(lost);
  EXPECT_EQ(lost->size(), 3u);
  EXPECT_EQ(store_->Report().size(), 3u);
  for (const auto& b : *lost) EXPECT_CODE(store_->Find(b.id(), 0), kNotFound);
  auto storage = store_->Storage();
  ASSERT_EQ(storage.failed_volumes_size(), 1);
  EXPECT_NE(storage.failed_volumes(0).find(dirs[1]), std::string::npos);
  // New replicas go to the volume left.
  for (uint64_t id = 90; id < 93; ++id) ASSERT_OK(WriteReplica(MakeBlock(id), "y"));
  EXPECT_EQ(store_->Report().size(), 6u);
  // A restart keeps the identity and counts the dead volume as failed.
  std::string uuid = store_->uuid();
  store_.reset();
  s = BlockStore::Open(dirs, 1);
  ASSERT_OK(s);
  EXPECT_EQ((*s)->uuid(), uuid);
  EXPECT_EQ((*s)->Storage().failed_volumes_size(), 1);
  // The last volume failing too is more than the store can take.
  BreakVolume(dirs[0]);
  EXPECT_CODE((*s)->CheckVolumes(), kInternal);
  EXPECT_CODE(BlockStore::Open(dirs, 1), kInternal);
}

TEST_F(BlockStoreTest, FailedVolumesBeyondTheToleratedNumberAreAnError) {
  BreakVolume(dir_.Join("data"));
  std::string other = dir_.Join("other");
  EXPECT_CODE(BlockStore::Open({other, dir_.Join("data")}, 0), kInternal);
  EXPECT_OK(BlockStore::Open({other, dir_.Join("data")}, 1));
}

TEST_F(BlockStoreTest, OpenWithoutDirectoriesIsRefused) {
  EXPECT_CODE(BlockStore::Open({}), kInvalidArgument);
}

}  // namespace
}  // namespace dfs
