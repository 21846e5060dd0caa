// Namespace ops that change an inode's attributes: replication, permission, owner, times.
#include "namenode/namespace.h"

namespace dfs {

namespace {
OpResult Refuse(Status s) { return {std::move(s), {}, {}, {}}; }
}  // namespace

OpResult Namespace::ApplySetReplication(const proto::Op& op) {
  const auto& s = op.set_replication();
  auto f = LookupMutable(s.path());
  if (!f.ok()) return Refuse(f.status());
  if ((*f)->is_dir) return Refuse(FailedPrecondition("is a directory: " + s.path()));
  if (s.replication() < 1 || s.replication() > kMaxReplication) {
    return Refuse(InvalidArgument("replication must be between 1 and " +
                                  std::to_string(kMaxReplication)));
  }
  (*f)->replication = s.replication();
  return {};
}

OpResult Namespace::ApplySetPermission(const proto::Op& op) {
  const auto& s = op.set_permission();
  auto i = LookupMutable(s.path());
  if (!i.ok()) return Refuse(i.status());
  if (s.mode() > 07777) return Refuse(InvalidArgument("mode must be at most 07777"));
  (*i)->mode = s.mode();
  return {};
}

OpResult Namespace::ApplySetOwner(const proto::Op& op) {
  const auto& s = op.set_owner();
  auto i = LookupMutable(s.path());
  if (!i.ok()) return Refuse(i.status());
  if (s.owner().size() > 256 || s.group().size() > 256) {
    return Refuse(InvalidArgument("owner and group names are at most 256 bytes"));
  }
  if (!s.owner().empty()) (*i)->owner = s.owner();
  if (!s.group().empty()) (*i)->group = s.group();
  return {};
}

OpResult Namespace::ApplySetTimes(const proto::Op& op) {
  const auto& s = op.set_times();
  auto i = LookupMutable(s.path());
  if (!i.ok()) return Refuse(i.status());
  if (s.mtime_ms() >= 0) (*i)->mtime_ms = s.mtime_ms();
  if (s.atime_ms() >= 0) (*i)->atime_ms = s.atime_ms();
  return {};
}

}  // namespace dfs
