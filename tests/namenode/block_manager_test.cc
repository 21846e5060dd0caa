#include "namenode/block_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "namenode/datanode_manager.h"
#include "namenode/namespace.h"
#include "tests/common/status_assert.h"
#include "tests/namenode/namespace_ops.h"

namespace dfs {
namespace {

constexpr int64_t kDeadAfterMs = 10'000;

class BlockManagerTest : public ::testing::Test {
 protected:
  explicit BlockManagerTest(uint64_t sweep_per_pass = BlockManager::kSweepPerPass)
      : datanodes_(&clock_, kDeadAfterMs, Topology()), bm_(&ns_, &datanodes_, sweep_per_pass) {
    bm_.SetTracking(true);  // as on the leader
  }

  DatanodeState* AddDatanode(const std::string& uuid, uint64_t used = 0) {
    proto::DatanodeId id;
    id.set_uuid(uuid);
    id.set_host("host-" + uuid);
    id.set_data_port(9866);
    proto::StorageReport storage;
    storage.set_capacity(1ull << 40);
    storage.set_used(used);
    storage.set_remaining((1ull << 40) - used);
    return &datanodes_.Register(id, storage);
  }

  // Writes a closed file with one block per length; returns its blocks.
  std::vector<proto::Block> File(const std::string& path, std::vector<uint64_t> lengths,
                                 uint32_t replication) {
    Status error;
    auto blocks = WriteFile(&ns_, &ops_, path, lengths, replication, &error);
    EXPECT_OK(error);
    return blocks;
  }

  static std::set<std::string> Uuids(const std::vector<const DatanodeState*>& dns) {
    std::set<std::string> out;
    for (const auto* dn : dns) out.insert(dn->id.uuid());
    return out;
  }
  // Block ids of the delete commands queued for dn.
  static std::set<uint64_t> Deletes(const DatanodeState* dn) {
    std::set<uint64_t> ids;
    for (const auto& c : dn->commands) {
      if (!c.has_delete_()) continue;
      for (const auto& b : c.delete_().blocks()) ids.insert(b.id());
    }
    return ids;
  }
  static std::vector<proto::ReplicateCommand> Replicates(const DatanodeState* dn) {
    std::vector<proto::ReplicateCommand> out;
    for (const auto& c : dn->commands) {
      if (c.has_replicate()) out.push_back(c.replicate());
    }
    return out;
  }

  ManualClock clock_;
  Namespace ns_;
  OpBuilder ops_;
  DatanodeManager datanodes_;
  BlockManager bm_;
};

TEST_F(BlockManagerTest, BlockReportAddsLocations) {
  auto blocks = File("/f", {100, 200}, 3);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  bm_.ProcessFullReport(a, blocks);
  bm_.ProcessFullReport(b, {blocks[0]});
  EXPECT_EQ(Uuids(bm_.Locations(blocks[0].id())), (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(Uuids(bm_.Locations(blocks[1].id())), (std::set<std::string>{"a"}));
  EXPECT_EQ(bm_.GoodReplicas(blocks[0].id()), 2u);
  EXPECT_TRUE(a->commands.empty());
  EXPECT_EQ(a->blocks.size(), 2u);
}

TEST_F(BlockManagerTest, FullReportForgetsReplicasNoLongerReported) {
  auto blocks = File("/f", {100, 200}, 3);
  DatanodeState* a = AddDatanode("a");
  bm_.ProcessFullReport(a, blocks);
  bm_.ProcessFullReport(a, {blocks[1]});
  EXPECT_TRUE(bm_.Locations(blocks[0].id()).empty());
  EXPECT_EQ(bm_.GoodReplicas(blocks[1].id()), 1u);
  EXPECT_EQ(a->blocks.count(blocks[0].id()), 0u);
}

TEST_F(BlockManagerTest, UnknownBlockInAReportIsDeletedFromTheDatanode) {
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a");
  proto::Block orphan;
  orphan.set_id(blocks[0].id() - 1);  // an id allocated before, and no file has it now
  orphan.set_generation_stamp(1);
  bm_.ProcessFullReport(a, {blocks[0], orphan});
  EXPECT_EQ(Deletes(a), std::set<uint64_t>{orphan.id()});
  EXPECT_TRUE(bm_.Locations(orphan.id()).empty());
  EXPECT_EQ(a->blocks.count(orphan.id()), 0u);
  EXPECT_EQ(bm_.GoodReplicas(blocks[0].id()), 1u);
}

TEST_F(BlockManagerTest, ABlockFromAnEntryNotYetAppliedIsKept) {
  // A follower a little behind the leader hears of a replica before the entry that
  // allocated its block: the replica is kept, and counts once the block is known.
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a");
  proto::Block future;
  future.set_id(ns_.next_block_id());
  future.set_generation_stamp(1);
  bm_.BlockReceived(a, future);
  EXPECT_TRUE(Deletes(a).empty());
  EXPECT_EQ(a->blocks.count(future.id()), 1u);
}

TEST_F(BlockManagerTest, ReplicaWithAnOldGenerationStampIsDeleted) {
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a");
  proto::Block stale = blocks[0];
  stale.set_generation_stamp(blocks[0].generation_stamp() - 1);
  bm_.BlockReceived(a, stale);
  EXPECT_EQ(Deletes(a), std::set<uint64_t>{blocks[0].id()});
  EXPECT_TRUE(bm_.Locations(blocks[0].id()).empty());
}

TEST_F(BlockManagerTest, DeadDatanodeLosesItsReplicas) {
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  bm_.ProcessFullReport(a, blocks);
  bm_.ProcessFullReport(b, blocks);
  clock_.Advance(kDeadAfterMs / 2);
  ASSERT_NE(datanodes_.Heartbeat("b", b->storage, 0), nullptr);
  clock_.Advance(kDeadAfterMs / 2 + 1);
  auto dead = datanodes_.CheckDead();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0], a);
  bm_.DatanodeDead(a);
  EXPECT_EQ(Uuids(bm_.Locations(blocks[0].id())), std::set<std::string>{"b"});
  EXPECT_TRUE(a->blocks.empty());
  // Coming back is not enough to be a location again: the datanode must report.
  AddDatanode("a");
  EXPECT_EQ(Uuids(bm_.Locations(blocks[0].id())), std::set<std::string>{"b"});
  bm_.ProcessFullReport(a, blocks);
  EXPECT_EQ(bm_.GoodReplicas(blocks[0].id()), 2u);
}

TEST_F(BlockManagerTest, DatanodeSilentForAQuarterOfTheDeadIntervalAndThreeHeartbeatsIsStale) {
  AddDatanode("a");
  AddDatanode("b");
  clock_.Advance(kDeadAfterMs / 4);
  ASSERT_NE(datanodes_.Heartbeat("a", datanodes_.Find("a")->storage, 0), nullptr);
  auto stale = [&] {
    std::set<std::string> out;
    for (const auto& c : datanodes_.LiveCandidates()) {
      if (c.stale) out.insert(c.uuid);
    }
    return out;
  };
  EXPECT_EQ(stale(), std::set<std::string>{});
  clock_.Advance(1);
  EXPECT_EQ(stale(), std::set<std::string>{"b"});
  EXPECT_TRUE(datanodes_.IsStale(*datanodes_.Find("b")));
  EXPECT_FALSE(datanodes_.IsStale(*datanodes_.Find("a")));
  ASSERT_NE(datanodes_.Heartbeat("b", datanodes_.Find("b")->storage, 0), nullptr);
  EXPECT_EQ(stale(), std::set<std::string>{});
  // A datanode that heartbeats less often than that is stale only after missing three.
  ASSERT_NE(datanodes_.Heartbeat("b", datanodes_.Find("b")->storage, 0, kDeadAfterMs / 3),
            nullptr);
  clock_.Advance(kDeadAfterMs / 3 * 2);
  EXPECT_EQ(stale(), std::set<std::string>{"a"});
  clock_.Advance(kDeadAfterMs / 3 + 1);
  EXPECT_EQ(stale(), (std::set<std::string>{"a", "b"}));
}

TEST_F(BlockManagerTest, MarkCorruptHidesTheReplica) {
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  bm_.ProcessFullReport(a, blocks);
  bm_.ProcessFullReport(b, blocks);
  bm_.MarkCorrupt(blocks[0].id(), "a");
  EXPECT_EQ(Uuids(bm_.Locations(blocks[0].id())), std::set<std::string>{"b"});
  EXPECT_EQ(bm_.corrupt_replicas(), 1u);
  bm_.MarkCorrupt(blocks[0].id(), "nobody");  // not a holder: ignored
  bm_.MarkCorrupt(blocks[0].id() + 1, "b");   // unknown block: ignored
  EXPECT_EQ(bm_.corrupt_replicas(), 1u);
  EXPECT_EQ(bm_.GoodReplicas(blocks[0].id()), 1u);
}

TEST_F(BlockManagerTest, UnderReplicatedBlockGetsAReplicateCommandToNewDatanodes) {
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a");
  for (const char* u : {"b", "c", "d"}) AddDatanode(u);
  bm_.ProcessFullReport(a, blocks);
  bm_.ComputeReplicationWork(4);
  EXPECT_EQ(bm_.under_replicated(), 1u);
  auto reps = Replicates(a);
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].block().id(), blocks[0].id());
  ASSERT_EQ(reps[0].targets_size(), 2);
  std::set<std::string> targets;
  for (const auto& t : reps[0].targets()) targets.insert(t.uuid());
  EXPECT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets.count("a"), 0u);
  for (const auto& u : targets) EXPECT_GT(datanodes_.Find(u)->scheduled_bytes, 0u);
}

TEST_F(BlockManagerTest, ReplicasAreCopiedFromAFreshDatanodeRatherThanAStaleOne) {
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  for (const char* u : {"c", "d"}) AddDatanode(u);
  bm_.ProcessFullReport(a, blocks);
  bm_.ProcessFullReport(b, blocks);
  b->active_transfers = 3;  // busier: chosen last if both were fresh
  clock_.Advance(kDeadAfterMs / 4 + 1);
  for (const char* u : {"b", "c", "d"}) {
    ASSERT_NE(datanodes_.Heartbeat(u, datanodes_.Find(u)->storage, 3), nullptr);
  }
  ASSERT_TRUE(datanodes_.IsStale(*a));
  bm_.ComputeReplicationWork(4);
  EXPECT_TRUE(Replicates(a).empty());
  auto reps = Replicates(b);
  ASSERT_EQ(reps.size(), 1u);
  ASSERT_EQ(reps[0].targets_size(), 1);
  EXPECT_NE(reps[0].targets(0).uuid(), "a");
}

TEST_F(BlockManagerTest, PendingReplicationIsNotRequeuedUntilItTimesOut) {
  auto blocks = File("/f", {100}, 2);
  DatanodeState* a = AddDatanode("a");
  AddDatanode("b");
  bm_.ProcessFullReport(a, blocks);
  bm_.ComputeReplicationWork(4);
  ASSERT_EQ(Replicates(a).size(), 1u);
  bm_.ComputeReplicationWork(4);
  EXPECT_EQ(Replicates(a).size(), 1u);
  clock_.Advance(5 * 60'000);
  datanodes_.Heartbeat("a", a->storage, 0);
  datanodes_.Heartbeat("b", datanodes_.Find("b")->storage, 0);
  bm_.ComputeReplicationWork(4);
  EXPECT_EQ(Replicates(a).size(), 2u);
}

TEST_F(BlockManagerTest, ReplicationIsDoneOnceTheNewReplicaIsReported) {
  auto blocks = File("/f", {100}, 2);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  bm_.ProcessFullReport(a, blocks);
  bm_.ComputeReplicationWork(4);
  ASSERT_EQ(Replicates(a).size(), 1u);
  bm_.BlockReceived(b, blocks[0]);
  EXPECT_EQ(b->scheduled_bytes, 0u);
  bm_.ComputeReplicationWork(4);
  EXPECT_EQ(bm_.under_replicated(), 0u);
  EXPECT_EQ(Replicates(a).size(), 1u);
}

// scheduled_bytes counts "blocks placed here and not yet reported received"; a report of a
// replica the datanode already held was never scheduled, so it must not cancel a transfer.
TEST_F(BlockManagerTest, ReportOfAnAlreadyHeldReplicaKeepsScheduledBytes) {
  auto held = File("/held", {100}, 2);
  auto blocks = File("/f", {100}, 2);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  bm_.ProcessFullReport(a, {held[0], blocks[0]});
  bm_.ProcessFullReport(b, {held[0]});
  bm_.ComputeReplicationWork(4);
  ASSERT_EQ(Replicates(a).size(), 1u);
  const uint64_t scheduled = b->scheduled_bytes;
  ASSERT_GT(scheduled, 0u);
  bm_.ProcessFullReport(b, {held[0]});  // the periodic full report, transfer still running
  EXPECT_EQ(b->scheduled_bytes, scheduled);
}

TEST_F(BlockManagerTest, ReplicateCommandsPerSourceAreCapped) {
  auto blocks = File("/f", {100, 100, 100}, 2);
  DatanodeState* a = AddDatanode("a");
  AddDatanode("b");
  bm_.ProcessFullReport(a, blocks);
  bm_.ComputeReplicationWork(2);
  EXPECT_EQ(Replicates(a).size(), 2u);
  EXPECT_EQ(bm_.under_replicated(), 3u);
}

TEST_F(BlockManagerTest, ExcessReplicaIsDeletedFromTheFullestDatanode) {
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a", 1000);
  DatanodeState* b = AddDatanode("b", 9000);
  DatanodeState* c = AddDatanode("c", 5000);
  for (auto* dn : {a, b, c}) bm_.ProcessFullReport(dn, blocks);
  ASSERT_OK(ns_.Apply(ops_.SetReplication("/f", 2)).status);
  bm_.ComputeReplicationWork(4);
  EXPECT_EQ(Deletes(b), std::set<uint64_t>{blocks[0].id()});
  EXPECT_TRUE(a->commands.empty());
  EXPECT_TRUE(c->commands.empty());
  EXPECT_EQ(Uuids(bm_.Locations(blocks[0].id())), (std::set<std::string>{"a", "c"}));
}

TEST_F(BlockManagerTest, CorruptReplicaIsDeletedOnceEnoughGoodReplicasExist) {
  auto blocks = File("/f", {100}, 2);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  DatanodeState* c = AddDatanode("c");
  for (auto* dn : {a, b, c}) bm_.ProcessFullReport(dn, blocks);
  bm_.MarkCorrupt(blocks[0].id(), "c");
  bm_.ComputeReplicationWork(4);
  EXPECT_EQ(Deletes(c), std::set<uint64_t>{blocks[0].id()});
  EXPECT_TRUE(Deletes(a).empty());
  EXPECT_TRUE(Deletes(b).empty());
  EXPECT_EQ(bm_.corrupt_replicas(), 0u);
  EXPECT_EQ(bm_.GoodReplicas(blocks[0].id()), 2u);
}

TEST_F(BlockManagerTest, CorruptReplicaIsReplacedBeforeItIsDeleted) {
  auto blocks = File("/f", {100}, 2);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  DatanodeState* c = AddDatanode("c");
  bm_.ProcessFullReport(a, blocks);
  bm_.ProcessFullReport(b, blocks);
  bm_.MarkCorrupt(blocks[0].id(), "b");
  bm_.ComputeReplicationWork(4);
  auto reps = Replicates(a);
  ASSERT_EQ(reps.size(), 1u);
  ASSERT_EQ(reps[0].targets_size(), 1);
  EXPECT_EQ(reps[0].targets(0).uuid(), "c");
  EXPECT_TRUE(Deletes(b).empty());
  EXPECT_TRUE(c->commands.empty());
}

TEST_F(BlockManagerTest, BlockUnderConstructionIsNotReplicated) {
  ASSERT_OK(ns_.Apply(ops_.Create("/open", "c")).status);
  OpResult add = ns_.Apply(ops_.AddBlock("/open", "c"));
  ASSERT_OK(add.status);
  DatanodeState* a = AddDatanode("a");
  AddDatanode("b");
  bm_.BlockReceived(a, add.block);
  bm_.ComputeReplicationWork(4);
  EXPECT_TRUE(a->commands.empty());
  EXPECT_EQ(bm_.under_replicated(), 0u);
}

TEST_F(BlockManagerTest, RemovedBlocksAreDeletedFromEveryLiveHolder) {
  auto blocks = File("/f", {100}, 3);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  bm_.ProcessFullReport(a, blocks);
  bm_.ProcessFullReport(b, blocks);
  OpResult del = ns_.Apply(ops_.Delete("/f"));
  ASSERT_OK(del.status);
  bm_.RemoveBlocks(del.removed_blocks);
  EXPECT_EQ(Deletes(a), std::set<uint64_t>{blocks[0].id()});
  EXPECT_EQ(Deletes(b), std::set<uint64_t>{blocks[0].id()});
  EXPECT_TRUE(bm_.Locations(blocks[0].id()).empty());
  EXPECT_TRUE(a->blocks.empty());
}

}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

class BlockManagerMoreTest : public BlockManagerTest {};

TEST_F(BlockManagerMoreTest, DecommissioningReplicasDoNotCountAndTheNodeRetiresOnceCopied) {
  auto blocks = File("/f", {100}, 2);
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  DatanodeState* c = AddDatanode("c");
  bm_.ProcessFullReport(a, blocks);
  bm_.ProcessFullReport(b, blocks);
  datanodes_.SetOutOfService({"a"});
  EXPECT_EQ(DatanodeManager::AdminState(*a), std::string("decommissioning"));
  EXPECT_EQ(bm_.GoodReplicas(blocks[0].id()), 2u);       // a still serves reads...
  EXPECT_EQ(bm_.InServiceReplicas(blocks[0].id()), 1u);  // ...but does not count
  EXPECT_EQ(bm_.Locations(blocks[0].id()).back()->id.uuid(), "a");  // offered last
  bm_.ComputeReplicationWork(4);
  std::vector<proto::ReplicateCommand> reps = Replicates(a);
  auto rb = Replicates(b);
  reps.insert(reps.end(), rb.begin(), rb.end());
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].targets(0).uuid(), "c");
  EXPECT_FALSE(a->decommissioned);
  bm_.BlockReceived(c, blocks[0]);
  bm_.ComputeReplicationWork(4);
  EXPECT_TRUE(a->decommissioned);
  EXPECT_TRUE(Deletes(a).empty());  // its replica stays until the operator is done
  // No new block goes to it.
  for (const auto& cand : datanodes_.LiveCandidates()) EXPECT_NE(cand.uuid, "a");
  datanodes_.SetOutOfService({});
  EXPECT_EQ(DatanodeManager::AdminState(*a), std::string("in service"));
  bm_.ComputeReplicationWork(4);  // three replicas for two: one excess goes
  EXPECT_EQ(bm_.GoodReplicas(blocks[0].id()), 2u);
}

TEST_F(BlockManagerMoreTest, BlocksOfFilesBeingReadAreCopiedFirst) {
  auto cold = File("/cold", {100}, 2);
  auto hot = File("/hot", {100}, 2);
  DatanodeState* a = AddDatanode("a");
  AddDatanode("b");
  bm_.ProcessFullReport(a, {cold[0], hot[0]});
  bm_.NoteRead(ns_.FileOfBlock(hot[0].id()));
  bm_.ComputeReplicationWork(1);  // room for one copy: the block being read
  auto reps = Replicates(a);
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].block().id(), hot[0].id());
}

TEST_F(BlockManagerMoreTest, UnfinishedReplicasAreKeptOnlyForTheLastBlockOfAnOpenFile) {
  ASSERT_OK(ns_.Apply(ops_.Create("/open", "c")).status);
  OpResult add = ns_.Apply(ops_.AddBlock("/open", "c"));
  ASSERT_OK(add.status);
  auto closed = File("/closed", {100}, 2);
  DatanodeState* a = AddDatanode("a");
  proto::Block held = add.block;
  held.set_num_bytes(700);
  bm_.ReplicaUnfinished(a, held);
  EXPECT_EQ(bm_.Unfinished(held.id()).at("a"), 700u);
  EXPECT_TRUE(Deletes(a).empty());
  bm_.ReplicaUnfinished(a, closed[0]);  // not being written: deleted
  EXPECT_EQ(Deletes(a), std::set<uint64_t>{closed[0].id()});
  // The file is closed with this block: what is still unfinished is deleted.
  bm_.FileClosed(add.block);
  EXPECT_EQ(Deletes(a), (std::set<uint64_t>{closed[0].id(), held.id()}));
  EXPECT_TRUE(bm_.Unfinished(held.id()).empty());
}

}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

// A pass looks at what changed, not at the whole namespace: here the sweep looks at one
// block id per pass.
class ReplicationPassTest : public BlockManagerTest {
 protected:
  ReplicationPassTest() : BlockManagerTest(1) {}
};

TEST_F(ReplicationPassTest, APassLooksAtChangedBlocksAndTheSweepCoversTheRest) {
  std::vector<proto::Block> blocks;
  for (int i = 0; i < 20; ++i) {
    auto b = File("/f" + std::to_string(i), {100}, 2);
    blocks.push_back(b[0]);
  }
  DatanodeState* a = AddDatanode("a");
  DatanodeState* b = AddDatanode("b");
  AddDatanode("c");
  for (auto* dn : {a, b}) bm_.ProcessFullReport(dn, blocks);
  bm_.ComputeReplicationWork(100);  // the first pass as leader looks at every block
  EXPECT_EQ(bm_.last_pass_blocks(), 20u);
  EXPECT_EQ(bm_.under_replicated(), 0u);
  bm_.ComputeReplicationWork(100);  // nothing changed: one block id of the sweep
  EXPECT_EQ(bm_.last_pass_blocks(), 1u);

  // A lost replica is looked at in the next pass.
  bm_.BlockDeleted(b, blocks[7].id());
  bm_.ComputeReplicationWork(100);
  EXPECT_LE(bm_.last_pass_blocks(), 2u);
  EXPECT_EQ(bm_.under_replicated(), 1u);
  ASSERT_EQ(Replicates(a).size(), 1u);
  EXPECT_EQ(Replicates(a)[0].block().id(), blocks[7].id());
  // It stays in view until it has its replicas again.
  bm_.ComputeReplicationWork(100);
  EXPECT_EQ(bm_.under_replicated(), 1u);
  bm_.BlockReceived(datanodes_.Find("c"), blocks[7]);
  bm_.ComputeReplicationWork(100);
  EXPECT_EQ(bm_.under_replicated(), 0u);

  // A change nothing reported (the replication factor raised behind the manager's back)
  // is found by the sweep within a round of it.
  ASSERT_OK(ns_.Apply(ops_.SetReplication("/f3", 3)).status);
  for (int pass = 0; pass < 21 && Replicates(a).size() + Replicates(b).size() < 2; ++pass) {
    bm_.ComputeReplicationWork(100);
  }
  auto all = Replicates(a);
  for (const auto& r : Replicates(b)) all.push_back(r);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.back().block().id(), blocks[3].id());
}

TEST_F(ReplicationPassTest, ANewReplicationFactorIsLookedAtInTheNextPass) {
  auto blocks = File("/f", {100, 100}, 3);
  DatanodeState* a = AddDatanode("a", 1000);
  DatanodeState* b = AddDatanode("b", 9000);
  DatanodeState* c = AddDatanode("c", 5000);
  for (auto* dn : {a, b, c}) bm_.ProcessFullReport(dn, blocks);
  bm_.ComputeReplicationWork(4);
  ASSERT_OK(ns_.Apply(ops_.SetReplication("/f", 2)).status);
  bm_.FileChanged(*ns_.GetFile("/f").value());
  bm_.ComputeReplicationWork(4);
  EXPECT_EQ(Deletes(b), (std::set<uint64_t>{blocks[0].id(), blocks[1].id()}));
}

TEST_F(ReplicationPassTest, AFollowerTracksNothingAndLooksAtEverythingOnceItLeads) {
  auto blocks = File("/f", {100, 100, 100}, 2);
  DatanodeState* a = AddDatanode("a");
  AddDatanode("b");
  bm_.SetTracking(false);
  bm_.ProcessFullReport(a, blocks);
  bm_.SetTracking(true);
  bm_.ComputeReplicationWork(100);
  EXPECT_EQ(bm_.last_pass_blocks(), 3u);
  EXPECT_EQ(bm_.under_replicated(), 3u);
  EXPECT_EQ(Replicates(a).size(), 3u);
}

TEST_F(ReplicationPassTest, ABlockLeftShortByItsPipelineIsLookedAtOnceTheNextOneStarts) {
  for (int i = 0; i < 20; ++i) File("/other" + std::to_string(i), {100}, 2);  // sweep fodder
  DatanodeState* a = AddDatanode("a");
  AddDatanode("b");
  ASSERT_OK(ns_.Apply(ops_.Create("/f", "w", false, false, 2)).status);
  OpResult first = ns_.Apply(ops_.AddBlock("/f", "w"));
  ASSERT_OK(first.status);
  proto::Block b = first.block;
  b.set_num_bytes(100);
  bm_.BlockReceived(a, b);  // the pipeline lost its second datanode
  bm_.ComputeReplicationWork(100);  // the block being written is the client's business
  bm_.ComputeReplicationWork(100);
  EXPECT_TRUE(Replicates(a).empty());
  ASSERT_OK(ns_.Apply(ops_.AddBlock("/f", "w", b)).status);
  bm_.BlockCompleted(b.id());  // as the namenode does when it applies the add_block
  bm_.ComputeReplicationWork(100);
  ASSERT_EQ(Replicates(a).size(), 1u);
  EXPECT_EQ(Replicates(a)[0].block().id(), b.id());
}

}  // namespace
}  // namespace dfs
