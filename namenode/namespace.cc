#include "namenode/namespace.h"

#include <algorithm>
#include <deque>

#include "common/crc32c.h"
#include "namenode/path.h"

namespace dfs {

uint64_t Inode::Length() const {
  uint64_t n = 0;
  for (const auto& b : blocks) n += b.num_bytes();
  return n;
}

Namespace::Namespace() {
  Inode& root = inodes_[kRootInodeId];
  root.id = kRootInodeId;
  root.is_dir = true;
  root.mode = 0755;
  root.owner = "root";
  root.group = "supergroup";
}

const Inode* Namespace::GetInode(uint64_t id) const {
  auto it = inodes_.find(id);
  return it == inodes_.end() ? nullptr : &it->second;
}

uint64_t Namespace::FileOfBlock(uint64_t block_id) const {
  auto it = block_to_file_.find(block_id);
  return it == block_to_file_.end() ? 0 : it->second;
}

const proto::Block* Namespace::GetBlock(uint64_t block_id) const {
  const Inode* f = GetInode(FileOfBlock(block_id));
  if (!f) return nullptr;
  for (const auto& b : f->blocks) {
    if (b.id() == block_id) return &b;
  }
  return nullptr;
}

void Namespace::ForEachFile(const std::function<void(const Inode&)>& fn) const {
  for (const auto& [id, inode] : inodes_) {
    if (!inode.is_dir) fn(inode);
  }
}

void Namespace::ForEachOpenFile(const std::function<void(const Inode&)>& fn) const {
  for (uint64_t id : open_files_) fn(inodes_.at(id));
}

Result<uint64_t> Namespace::Resolve(const std::vector<std::string>& parts) const {
  uint64_t cur = kRootInodeId;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Inode& dir = inodes_.at(cur);
    if (!dir.is_dir) {
      return FailedPrecondition("not a directory: " +
                                JoinPath({parts.begin(), parts.begin() + static_cast<long>(i)}));
    }
    auto it = dir.children.find(parts[i]);
    if (it == dir.children.end()) {
      return NotFound("no such file or directory: " + JoinPath(parts));
    }
    cur = it->second;
  }
  return cur;
}

Result<const Inode*> Namespace::Lookup(const std::string& path) const {
  ASSIGN_OR_RETURN(auto parts, SplitPath(path));
  ASSIGN_OR_RETURN(uint64_t id, Resolve(parts));
  return &inodes_.at(id);
}

Result<Inode*> Namespace::LookupMutable(const std::string& path) {
  ASSIGN_OR_RETURN(auto parts, SplitPath(path));
  ASSIGN_OR_RETURN(uint64_t id, Resolve(parts));
  return &inodes_.at(id);
}

std::string Namespace::PathOf(uint64_t inode_id) const {
  std::vector<std::string> parts;
  for (const Inode* i = GetInode(inode_id); i && i->id != kRootInodeId; i = GetInode(i->parent)) {
    parts.push_back(i->name);
  }
  std::reverse(parts.begin(), parts.end());
  return JoinPath(parts);
}

proto::FileStatus Namespace::StatusOf(const Inode& inode, const std::string& path) const {
  proto::FileStatus s;
  s.set_path(path);
  s.set_type(inode.is_dir ? proto::DIRECTORY : proto::FILE);
  s.set_mtime_ms(inode.mtime_ms);
  s.set_atime_ms(inode.atime_ms);
  s.set_mode(inode.mode);
  s.set_owner(inode.owner);
  s.set_group(inode.group);
  s.set_inode_id(inode.id);
  if (inode.is_dir) {
    s.set_children(static_cast<uint32_t>(inode.children.size()));
  } else {
    s.set_length(inode.Length());
    s.set_replication(inode.replication);
    s.set_block_size(inode.block_size);
    s.set_under_construction(!inode.lease_holder.empty());
  }
  return s;
}

Result<proto::FileStatus> Namespace::GetFileInfo(const std::string& path) const {
  ASSIGN_OR_RETURN(const Inode* inode, Lookup(path));
  return StatusOf(*inode, path);
}

Result<std::vector<proto::FileStatus>> Namespace::List(const std::string& path,
                                                      const std::string& start_after,
                                                      uint32_t limit, bool* has_more) const {
  ASSIGN_OR_RETURN(const Inode* inode, Lookup(path));
  std::vector<proto::FileStatus> out;
  *has_more = false;
  if (!inode->is_dir) {
    out.push_back(StatusOf(*inode, path));
    return out;
  }
  std::string prefix = path == "/" ? "/" : path + "/";
  for (auto it = inode->children.upper_bound(start_after); it != inode->children.end(); ++it) {
    if (out.size() >= limit) {
      *has_more = true;
      break;
    }
    out.push_back(StatusOf(inodes_.at(it->second), prefix + it->first));
  }
  return out;
}

Result<const Inode*> Namespace::GetFile(const std::string& path) const {
  ASSIGN_OR_RETURN(const Inode* inode, Lookup(path));
  if (inode->is_dir) return FailedPrecondition("is a directory: " + path);
  return inode;
}

Status Namespace::Walk(const std::string& path,
                       const std::function<void(const std::string&, const Inode&)>& fn) const {
  ASSIGN_OR_RETURN(const Inode* top, Lookup(path));
  std::deque<std::pair<std::string, const Inode*>> todo = {{path, top}};
  while (!todo.empty()) {
    auto [p, i] = todo.front();
    todo.pop_front();
    fn(p, *i);
    std::string prefix = p == "/" ? "/" : p + "/";
    for (const auto& [name, id] : i->children) todo.emplace_back(prefix + name, &inodes_.at(id));
  }
  return Status::Ok();
}

Result<ContentSummary> Namespace::GetContentSummary(const std::string& path) const {
  ASSIGN_OR_RETURN(const Inode* top, Lookup(path));
  ContentSummary sum;
  std::deque<const Inode*> todo = {top};
  while (!todo.empty()) {
    const Inode* i = todo.front();
    todo.pop_front();
    if (i->is_dir) {
      ++sum.directories;
      for (const auto& [name, id] : i->children) todo.push_back(&inodes_.at(id));
    } else {
      ++sum.files;
      uint64_t len = i->Length();
      sum.length += len;
      sum.space_consumed += len * i->replication;
    }
  }
  return sum;
}

OpResult Namespace::Apply(const proto::Op& op) {
  switch (op.op_case()) {
    case proto::Op::kMkdirs: return ApplyMkdirs(op);
    case proto::Op::kCreate: return ApplyCreate(op);
    case proto::Op::kAppend: return ApplyAppend(op);
    case proto::Op::kAddBlock: return ApplyAddBlock(op);
    case proto::Op::kAbandonBlock: return ApplyAbandonBlock(op);
    case proto::Op::kComplete: return ApplyComplete(op);
    case proto::Op::kRename: return ApplyRename(op);
    case proto::Op::kDelete: return ApplyDelete(op);
    case proto::Op::kSetReplication: return ApplySetReplication(op);
    case proto::Op::kSetPermission: return ApplySetPermission(op);
    case proto::Op::kSetOwner: return ApplySetOwner(op);
    case proto::Op::kSetTimes: return ApplySetTimes(op);
    case proto::Op::kRecoverLease: return ApplyRecoverLease(op);
    case proto::Op::kSetDecommission: return ApplySetDecommission(op);
    case proto::Op::kUpdatePipeline: return ApplyUpdatePipeline(op);
    case proto::Op::OP_NOT_SET: break;
  }
  return {InvalidArgument("log entry holds no operation"), {}, {}, {}};
}

Inode& Namespace::NewInode(uint64_t parent, const std::string& name, bool is_dir,
                           const proto::Op& op, uint32_t mode) {
  uint64_t id = next_inode_id_++;
  Inode& inode = inodes_[id];
  inode.id = id;
  inode.parent = parent;
  inode.name = name;
  inode.is_dir = is_dir;
  inode.mode = (mode ? mode : (is_dir ? 0755 : 0644)) & 07777;
  inode.owner = op.user().empty() ? "root" : op.user();
  inode.group = "supergroup";
  inode.mtime_ms = op.time_ms();
  inode.atime_ms = op.time_ms();
  Inode& dir = inodes_.at(parent);
  dir.children[name] = id;
  dir.mtime_ms = op.time_ms();
  if (!is_dir) ++files_;
  return inode;
}

namespace {
OpResult Fail(Status s) { return {std::move(s), {}, {}, {}}; }
#define FAIL_IF_ERROR(expr)              \
  do {                                   \
    ::dfs::Status _s = (expr);           \
    if (!_s.ok()) return Fail(_s);       \
  } while (0)
#define ASSIGN_OR_FAIL(lhs, expr)                    \
  auto DFS_CONCAT(_r_, __LINE__) = (expr);           \
  if (!DFS_CONCAT(_r_, __LINE__).ok()) return Fail(DFS_CONCAT(_r_, __LINE__).status()); \
  lhs = std::move(DFS_CONCAT(_r_, __LINE__)).value()
}  // namespace

OpResult Namespace::ApplyMkdirs(const proto::Op& op) {
  const auto& m = op.mkdirs();
  ASSIGN_OR_FAIL(auto parts, SplitPath(m.path()));
  if (parts.empty()) {
    if (m.create_parent()) return {};
    return Fail(AlreadyExists("file exists: /"));
  }
  // Check the whole path before creating anything, so a refusal changes nothing.
  uint64_t cur = kRootInodeId;
  size_t existing = 0;
  for (; existing < parts.size(); ++existing) {
    const Inode& dir = inodes_.at(cur);
    if (!dir.is_dir) {
      return Fail(FailedPrecondition(
          "not a directory: " +
          JoinPath({parts.begin(), parts.begin() + static_cast<long>(existing)})));
    }
    auto it = dir.children.find(parts[existing]);
    if (it == dir.children.end()) break;
    cur = it->second;
  }
  if (existing == parts.size()) {
    if (!inodes_.at(cur).is_dir) return Fail(AlreadyExists("file exists: " + m.path()));
    if (m.create_parent()) return {};
    return Fail(AlreadyExists("file exists: " + m.path()));
  }
  if (!inodes_.at(cur).is_dir) {
    return Fail(FailedPrecondition(
        "not a directory: " +
        JoinPath({parts.begin(), parts.begin() + static_cast<long>(existing)})));
  }
  if (existing + 1 < parts.size() && !m.create_parent()) {
    return Fail(NotFound("no such file or directory: " + ParentPath(m.path())));
  }
  for (size_t i = existing; i < parts.size(); ++i) {
    cur = NewInode(cur, parts[i], true, op, m.mode()).id;
  }
  return {};
}

OpResult Namespace::ApplyCreate(const proto::Op& op) {
  const auto& c = op.create();
  ASSIGN_OR_FAIL(auto parts, SplitPath(c.path()));
  if (parts.empty()) return Fail(AlreadyExists("is a directory: /"));
  if (c.client_name().empty()) return Fail(InvalidArgument("create needs a client name"));
  if (c.replication() < 1 || c.replication() > kMaxReplication) {
    return Fail(InvalidArgument("replication must be between 1 and " +
                                std::to_string(kMaxReplication)));
  }
  if (c.block_size() < kBytesPerChecksum || c.block_size() % kBytesPerChecksum != 0 ||
      c.block_size() > kMaxBlockSize) {
    return Fail(InvalidArgument("block size must be a multiple of 512 bytes, at most 2 GiB"));
  }
  std::vector<std::string> parent_parts(parts.begin(), parts.end() - 1);
  auto parent = Resolve(parent_parts);
  OpResult result;
  if (!parent.ok()) {
    if (parent.status().code() != Code::kNotFound || !c.create_parent()) {
      return Fail(parent.status().code() == Code::kNotFound
                      ? NotFound("no such file or directory: " + JoinPath(parent_parts))
                      : parent.status());
    }
    proto::Op mk;
    mk.set_time_ms(op.time_ms());
    mk.set_user(op.user());
    mk.mutable_mkdirs()->set_path(JoinPath(parent_parts));
    mk.mutable_mkdirs()->set_create_parent(true);
    OpResult r = ApplyMkdirs(mk);
    if (!r.status.ok()) return r;
    parent = Resolve(parent_parts);
  }
  Inode& dir = inodes_.at(*parent);
  if (!dir.is_dir) return Fail(FailedPrecondition("not a directory: " + JoinPath(parent_parts)));
  auto existing = dir.children.find(parts.back());
  if (existing != dir.children.end()) {
    Inode& old = inodes_.at(existing->second);
    if (old.is_dir) return Fail(AlreadyExists("is a directory: " + c.path()));
    if (!old.lease_holder.empty() && old.lease_holder != c.client_name()) {
      return Fail(FailedPrecondition("file is being written by " + old.lease_holder + ": " +
                                     c.path()));
    }
    if (!c.overwrite()) return Fail(AlreadyExists("file exists: " + c.path()));
    RemoveSubtree(old.id, &result.removed_blocks);
  }
  Inode& f = NewInode(*parent, parts.back(), false, op, c.mode());
  f.replication = c.replication();
  f.block_size = c.block_size();
  f.lease_holder = c.client_name();
  open_files_.insert(f.id);
  result.file = StatusOf(f, c.path());
  return result;
}

OpResult Namespace::ApplyAppend(const proto::Op& op) {
  const auto& a = op.append();
  ASSIGN_OR_FAIL(Inode * f, LookupMutable(a.path()));
  if (f->is_dir) return Fail(FailedPrecondition("is a directory: " + a.path()));
  if (a.client_name().empty()) return Fail(InvalidArgument("append needs a client name"));
  if (!f->lease_holder.empty()) {
    return Fail(FailedPrecondition("file is being written by " + f->lease_holder + ": " +
                                   a.path()));
  }
  f->lease_holder = a.client_name();
  open_files_.insert(f->id);
  OpResult r;
  r.file = StatusOf(*f, a.path());
  return r;
}

Result<Inode*> Namespace::WritableFile(const std::string& path, const std::string& client) {
  ASSIGN_OR_RETURN(Inode * f, LookupMutable(path));
  if (f->is_dir) return FailedPrecondition("is a directory: " + path);
  if (f->lease_holder.empty()) return FailedPrecondition("file is not open for writing: " + path);
  if (f->lease_holder != client) {
    return FailedPrecondition("file is being written by " + f->lease_holder + ": " + path);
  }
  return f;
}

Status Namespace::CheckLastBlock(const Inode& file, const proto::Block& block,
                                 bool same_stamp) const {
  if (file.blocks.empty() || file.blocks.back().id() != block.id()) {
    return FailedPrecondition("block " + std::to_string(block.id()) +
                              " is not the last block of " + PathOf(file.id));
  }
  if (same_stamp && block.generation_stamp() != file.blocks.back().generation_stamp()) {
    return FailedPrecondition("block " + std::to_string(block.id()) +
                              " has another generation stamp: it was recovered");
  }
  return Status::Ok();
}

Status Namespace::CommitLastBlock(Inode* file, const proto::Block& reported) {
  RETURN_IF_ERROR(CheckLastBlock(*file, reported, true));
  if (reported.num_bytes() > file->block_size) {
    return InvalidArgument("block length " + std::to_string(reported.num_bytes()) +
                           " exceeds the block size");
  }
  file->blocks.back().set_num_bytes(reported.num_bytes());
  return Status::Ok();
}

OpResult Namespace::ApplyAddBlock(const proto::Op& op) {
  const auto& a = op.add_block();
  ASSIGN_OR_FAIL(Inode * f, WritableFile(a.path(), a.client_name()));
  if (a.has_previous()) FAIL_IF_ERROR(CommitLastBlock(f, a.previous()));
  proto::Block b;
  b.set_id(next_block_id_++);
  b.set_generation_stamp(next_generation_stamp_++);
  b.set_num_bytes(0);
  f->blocks.push_back(b);
  f->mtime_ms = op.time_ms();
  block_to_file_[b.id()] = f->id;
  OpResult r;
  r.block = b;
  return r;
}

OpResult Namespace::ApplyAbandonBlock(const proto::Op& op) {
  const auto& a = op.abandon_block();
  ASSIGN_OR_FAIL(Inode * f, WritableFile(a.path(), a.client_name()));
  FAIL_IF_ERROR(CheckLastBlock(*f, a.block(), false));
  OpResult r;
  r.removed_blocks.push_back(f->blocks.back());
  block_to_file_.erase(f->blocks.back().id());
  f->blocks.pop_back();
  return r;
}

OpResult Namespace::ApplyComplete(const proto::Op& op) {
  const auto& c = op.complete();
  ASSIGN_OR_FAIL(Inode * f, WritableFile(c.path(), c.client_name()));
  if (c.has_last()) FAIL_IF_ERROR(CommitLastBlock(f, c.last()));
  f->lease_holder.clear();
  open_files_.erase(f->id);
  f->mtime_ms = op.time_ms();
  return {};
}

OpResult Namespace::ApplyRename(const proto::Op& op) {
  const auto& r = op.rename();
  ASSIGN_OR_FAIL(auto src_parts, SplitPath(r.src()));
  ASSIGN_OR_FAIL(auto dst_parts, SplitPath(r.dst()));
  if (src_parts.empty()) return Fail(InvalidArgument("cannot rename the root directory"));
  if (dst_parts.empty() && r.overwrite()) return Fail(AlreadyExists("destination exists: /"));
  ASSIGN_OR_FAIL(uint64_t src_id, Resolve(src_parts));
  auto dst_existing = Resolve(dst_parts);
  // HDFS rename: an existing directory as destination means "move into it".
  if (!r.overwrite() && dst_existing.ok() && inodes_.at(*dst_existing).is_dir &&
      *dst_existing != src_id) {
    dst_parts.push_back(src_parts.back());
    dst_existing = Resolve(dst_parts);
  }
  if (dst_parts.size() >= src_parts.size() &&
      std::equal(src_parts.begin(), src_parts.end(), dst_parts.begin())) {
    if (dst_parts.size() == src_parts.size()) return {};  // renaming onto itself
    return Fail(InvalidArgument("cannot move " + r.src() + " into its own subtree " + r.dst()));
  }
  std::string dst_path = JoinPath(dst_parts);
  OpResult result;
  if (dst_existing.ok()) {
    if (!r.overwrite()) return Fail(AlreadyExists("destination exists: " + dst_path));
    const Inode& victim = inodes_.at(*dst_existing);
    const Inode& src = inodes_.at(src_id);
    if (victim.is_dir && !src.is_dir) return Fail(AlreadyExists("is a directory: " + dst_path));
    if (!victim.is_dir && src.is_dir) {
      return Fail(FailedPrecondition("not a directory: " + dst_path));
    }
    if (victim.is_dir && !victim.children.empty()) {
      return Fail(FailedPrecondition("directory is not empty: " + dst_path));
    }
  } else if (dst_existing.status().code() != Code::kNotFound) {
    return Fail(dst_existing.status());
  }
  std::vector<std::string> dst_parent_parts(dst_parts.begin(), dst_parts.end() - 1);
  auto dst_parent = Resolve(dst_parent_parts);
  if (!dst_parent.ok()) {
    return Fail(NotFound("destination directory does not exist: " + JoinPath(dst_parent_parts)));
  }
  if (!inodes_.at(*dst_parent).is_dir) {
    return Fail(FailedPrecondition("not a directory: " + JoinPath(dst_parent_parts)));
  }
  if (dst_existing.ok()) RemoveSubtree(*dst_existing, &result.removed_blocks);
  Inode& new_parent = inodes_.at(*dst_parent);
  Inode& inode = inodes_.at(src_id);
  Inode& old_parent = inodes_.at(inode.parent);
  old_parent.children.erase(inode.name);
  old_parent.mtime_ms = op.time_ms();
  inode.name = dst_parts.back();
  inode.parent = new_parent.id;
  new_parent.children[inode.name] = inode.id;
  new_parent.mtime_ms = op.time_ms();
  return result;
}

OpResult Namespace::ApplyRecoverLease(const proto::Op& op) {
  const auto& r = op.recover_lease();
  ASSIGN_OR_FAIL(Inode * f, WritableFile(r.path(), r.holder()));
  OpResult result;
  if (r.bump_generation_stamp()) {
    if (f->blocks.empty()) return Fail(FailedPrecondition(r.path() + " has no block to recover"));
    f->blocks.back().set_generation_stamp(next_generation_stamp_++);
    result.block = f->blocks.back();
    return result;  // the file stays open until its last block is recovered
  }
  if (!f->blocks.empty() && r.last_block_generation_stamp() != 0 &&
      f->blocks.back().generation_stamp() != r.last_block_generation_stamp()) {
    return Fail(FailedPrecondition("the last block of " + r.path() + " was recovered again"));
  }
  if (!f->blocks.empty()) {
    if (r.drop_last_block()) {
      result.block = f->blocks.back();
      result.removed_blocks.push_back(f->blocks.back());
      block_to_file_.erase(f->blocks.back().id());
      f->blocks.pop_back();
    } else {
      if (r.last_block_length() > f->block_size) {
        return Fail(InvalidArgument("recovered length exceeds the block size"));
      }
      f->blocks.back().set_num_bytes(r.last_block_length());
      result.block = f->blocks.back();
    }
  }
  f->lease_holder.clear();
  open_files_.erase(f->id);
  f->mtime_ms = op.time_ms();
  return result;
}

void Namespace::RemoveSubtree(uint64_t id, std::vector<proto::Block>* blocks) {
  std::vector<uint64_t> children;
  for (const auto& [name, child] : inodes_.at(id).children) children.push_back(child);
  for (uint64_t child : children) RemoveSubtree(child, blocks);
  Inode& inode = inodes_.at(id);
  for (const auto& b : inode.blocks) {
    blocks->push_back(b);
    block_to_file_.erase(b.id());
  }
  if (!inode.is_dir) --files_;
  open_files_.erase(id);
  if (id != kRootInodeId && inode.parent != 0) {
    auto p = inodes_.find(inode.parent);
    if (p != inodes_.end()) p->second.children.erase(inode.name);
  }
  inodes_.erase(id);
}

OpResult Namespace::ApplyDelete(const proto::Op& op) {
  const auto& d = op.delete_();
  ASSIGN_OR_FAIL(auto parts, SplitPath(d.path()));
  if (parts.empty()) return Fail(InvalidArgument("cannot delete the root directory"));
  ASSIGN_OR_FAIL(uint64_t id, Resolve(parts));
  const Inode& inode = inodes_.at(id);
  if (inode.is_dir && !inode.children.empty() && !d.recursive()) {
    return Fail(FailedPrecondition("directory is not empty: " + d.path()));
  }
  inodes_.at(inode.parent).mtime_ms = op.time_ms();
  OpResult r;
  RemoveSubtree(id, &r.removed_blocks);
  return r;
}

OpResult Namespace::ApplyUpdatePipeline(const proto::Op& op) {
  const auto& u = op.update_pipeline();
  ASSIGN_OR_FAIL(Inode * f, WritableFile(u.path(), u.client_name()));
  FAIL_IF_ERROR(CheckLastBlock(*f, u.block(), true));
  f->blocks.back().set_generation_stamp(next_generation_stamp_++);
  OpResult r;
  r.block = f->blocks.back();
  return r;
}

OpResult Namespace::ApplySetDecommission(const proto::Op& op) {
  for (const auto& uuid : op.set_decommission().datanodes()) {
    if (op.set_decommission().decommission()) {
      decommissioned_.insert(uuid);
    } else {
      decommissioned_.erase(uuid);
    }
  }
  return {};
}

}  // namespace dfs
