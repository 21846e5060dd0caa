#include "namenode/block_manager.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "common/logging.h"

namespace dfs {

namespace {
constexpr int64_t kReplicationTimeoutMs = 60'000;
}

void BlockManager::AddReplica(uint64_t block_id, DatanodeState* dn) {
  auto& r = blocks_[block_id];
  if (std::find(r.holders.begin(), r.holders.end(), dn->id.uuid()) == r.holders.end()) {
    r.holders.push_back(dn->id.uuid());
    r.replication_pending_until_ms = 0;
    Suspect(block_id);
  }
  dn->blocks.insert(block_id);
}

void BlockManager::RemoveReplica(uint64_t block_id, DatanodeState* dn) {
  dn->blocks.erase(block_id);
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return;
  Suspect(block_id);
  auto& h = it->second.holders;
  h.erase(std::remove(h.begin(), h.end(), dn->id.uuid()), h.end());
  it->second.corrupt.erase(dn->id.uuid());
  it->second.lengths.erase(dn->id.uuid());
  if (h.empty() && it->second.corrupt.empty() && it->second.unfinished.empty() &&
      !ns_->FileOfBlock(block_id)) {
    blocks_.erase(it);
  }
}

void BlockManager::QueueDelete(DatanodeState* dn, const proto::Block& block) {
  proto::DatanodeCommand cmd;
  *cmd.mutable_delete_()->add_blocks() = block;
  dn->commands.push_back(std::move(cmd));
}

void BlockManager::ProcessFullReport(DatanodeState* dn, const std::vector<proto::Block>& blocks) {
  std::unordered_set<uint64_t> reported;
  for (const auto& b : blocks) {
    reported.insert(b.id());
    BlockReceived(dn, b);
  }
  ForgetUnreported(dn, reported);
}

void BlockManager::ForgetUnreported(DatanodeState* dn,
                                    const std::unordered_set<uint64_t>& reported) {
  std::vector<uint64_t> gone;
  for (uint64_t id : dn->blocks) {
    if (!reported.count(id)) gone.push_back(id);
  }
  for (uint64_t id : gone) RemoveReplica(id, dn);
}

void BlockManager::BlockReceived(DatanodeState* dn, const proto::Block& block) {
  const proto::Block* known = ns_->GetBlock(block.id());
  // A block allocated by an operation this replica has not applied yet (a follower a
  // little behind the leader) is kept: it is about to be known.
  bool future = !known && block.id() >= ns_->next_block_id();
  if (!future && (!known || block.generation_stamp() < known->generation_stamp())) {
    // Orphaned (its file was deleted) or stale (fenced by a newer generation stamp).
    RemoveReplica(block.id(), dn);
    QueueDelete(dn, block);
    return;
  }
  bool already_held = dn->blocks.count(block.id()) > 0;
  AddReplica(block.id(), dn);
  Replicas& r = blocks_[block.id()];
  r.lengths[dn->id.uuid()] = block.num_bytes();
  r.unfinished.erase(dn->id.uuid());
  if (already_held) return;
  const Inode* file = ns_->GetInode(ns_->FileOfBlock(block.id()));
  uint64_t expected = file ? file->block_size : 0;
  dn->scheduled_bytes = dn->scheduled_bytes > expected ? dn->scheduled_bytes - expected : 0;
}

void BlockManager::BlockDeleted(DatanodeState* dn, uint64_t block_id) {
  RemoveReplica(block_id, dn);
  auto it = blocks_.find(block_id);
  if (it != blocks_.end()) it->second.unfinished.erase(dn->id.uuid());
}

void BlockManager::ReplicaUnfinished(DatanodeState* dn, const proto::Block& block) {
  const proto::Block* known = ns_->GetBlock(block.id());
  bool future = !known && block.id() >= ns_->next_block_id();
  const Inode* f = known ? ns_->GetInode(ns_->FileOfBlock(block.id())) : nullptr;
  bool last_of_open = f && f->BeingWritten(block.id()) &&
                      block.generation_stamp() <= known->generation_stamp();
  if (!future && !last_of_open) {
    QueueDelete(dn, block);
    return;
  }
  blocks_[block.id()].unfinished[dn->id.uuid()] = block.num_bytes();
}

void BlockManager::FileClosed(const proto::Block& last) {
  Suspect(last.id());
  auto it = blocks_.find(last.id());
  if (it == blocks_.end() || it->second.unfinished.empty()) return;
  // What is still unfinished was left behind with an older stamp by a pipeline that broke.
  proto::Block stale = last;
  stale.set_generation_stamp(last.generation_stamp() - 1);
  for (const auto& [uuid, bytes] : it->second.unfinished) {
    DatanodeState* dn = datanodes_->Find(uuid);
    if (dn && dn->live) QueueDelete(dn, stale);
  }
  it->second.unfinished.clear();
}

std::map<std::string, uint64_t> BlockManager::Unfinished(uint64_t block_id) const {
  std::map<std::string, uint64_t> out;
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return out;
  for (const auto& [uuid, bytes] : it->second.unfinished) {
    const DatanodeState* dn = datanodes_->Find(uuid);
    if (dn && dn->live) out[uuid] = bytes;
  }
  return out;
}

bool BlockManager::AnyUnfinished(uint64_t block_id) const {
  auto it = blocks_.find(block_id);
  return it != blocks_.end() && !it->second.unfinished.empty();
}

void BlockManager::NoteRead(uint64_t file_id) {
  std::lock_guard<std::mutex> l(read_mu_);
  last_read_ms_[file_id] = datanodes_->NowMs();
}

void BlockManager::ForgetReplicas(uint64_t block_id) {
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return;
  for (const auto& uuid : it->second.holders) {
    if (DatanodeState* dn = datanodes_->Find(uuid)) dn->blocks.erase(block_id);
  }
  it->second.holders.clear();
  it->second.corrupt.clear();
  it->second.lengths.clear();
  Suspect(block_id);
}

void BlockManager::SetTracking(bool on) {
  if (on && !tracking_) RecheckAll();
  tracking_ = on;
  if (!on) suspects_.clear();
}

void BlockManager::FileChanged(const Inode& file) {
  for (const auto& b : file.blocks) Suspect(b.id());
}

std::map<std::string, uint64_t> BlockManager::ReplicaLengths(uint64_t block_id) const {
  std::map<std::string, uint64_t> out;
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return out;
  for (const DatanodeState* dn : Locations(block_id)) {
    auto l = it->second.lengths.find(dn->id.uuid());
    if (l != it->second.lengths.end()) out[dn->id.uuid()] = l->second;
  }
  return out;
}

void BlockManager::MarkCorrupt(uint64_t block_id, const std::string& uuid) {
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return;
  auto& h = it->second.holders;
  if (std::find(h.begin(), h.end(), uuid) == h.end()) return;
  spdlog::warn("replica of block {} on datanode {} is corrupt", block_id, uuid);
  it->second.corrupt.insert(uuid);
  Suspect(block_id);
}

void BlockManager::DatanodeDead(DatanodeState* dn) {
  std::vector<uint64_t> ids(dn->blocks.begin(), dn->blocks.end());
  for (uint64_t id : ids) RemoveReplica(id, dn);
}

void BlockManager::RemoveBlocks(const std::vector<proto::Block>& blocks) {
  for (const auto& b : blocks) {
    auto it = blocks_.find(b.id());
    if (it == blocks_.end()) continue;
    for (const auto& uuid : it->second.holders) {
      if (DatanodeState* dn = datanodes_->Find(uuid)) {
        dn->blocks.erase(b.id());
        if (dn->live) QueueDelete(dn, b);
      }
    }
    for (const auto& [uuid, bytes] : it->second.unfinished) {
      DatanodeState* dn = datanodes_->Find(uuid);
      if (dn && dn->live) QueueDelete(dn, b);
    }
    blocks_.erase(it);
  }
}

std::vector<const DatanodeState*> BlockManager::Locations(uint64_t block_id) const {
  std::vector<const DatanodeState*> out;
  auto it = blocks_.find(block_id);
  if (it == blocks_.end()) return out;
  for (const auto& uuid : it->second.holders) {
    if (it->second.corrupt.count(uuid)) continue;
    const DatanodeState* dn = datanodes_->Find(uuid);
    if (dn && dn->live) out.push_back(dn);
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const DatanodeState* dn) { return !dn->decommissioning; });
  return out;
}

size_t BlockManager::GoodReplicas(uint64_t block_id) const { return Locations(block_id).size(); }

size_t BlockManager::InServiceReplicas(uint64_t block_id) const {
  auto locs = Locations(block_id);
  return std::count_if(locs.begin(), locs.end(),
                       [](const DatanodeState* dn) { return !dn->decommissioning; });
}

size_t BlockManager::CorruptReplicas(uint64_t block_id) const {
  auto it = blocks_.find(block_id);
  return it == blocks_.end() ? 0 : it->second.corrupt.size();
}

uint64_t BlockManager::corrupt_replicas() const {
  uint64_t n = 0;
  for (const auto& [id, r] : blocks_) n += r.corrupt.size();
  return n;
}

void BlockManager::ComputeReplicationWork(size_t max_per_node) {
  struct Need {
    size_t good;
    const Inode* file;
    const proto::Block* block;
  };
  std::vector<Need> needs;
  int64_t now = datanodes_->NowMs();
  std::vector<uint64_t> candidates;
  if (recheck_all_) {
    ns_->ForEachFile([&](const Inode& f) {
      for (const auto& b : f.blocks) candidates.push_back(b.id());
    });
    recheck_all_ = false;
  } else {
    candidates.assign(suspects_.begin(), suspects_.end());
    const uint64_t end = ns_->next_block_id();
    if (sweep_next_ < Namespace::kFirstBlockId || sweep_next_ >= end) {
      sweep_next_ = Namespace::kFirstBlockId;
    }
    for (uint64_t n = 0; n < sweep_per_pass_ && sweep_next_ < end; ++n, ++sweep_next_) {
      if (ns_->FileOfBlock(sweep_next_) != 0 && !suspects_.count(sweep_next_)) {
        candidates.push_back(sweep_next_);
      }
    }
  }
  last_pass_blocks_ = candidates.size();
  under_replicated_ = 0;
  for (uint64_t id : candidates) {
    const Inode* f = ns_->GetInode(ns_->FileOfBlock(id));
    // Gone, or the block being written (the client's pipeline's business; looked at
    // again when the file is closed).
    if (!f || f->BeingWritten(id)) {
      suspects_.erase(id);
      continue;
    }
    const proto::Block* b = ns_->GetBlock(id);
    size_t good = InServiceReplicas(id);
    if (good < f->replication) ++under_replicated_;
    auto it = blocks_.find(id);
    if (good != f->replication || (it != blocks_.end() && !it->second.corrupt.empty())) {
      needs.push_back({good, f, b});
      suspects_.insert(id);  // until it has what it needs
    } else {
      suspects_.erase(id);
    }
  }
  // Fewest replicas first; among equals, blocks of files being read.
  std::unordered_set<uint64_t> being_read;
  {
    std::lock_guard<std::mutex> l(read_mu_);
    for (auto it = last_read_ms_.begin(); it != last_read_ms_.end();) {
      if (now - it->second > 60'000) {
        it = last_read_ms_.erase(it);
      } else {
        being_read.insert(it->first);
        ++it;
      }
    }
  }
  std::stable_sort(needs.begin(), needs.end(), [&](const Need& a, const Need& b) {
    return std::make_pair(a.good, !being_read.count(a.file->id)) <
           std::make_pair(b.good, !being_read.count(b.file->id));
  });
  std::unordered_map<std::string, size_t> started;
  for (const Need& n : needs) {
    Replicas& r = blocks_[n.block->id()];
    auto good = Locations(n.block->id());
    if (n.good >= n.file->replication) {
      // Replicas on datanodes being decommissioned stay until the operator is done.
      good.resize(n.good);
      // Enough good replicas: drop corrupt ones, then the excess on the fullest datanodes.
      std::set<std::string> corrupt = r.corrupt;
      for (const auto& uuid : corrupt) {
        DatanodeState* dn = datanodes_->Find(uuid);
        if (!dn) continue;
        if (dn->live) QueueDelete(dn, *n.block);
        RemoveReplica(n.block->id(), dn);
      }
      // Excess: from a rack holding more than one replica (the spread across racks stays),
      // the fullest datanode first.
      while (good.size() > n.file->replication) {
        std::map<std::string, size_t> per_rack;
        for (const auto* dn : good) ++per_rack[dn->id.rack()];
        auto victim = std::max_element(good.begin(), good.end(), [&](const auto* a, const auto* b) {
          return std::make_pair(per_rack[a->id.rack()], a->storage.used()) <
                 std::make_pair(per_rack[b->id.rack()], b->storage.used());
        });
        DatanodeState* dn = datanodes_->Find((*victim)->id.uuid());
        good.erase(victim);
        QueueDelete(dn, *n.block);
        RemoveReplica(n.block->id(), dn);
      }
      continue;
    }
    if (good.empty() || r.replication_pending_until_ms > now) continue;
    // The source: a fresh replica before a stale one (its datanode is probably dead and
    // would never carry the command out), then the least busy.
    std::sort(good.begin(), good.end(), [&](const auto* a, const auto* b) {
      return std::make_pair(datanodes_->IsStale(*a), a->active_transfers) <
             std::make_pair(datanodes_->IsStale(*b), b->active_transfers);
    });
    DatanodeState* source = datanodes_->Find(good[0]->id.uuid());
    if (started[source->id.uuid()] >= max_per_node) continue;
    std::set<std::string> excluded(r.holders.begin(), r.holders.end());
    excluded.insert(r.corrupt.begin(), r.corrupt.end());
    auto targets = ChooseTargets(datanodes_->LiveCandidates(), n.file->replication - n.good,
                                 n.file->block_size, "", excluded);
    if (targets.empty()) continue;
    proto::DatanodeCommand cmd;
    auto* rep = cmd.mutable_replicate();
    *rep->mutable_block() = *n.block;
    for (const auto& uuid : targets) {
      DatanodeState* t = datanodes_->Find(uuid);
      *rep->add_targets() = t->id;
      t->scheduled_bytes += n.file->block_size;
    }
    source->commands.push_back(std::move(cmd));
    ++started[source->id.uuid()];
    r.replication_pending_until_ms = now + kReplicationTimeoutMs;
  }
  UpdateDecommissioned();
}

void BlockManager::UpdateDecommissioned() {
  for (const auto& [uuid, node] : datanodes_->all()) {
    if (!node.decommissioning || node.decommissioned || !node.live) continue;
    bool done = true;
    for (uint64_t id : node.blocks) {
      const Inode* f = ns_->GetInode(ns_->FileOfBlock(id));
      if (!f) continue;
      if (f->BeingWritten(id) || InServiceReplicas(id) < f->replication) {
        done = false;
        break;
      }
    }
    if (done) {
      DatanodeState* dn = datanodes_->Find(uuid);
      dn->decommissioned = true;
      spdlog::warn("datanode {} ({}:{}) is decommissioned: every block it holds has enough "
                   "replicas elsewhere", uuid, dn->id.host(), dn->id.data_port());
    }
  }
}

}  // namespace dfs
