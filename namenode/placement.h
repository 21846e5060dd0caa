// Block placement: which datanodes receive a new block's replicas. Pure: takes the
// candidates and returns a choice, so it is tested without a cluster.
//
// Policy (HDFS's default, simplified): every target on a distinct datanode; the first on
// the writer's own host when it runs a datanode; with racks, the second on another rack
// than the first and the third on the second's rack; otherwise least-used first, where
// "used" counts bytes stored plus bytes already scheduled to arrive. Stale datanodes (silent
// for a while, probably dead: HDFS's "avoid stale datanodes for write") are chosen only
// when the others do not suffice.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace dfs {

struct PlacementCandidate {
  std::string uuid;
  std::string host;
  std::string rack;
  uint64_t remaining = 0;  // free bytes
  uint64_t load = 0;       // bytes used + scheduled
  bool stale = false;      // no heartbeat for a while
};

// Returns up to n distinct uuids (fewer if there are not enough candidates with room for
// block_size bytes). excluded uuids are never chosen.
std::vector<std::string> ChooseTargets(const std::vector<PlacementCandidate>& candidates,
                                       size_t n, uint64_t block_size,
                                       const std::string& writer_host,
                                       const std::set<std::string>& excluded);

// Host-to-rack map read from a topology file of "host rack" lines ('#' comments).
class Topology {
 public:
  static Result<Topology> Load(const std::string& path);
  // "/default-rack" for hosts the file does not name.
  std::string RackOf(const std::string& host) const;

 private:
  std::map<std::string, std::string> racks_;
};

}  // namespace dfs
