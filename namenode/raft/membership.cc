#include "namenode/raft/membership.h"

#include <cstring>

namespace dfs::raft {

Result<Membership> ApplyConfChange(const Membership& current, const ConfChange& change) {
  const NodeId id = change.node_id;
  if (id == 0) return InvalidArgument("conf change names node 0, which is reserved");
  Membership next = current;
  switch (change.type) {
    case ConfChangeType::kAddVoter:
      if (current.IsVoter(id)) {
        return InvalidArgument("node " + std::to_string(id) + " is already a voter");
      }
      next.learners.erase(id);
      next.voters.insert(id);
      if (!change.address.empty()) next.addresses[id] = change.address;
      return next;
    case ConfChangeType::kAddLearner:
      if (current.IsVoter(id)) {
        return InvalidArgument("node " + std::to_string(id) +
                               " is a voter; remove it before adding it as a learner");
      }
      if (current.IsLearner(id)) {
        return InvalidArgument("node " + std::to_string(id) + " is already a learner");
      }
      next.learners.insert(id);
      if (!change.address.empty()) next.addresses[id] = change.address;
      return next;
    case ConfChangeType::kRemoveNode:
      if (!current.Contains(id)) {
        return InvalidArgument("node " + std::to_string(id) + " is not a member");
      }
      if (current.IsVoter(id) && current.voters.size() == 1) {
        return InvalidArgument("cannot remove node " + std::to_string(id) +
                               ": it is the last voter");
      }
      next.voters.erase(id);
      next.learners.erase(id);
      next.addresses.erase(id);
      return next;
  }
  return InvalidArgument("unknown conf change type");
}

namespace {

// Layout: type (1 byte), node id (8), address, voter count (4), voters (8
// each), learner count (4), learners (8 each), address count (4), then (node
// id (8), address) each; an address is its length (4) and bytes; integers
// little-endian.
void PutFixed(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetFixed(const std::string& in, size_t* pos, int bytes, uint64_t* v) {
  if (in.size() - *pos < static_cast<size_t>(bytes)) return false;
  *v = 0;
  for (int i = 0; i < bytes; ++i) {
    *v |= static_cast<uint64_t>(static_cast<uint8_t>(in[*pos + i])) << (8 * i);
  }
  *pos += bytes;
  return true;
}

bool GetIdSet(const std::string& in, size_t* pos, std::set<NodeId>* ids) {
  uint64_t n = 0;
  if (!GetFixed(in, pos, 4, &n)) return false;
  if (n > (in.size() - *pos) / 8) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    if (!GetFixed(in, pos, 8, &id)) return false;
    ids->insert(id);
  }
  return true;
}

void PutString(std::string* out, const std::string& s) {
  PutFixed(out, s.size(), 4);
  out->append(s);
}

bool GetString(const std::string& in, size_t* pos, std::string* s) {
  uint64_t n = 0;
  if (!GetFixed(in, pos, 4, &n) || n > in.size() - *pos) return false;
  s->assign(in, *pos, n);
  *pos += n;
  return true;
}

bool GetAddresses(const std::string& in, size_t* pos, std::map<NodeId, std::string>* addresses) {
  uint64_t n = 0;
  if (!GetFixed(in, pos, 4, &n) || n > (in.size() - *pos) / 12) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    std::string address;
    if (!GetFixed(in, pos, 8, &id) || !GetString(in, pos, &address)) return false;
    (*addresses)[id] = std::move(address);
  }
  return true;
}

}  // namespace

std::string EncodeConfChange(const ConfChangeRecord& record) {
  std::string out;
  PutFixed(&out, static_cast<uint8_t>(record.change.type), 1);
  PutFixed(&out, record.change.node_id, 8);
  PutString(&out, record.change.address);
  PutFixed(&out, record.result.voters.size(), 4);
  for (NodeId id : record.result.voters) PutFixed(&out, id, 8);
  PutFixed(&out, record.result.learners.size(), 4);
  for (NodeId id : record.result.learners) PutFixed(&out, id, 8);
  PutFixed(&out, record.result.addresses.size(), 4);
  for (const auto& [id, address] : record.result.addresses) {
    PutFixed(&out, id, 8);
    PutString(&out, address);
  }
  return out;
}

Result<ConfChangeRecord> DecodeConfChange(const std::string& data) {
  ConfChangeRecord r;
  size_t pos = 0;
  uint64_t type = 0;
  if (!GetFixed(data, &pos, 1, &type) || type > 2 || !GetFixed(data, &pos, 8, &r.change.node_id) ||
      !GetString(data, &pos, &r.change.address) || !GetIdSet(data, &pos, &r.result.voters) ||
      !GetIdSet(data, &pos, &r.result.learners) ||
      !GetAddresses(data, &pos, &r.result.addresses) || pos != data.size()) {
    return DataLoss("malformed conf change entry (" + std::to_string(data.size()) + " bytes)");
  }
  r.change.type = static_cast<ConfChangeType>(type);
  return r;
}

}  // namespace dfs::raft
