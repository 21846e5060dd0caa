// Builders for namespace log entries (proto::Op) and a whole-tree dump, shared by the
// namenode unit tests. Each builder stamps the op with a time that grows by one per op,
// so a change to any mtime shows up in a dump.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "namenode/namespace.h"

namespace dfs {

class OpBuilder {
 public:
  proto::Op Mkdirs(const std::string& path, bool create_parent = true) {
    proto::Op op = Stamp();
    op.mutable_mkdirs()->set_path(path);
    op.mutable_mkdirs()->set_create_parent(create_parent);
    return op;
  }
  proto::Op Create(const std::string& path, const std::string& client = "client-1",
                   bool overwrite = false, bool create_parent = false, uint32_t replication = 3,
                   uint64_t block_size = 1 << 20) {
    proto::Op op = Stamp();
    auto* c = op.mutable_create();
    c->set_path(path);
    c->set_client_name(client);
    c->set_overwrite(overwrite);
    c->set_create_parent(create_parent);
    c->set_replication(replication);
    c->set_block_size(block_size);
    return op;
  }
  proto::Op Append(const std::string& path, const std::string& client = "client-1") {
    proto::Op op = Stamp();
    op.mutable_append()->set_path(path);
    op.mutable_append()->set_client_name(client);
    return op;
  }
  proto::Op AddBlock(const std::string& path, const std::string& client = "client-1",
                     std::optional<proto::Block> previous = std::nullopt) {
    proto::Op op = Stamp();
    op.mutable_add_block()->set_path(path);
    op.mutable_add_block()->set_client_name(client);
    if (previous) *op.mutable_add_block()->mutable_previous() = *previous;
    return op;
  }
  proto::Op AbandonBlock(const std::string& path, const proto::Block& block,
                         const std::string& client = "client-1") {
    proto::Op op = Stamp();
    op.mutable_abandon_block()->set_path(path);
    op.mutable_abandon_block()->set_client_name(client);
    *op.mutable_abandon_block()->mutable_block() = block;
    return op;
  }
  proto::Op Complete(const std::string& path, const std::string& client = "client-1",
                     std::optional<proto::Block> last = std::nullopt) {
    proto::Op op = Stamp();
    op.mutable_complete()->set_path(path);
    op.mutable_complete()->set_client_name(client);
    if (last) *op.mutable_complete()->mutable_last() = *last;
    return op;
  }
  // overwrite: POSIX rename (dst is the new name and may be replaced), else HDFS rename.
  proto::Op Rename(const std::string& src, const std::string& dst, bool overwrite = false) {
    proto::Op op = Stamp();
    op.mutable_rename()->set_src(src);
    op.mutable_rename()->set_dst(dst);
    op.mutable_rename()->set_overwrite(overwrite);
    return op;
  }
  proto::Op Delete(const std::string& path, bool recursive = false) {
    proto::Op op = Stamp();
    op.mutable_delete_()->set_path(path);
    op.mutable_delete_()->set_recursive(recursive);
    return op;
  }
  proto::Op SetReplication(const std::string& path, uint32_t replication) {
    proto::Op op = Stamp();
    op.mutable_set_replication()->set_path(path);
    op.mutable_set_replication()->set_replication(replication);
    return op;
  }

 private:
  proto::Op Stamp() {
    proto::Op op;
    op.set_time_ms(++now_ms_);
    op.set_user("tester");
    return op;
  }
  int64_t now_ms_ = 1'000'000;
};

// Creates path and writes blocks of the given lengths into it, then completes it. Returns
// the blocks as committed, or an empty vector (with a failed status in *error) on refusal.
inline std::vector<proto::Block> WriteFile(Namespace* ns, OpBuilder* ops, const std::string& path,
                                           const std::vector<uint64_t>& lengths,
                                           uint32_t replication = 3, Status* error = nullptr) {
  std::vector<proto::Block> blocks;
  auto fail = [&](const Status& s) {
    if (error) *error = s;
    return std::vector<proto::Block>{};
  };
  OpResult r = ns->Apply(ops->Create(path, "writer", false, true, replication));
  if (!r.status.ok()) return fail(r.status);
  std::optional<proto::Block> prev;
  for (uint64_t len : lengths) {
    r = ns->Apply(ops->AddBlock(path, "writer", prev));
    if (!r.status.ok()) return fail(r.status);
    if (prev) blocks.push_back(*prev);
    prev = r.block;
    prev->set_num_bytes(len);
  }
  r = ns->Apply(ops->Complete(path, "writer", prev));
  if (!r.status.ok()) return fail(r.status);
  if (prev) blocks.push_back(*prev);
  return blocks;
}

// Every inode reachable from the root, with its status and blocks, one per line, plus the
// counters: two namespaces with equal dumps are indistinguishable to a client.
inline std::string Dump(const Namespace& ns) {
  std::string out = "files=" + std::to_string(ns.file_count()) +
                    " dirs=" + std::to_string(ns.directory_count()) +
                    " blocks=" + std::to_string(ns.block_count()) + "\n";
  std::vector<std::string> todo = {"/"};
  while (!todo.empty()) {
    std::string path = todo.back();
    todo.pop_back();
    auto info = ns.GetFileInfo(path);
    if (!info.ok()) return out + "unreadable " + path + ": " + info.status().ToString();
    out += info->ShortDebugString() + "\n";
    if (info->type() == proto::DIRECTORY) {
      bool more = false;
      auto children = ns.List(path, "", UINT32_MAX, &more);
      if (!children.ok()) return out + "unlistable " + path;
      for (const auto& c : *children) todo.push_back(c.path());
    } else {
      auto file = ns.GetFile(path);
      if (!file.ok()) return out + "not a file " + path;
      for (const auto& b : (*file)->blocks) out += "  block " + b.ShortDebugString() + "\n";
      out += "  lease " + (*file)->lease_holder + "\n";
    }
  }
  return out;
}

}  // namespace dfs
