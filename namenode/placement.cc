#include "namenode/placement.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace dfs {

std::vector<std::string> ChooseTargets(const std::vector<PlacementCandidate>& candidates,
                                       size_t n, uint64_t block_size,
                                       const std::string& writer_host,
                                       const std::set<std::string>& excluded) {
  std::vector<const PlacementCandidate*> pool, stale;
  for (const auto& c : candidates) {
    if (!excluded.count(c.uuid) && c.remaining >= block_size) {
      (c.stale ? stale : pool).push_back(&c);
    }
  }
  auto least_loaded = [](const auto* a, const auto* b) {
    return a->load != b->load ? a->load < b->load : a->uuid < b->uuid;
  };
  std::sort(pool.begin(), pool.end(), least_loaded);
  std::sort(stale.begin(), stale.end(), least_loaded);
  std::set<std::string> racks;
  for (const auto* c : pool) racks.insert(c->rack);
  const bool rack_aware = racks.size() > 1;

  std::vector<const PlacementCandidate*> chosen;
  auto taken = [&](const PlacementCandidate* c) {
    return std::find(chosen.begin(), chosen.end(), c) != chosen.end();
  };
  auto pick = [&](auto&& pred) {
    for (const auto* c : pool) {
      if (!taken(c) && pred(*c)) {
        chosen.push_back(c);
        return true;
      }
    }
    return false;
  };
  auto any = [](const PlacementCandidate&) { return true; };
  while (chosen.size() < n && chosen.size() < pool.size()) {
    bool ok = false;
    if (chosen.empty()) {
      ok = pick([&](const PlacementCandidate& c) { return c.host == writer_host; });
    } else if (rack_aware && chosen.size() == 1) {
      ok = pick([&](const PlacementCandidate& c) { return c.rack != chosen[0]->rack; });
    } else if (rack_aware && chosen.size() == 2) {
      ok = pick([&](const PlacementCandidate& c) { return c.rack == chosen[1]->rack; });
    }
    if (!ok) pick(any);
  }
  for (size_t i = 0; i < stale.size() && chosen.size() < n; ++i) chosen.push_back(stale[i]);
  std::vector<std::string> out;
  for (const auto* c : chosen) out.push_back(c->uuid);
  return out;
}

Result<Topology> Topology::Load(const std::string& path) {
  std::ifstream f(path);
  if (!f) return NotFound("cannot read topology file " + path);
  Topology t;
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    line = line.substr(0, line.find('#'));
    std::istringstream in(line);
    std::string host, rack;
    if (!(in >> host)) continue;
    if (!(in >> rack) || rack[0] != '/') {
      return InvalidArgument(path + ":" + std::to_string(lineno) +
                             ": expected 'host /rack-name'");
    }
    t.racks_[host] = rack;
  }
  return t;
}

std::string Topology::RackOf(const std::string& host) const {
  auto it = racks_.find(host);
  return it == racks_.end() ? "/default-rack" : it->second;
}

}  // namespace dfs
