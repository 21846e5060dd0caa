#include "namenode/fsck.h"

#include <set>

namespace dfs {

Result<proto::FsckResponse> Fsck(const Namespace& ns, const BlockManager& blocks,
                                 const std::string& path, bool list_files, size_t max_entries) {
  proto::FsckResponse r;
  Status s = ns.Walk(path, [&](const std::string& p, const Inode& inode) {
    if (inode.is_dir) {
      r.set_directories(r.directories() + 1);
      return;
    }
    r.set_files(r.files() + 1);
    r.set_total_bytes(r.total_bytes() + inode.Length());
    proto::FsckFile f;
    f.set_path(p);
    f.set_length(inode.Length());
    f.set_replication(inode.replication);
    f.set_under_construction(!inode.lease_holder.empty());
    bool healthy = true, degraded = false;
    for (const proto::Block& b : inode.blocks) {
      // The block being written has no finalized replicas yet: not counted.
      if (inode.BeingWritten(b.id())) continue;
      r.set_blocks(r.blocks() + 1);
      auto good = blocks.Locations(b.id());
      proto::FsckBlock* fb = f.add_blocks();
      *fb->mutable_block() = b;
      fb->set_good_replicas(static_cast<uint32_t>(good.size()));
      fb->set_corrupt_replicas(static_cast<uint32_t>(blocks.CorruptReplicas(b.id())));
      std::set<std::string> racks;
      for (const auto* dn : good) {
        *fb->add_locations() = dn->id;
        racks.insert(dn->id.rack());
      }
      if (good.empty()) {
        r.set_missing(r.missing() + 1);
        healthy = false;
      } else if (blocks.InServiceReplicas(b.id()) < inode.replication) {
        r.set_under_replicated(r.under_replicated() + 1);
        degraded = true;
      }
      if (fb->corrupt_replicas() > 0) {
        r.set_corrupt(r.corrupt() + 1);
        degraded = true;
      }
      bool any_racks = racks.size() > 1 || (racks.size() == 1 && *racks.begin() != "/default-rack");
      if (any_racks && good.size() > 1 && racks.size() == 1) {
        fb->set_mis_replicated(true);
        r.set_mis_replicated(r.mis_replicated() + 1);
        degraded = true;
      }
    }
    f.set_healthy(healthy);
    if (list_files || !healthy || degraded) {
      if (static_cast<size_t>(r.entries_size()) < max_entries) {
        *r.add_entries() = std::move(f);
      } else {
        r.set_truncated(true);
      }
    }
  });
  if (!s.ok()) return s;
  return r;
}

}  // namespace dfs
