#include "namenode/raft/storage_format.h"

#include <cstdint>
#include <cstdio>

namespace dfs::raft {

namespace {

constexpr char kHardStateTag = 'H';
constexpr char kSnapshotTag = 'S';

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(const std::string& in, size_t* pos, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *pos < in.size(); shift += 7) {
    uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

void PutIdSet(std::string* out, const std::set<NodeId>& ids) {
  PutVarint(out, ids.size());
  for (NodeId id : ids) PutVarint(out, id);
}

bool GetIdSet(const std::string& in, size_t* pos, std::set<NodeId>* ids) {
  uint64_t n = 0;
  if (!GetVarint(in, pos, &n) || n > in.size() - *pos) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    if (!GetVarint(in, pos, &id)) return false;
    ids->insert(id);
  }
  return true;
}

void PutAddresses(std::string* out, const std::map<NodeId, std::string>& addresses) {
  PutVarint(out, addresses.size());
  for (const auto& [id, address] : addresses) {
    PutVarint(out, id);
    PutVarint(out, address.size());
    out->append(address);
  }
}

bool GetAddresses(const std::string& in, size_t* pos, std::map<NodeId, std::string>* addresses) {
  uint64_t n = 0;
  if (!GetVarint(in, pos, &n) || n > in.size() - *pos) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0, len = 0;
    if (!GetVarint(in, pos, &id) || !GetVarint(in, pos, &len) || len > in.size() - *pos) {
      return false;
    }
    (*addresses)[id] = in.substr(*pos, len);
    *pos += len;
  }
  return true;
}

}  // namespace

std::string EncodeEntry(const Entry& e) {
  std::string out;
  out.reserve(e.data.size() + 12);
  PutVarint(&out, e.term);
  PutVarint(&out, e.index);
  out.push_back(static_cast<char>(e.type));
  out.append(e.data);
  return out;
}

Result<Entry> DecodeEntry(const std::string& payload) {
  Entry e;
  size_t pos = 0;
  if (!GetVarint(payload, &pos, &e.term) || !GetVarint(payload, &pos, &e.index) ||
      pos >= payload.size()) {
    return DataLoss("malformed raft log entry (" + std::to_string(payload.size()) + " bytes)");
  }
  uint8_t type = static_cast<uint8_t>(payload[pos++]);
  if (type > static_cast<uint8_t>(EntryType::kConfChange)) {
    return DataLoss("raft log entry " + std::to_string(e.index) + " has unknown type " +
                    std::to_string(type));
  }
  e.type = static_cast<EntryType>(type);
  e.data = payload.substr(pos);
  return e;
}

std::string EncodeHardStateRecord(const HardState& hs) {
  std::string out(1, kHardStateTag);
  PutVarint(&out, hs.term);
  PutVarint(&out, hs.vote);
  PutVarint(&out, hs.commit);
  return out;
}

std::string EncodeSnapshotRecord(const SnapshotMetadata& snapshot) {
  std::string out(1, kSnapshotTag);
  PutVarint(&out, snapshot.index);
  PutVarint(&out, snapshot.term);
  PutIdSet(&out, snapshot.membership.voters);
  PutIdSet(&out, snapshot.membership.learners);
  PutAddresses(&out, snapshot.membership.addresses);
  return out;
}

Result<MetaRecord> DecodeMetaRecord(const std::string& payload) {
  MetaRecord r;
  size_t pos = 1;
  bool ok = false;
  if (!payload.empty() && payload[0] == kHardStateTag) {
    HardState hs;
    ok = GetVarint(payload, &pos, &hs.term) && GetVarint(payload, &pos, &hs.vote) &&
         GetVarint(payload, &pos, &hs.commit);
    r.hard_state = hs;
  } else if (!payload.empty() && payload[0] == kSnapshotTag) {
    SnapshotMetadata s;
    ok = GetVarint(payload, &pos, &s.index) && GetVarint(payload, &pos, &s.term) &&
         GetIdSet(payload, &pos, &s.membership.voters) &&
         GetIdSet(payload, &pos, &s.membership.learners) &&
         GetAddresses(payload, &pos, &s.membership.addresses);
    r.snapshot = s;
  }
  if (!ok || pos != payload.size()) {
    return DataLoss("malformed raft metadata record (" + std::to_string(payload.size()) +
                    " bytes)");
  }
  return r;
}

std::string SegmentFileName(uint64_t first_index) {
  char name[32];
  std::snprintf(name, sizeof name, "log-%020llu", static_cast<unsigned long long>(first_index));
  return name;
}

std::optional<uint64_t> ParseSegmentFileName(const std::string& name) {
  if (name.size() != 24 || name.compare(0, 4, "log-") != 0) return std::nullopt;
  uint64_t v = 0;
  for (size_t i = 4; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(name[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

}  // namespace dfs::raft
