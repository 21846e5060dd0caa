#include "namenode/datanode_manager.h"

#include "common/logging.h"

namespace dfs {

DatanodeState& DatanodeManager::Register(const proto::DatanodeId& id,
                                         const proto::StorageReport& storage) {
  DatanodeState& dn = nodes_[id.uuid()];
  dn.id = id;
  dn.id.set_rack(topology_.RackOf(id.host()));
  dn.storage = storage;
  dn.last_heartbeat_ms = clock_->NowMs();
  dn.live = true;
  dn.decommissioning = out_of_service_.count(id.uuid()) > 0;
  dn.scheduled_bytes = 0;
  dn.commands.clear();
  spdlog::info("datanode {} registered at {}:{} ({})", id.uuid(), id.host(), id.data_port(),
               dn.id.rack());
  return dn;
}

DatanodeState* DatanodeManager::Heartbeat(const std::string& uuid,
                                          const proto::StorageReport& storage,
                                          uint32_t active_transfers, int64_t interval_ms) {
  DatanodeState* dn = Find(uuid);
  if (!dn || !dn->live) return nullptr;
  dn->storage = storage;
  dn->active_transfers = active_transfers;
  dn->heartbeat_interval_ms = interval_ms;
  dn->last_heartbeat_ms = clock_->NowMs();
  return dn;
}

std::vector<DatanodeState*> DatanodeManager::CheckDead() {
  std::vector<DatanodeState*> dead;
  int64_t now = clock_->NowMs();
  for (auto& [uuid, dn] : nodes_) {
    if (dn.live && now - dn.last_heartbeat_ms > dead_after_ms_) {
      dn.live = false;
      dn.commands.clear();
      spdlog::warn("datanode {} ({}:{}) is dead: no heartbeat for {} ms", uuid, dn.id.host(),
                   dn.id.data_port(), now - dn.last_heartbeat_ms);
      dead.push_back(&dn);
    }
  }
  return dead;
}

void DatanodeManager::SetOutOfService(const std::set<std::string>& uuids) {
  out_of_service_ = uuids;
  for (auto& [uuid, dn] : nodes_) {
    bool out = uuids.count(uuid) > 0;
    if (out != dn.decommissioning) {
      spdlog::warn("datanode {} ({}:{}) {}", uuid, dn.id.host(), dn.id.data_port(),
                   out ? "is being decommissioned" : "is back in service");
    }
    dn.decommissioning = out;
    if (!out) dn.decommissioned = false;
  }
}

const char* DatanodeManager::AdminState(const DatanodeState& dn) {
  if (dn.decommissioned) return "decommissioned";
  return dn.decommissioning ? "decommissioning" : "in service";
}

DatanodeState* DatanodeManager::Find(const std::string& uuid) {
  auto it = nodes_.find(uuid);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<PlacementCandidate> DatanodeManager::LiveCandidates() const {
  std::vector<PlacementCandidate> out;
  for (const auto& [uuid, dn] : nodes_) {
    if (!dn.live || dn.decommissioning) continue;
    uint64_t remaining = dn.storage.remaining();
    remaining = remaining > dn.scheduled_bytes ? remaining - dn.scheduled_bytes : 0;
    out.push_back({uuid, dn.id.host(), dn.id.rack(), remaining,
                   dn.storage.used() + dn.scheduled_bytes, IsStale(dn)});
  }
  return out;
}

std::vector<proto::DatanodeCommand> DatanodeManager::TakeCommands(DatanodeState* dn,
                                                                  size_t max) {
  std::vector<proto::DatanodeCommand> out;
  while (!dn->commands.empty() && out.size() < max) {
    out.push_back(std::move(dn->commands.front()));
    dn->commands.pop_front();
  }
  return out;
}

}  // namespace dfs
