// Namespace checkpoint images: Namespace::SaveImage and Namespace::LoadImage.
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>

#include "common/record_file.h"
#include "namenode/namespace.h"

namespace dfs {

Status Namespace::SaveImage(const std::string& path, uint64_t last_applied_index,
                            const std::vector<std::string>& extra) const {
  std::string tmp = path + ".tmp";
  std::filesystem::remove(tmp);
  ASSIGN_OR_RETURN(RecordWriter * raw, RecordWriter::Open(tmp));
  std::unique_ptr<RecordWriter> w(raw);
  proto::ImageHeader h;
  h.set_last_applied_index(last_applied_index);
  h.set_next_inode_id(next_inode_id_);
  h.set_next_block_id(next_block_id_);
  h.set_next_generation_stamp(next_generation_stamp_);
  h.set_inode_count(inodes_.size());
  h.set_extra_count(extra.size());
  for (const auto& uuid : decommissioned_) h.add_decommissioned(uuid);
  w->Append(h.SerializeAsString());
  // Breadth-first, so every parent is written before its children.
  std::deque<uint64_t> todo = {kRootInodeId};
  while (!todo.empty()) {
    const Inode& i = inodes_.at(todo.front());
    todo.pop_front();
    proto::InodeRecord r;
    r.set_id(i.id);
    r.set_parent_id(i.parent);
    r.set_name(i.name);
    r.set_type(i.is_dir ? proto::DIRECTORY : proto::FILE);
    r.set_mode(i.mode);
    r.set_owner(i.owner);
    r.set_group(i.group);
    r.set_mtime_ms(i.mtime_ms);
    r.set_atime_ms(i.atime_ms);
    r.set_replication(i.replication);
    r.set_block_size(i.block_size);
    for (const auto& b : i.blocks) *r.add_blocks() = b;
    r.set_lease_holder(i.lease_holder);
    w->Append(r.SerializeAsString());
    for (const auto& [name, child] : i.children) todo.push_back(child);
    if (w->buffered() > (8 << 20)) RETURN_IF_ERROR(w->Flush());
  }
  for (const auto& rec : extra) {
    w->Append(rec);
    if (w->buffered() > (8 << 20)) RETURN_IF_ERROR(w->Flush());
  }
  RETURN_IF_ERROR(w->Sync());
  w.reset();
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IoError("rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

Result<uint64_t> Namespace::LoadImage(const std::string& path, std::vector<std::string>* extra) {
  ASSIGN_OR_RETURN(RecordReader * raw, RecordReader::Open(path));
  std::unique_ptr<RecordReader> r(raw);
  std::string rec;
  Status s = r->Next(&rec);
  proto::ImageHeader h;
  if (!s.ok() || !h.ParseFromString(rec)) return DataLoss("unreadable image header in " + path);
  Namespace fresh;
  fresh.inodes_.clear();
  for (uint64_t n = 0; n < h.inode_count(); ++n) {
    s = r->Next(&rec);
    proto::InodeRecord ir;
    if (!s.ok() || !ir.ParseFromString(rec)) {
      return DataLoss("image " + path + " is truncated or corrupt at inode " + std::to_string(n));
    }
    Inode& i = fresh.inodes_[ir.id()];
    i.id = ir.id();
    i.parent = ir.parent_id();
    i.name = ir.name();
    i.is_dir = ir.type() == proto::DIRECTORY;
    i.mode = ir.mode();
    i.owner = ir.owner();
    i.group = ir.group();
    i.mtime_ms = ir.mtime_ms();
    i.atime_ms = ir.atime_ms();
    i.replication = ir.replication();
    i.block_size = ir.block_size();
    i.blocks.assign(ir.blocks().begin(), ir.blocks().end());
    i.lease_holder = ir.lease_holder();
    if (!i.lease_holder.empty()) fresh.open_files_.insert(i.id);
    if (!i.is_dir) ++fresh.files_;
    for (const auto& b : i.blocks) fresh.block_to_file_[b.id()] = i.id;
    if (i.id != kRootInodeId) {
      auto p = fresh.inodes_.find(i.parent);
      if (p == fresh.inodes_.end()) {
        return DataLoss("image " + path + ": inode " + std::to_string(i.id) +
                        " comes before its parent");
      }
      p->second.children[i.name] = i.id;
    }
  }
  std::vector<std::string> extras;
  for (uint64_t n = 0; n < h.extra_count(); ++n) {
    if (!r->Next(&rec).ok()) {
      return DataLoss("image " + path + " is truncated at extra record " + std::to_string(n));
    }
    extras.push_back(std::move(rec));
  }
  if (extra) *extra = std::move(extras);
  fresh.next_inode_id_ = h.next_inode_id();
  fresh.next_block_id_ = h.next_block_id();
  fresh.next_generation_stamp_ = h.next_generation_stamp();
  fresh.decommissioned_ = {h.decommissioned().begin(), h.decommissioned().end()};
  *this = std::move(fresh);
  return h.last_applied_index();
}

}  // namespace dfs
