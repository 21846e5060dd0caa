// The byte layout of DiskStorage's files (disk_storage.h): log entries as
// stored in segment records, the records of the metadata file (hard state and
// snapshot metadata), and the names of segment files. Framing and checksums
// are RecordWriter's (common/record_file.h); these are only the payloads.
//
// Layouts (varint = unsigned LEB128, as protobuf):
//   entry:      varint term, varint index, u8 type, data (the rest)
//   hard state: 'H', varint term, varint vote, varint commit
//   snapshot:   'S', varint index, varint term, varint voter count, voters,
//               varint learner count, learners (varint ids)
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "namenode/raft/messages.h"

namespace dfs::raft {

std::string EncodeEntry(const Entry& e);
// DataLoss if `payload` is not something EncodeEntry produced.
Result<Entry> DecodeEntry(const std::string& payload);

std::string EncodeHardStateRecord(const HardState& hs);
std::string EncodeSnapshotRecord(const SnapshotMetadata& snapshot);

// One record of the metadata file: exactly one of the two is set.
struct MetaRecord {
  std::optional<HardState> hard_state;
  std::optional<SnapshotMetadata> snapshot;
};
// DataLoss if `payload` is not a record the encoders above produced.
Result<MetaRecord> DecodeMetaRecord(const std::string& payload);

// "log-" followed by the index of the segment's first entry in 20 digits, so
// that names sort like the indices.
std::string SegmentFileName(uint64_t first_index);
// The first index named by a segment file name; nullopt for other names.
std::optional<uint64_t> ParseSegmentFileName(const std::string& name);

}  // namespace dfs::raft
