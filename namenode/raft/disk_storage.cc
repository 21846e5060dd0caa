#include "namenode/raft/disk_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "common/logging.h"
#include "namenode/raft/storage_format.h"

namespace dfs::raft {

namespace fs = std::filesystem;

namespace {

constexpr char kMetaName[] = "meta";
constexpr char kMetaTmpName[] = "meta.tmp";

Result<std::unique_ptr<RecordWriter>> OpenWriter(const std::string& path,
                                                 uint64_t preallocate = 0) {
  ASSIGN_OR_RETURN(RecordWriter * w, RecordWriter::Open(path, preallocate));
  return std::unique_ptr<RecordWriter>(w);
}

Result<std::unique_ptr<RecordReader>> OpenReader(const std::string& path) {
  ASSIGN_OR_RETURN(RecordReader * r, RecordReader::Open(path));
  return std::unique_ptr<RecordReader>(r);
}

// Cuts the file to `size` bytes and makes the new size durable before
// anything is written after it, so new records never mix with old bytes.
Status TruncateDurably(const std::string& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  Status s;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    s = ErrnoStatus("truncate " + path, errno);
  } else if (::fdatasync(fd) != 0) {
    s = ErrnoStatus("fdatasync " + path, errno);
  }
  ::close(fd);
  return s;
}

Status Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("delete " + path, errno);
  return Status::Ok();
}

Status Corrupt(const std::string& path, const std::string& what) {
  return DataLoss("raft storage file " + path + ": " + what +
                  "; the replica's log cannot be trusted (restore it from a peer)");
}

}  // namespace

DiskStorage::DiskStorage(std::string dir, const DiskStorageOptions& options)
    : dir_(std::move(dir)), options_(options) {}

DiskStorage::~DiskStorage() = default;

Result<std::unique_ptr<DiskStorage>> DiskStorage::Open(const std::string& dir,
                                                       const DiskStorageOptions& options) {
  if (options.segment_bytes == 0) return InvalidArgument("raft segment_bytes must be positive");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("create raft storage directory " + dir + ": " + ec.message());
  std::unique_ptr<DiskStorage> s(new DiskStorage(dir, options));
  RETURN_IF_ERROR(s->Recover());
  return s;
}

Status DiskStorage::Recover() {
  // Everything is read and checked before anything on disk changes.
  std::vector<Truncation> truncations;
  RETURN_IF_ERROR(RecoverMeta(&truncations));
  RETURN_IF_ERROR(RecoverSegments(&truncations));

  for (const Truncation& t : truncations) {
    if (t.torn) {
      spdlog::warn(
          "raft storage: {} ends in a torn record (a crash mid-write); truncating at byte {}",
          t.path, t.size);
    }
    RETURN_IF_ERROR(TruncateDurably(t.path, t.size));
  }
  RETURN_IF_ERROR(Unlink(dir_ + "/" + kMetaTmpName));
  const std::string meta = dir_ + "/" + kMetaName;
  const bool created = !fs::exists(meta);
  ASSIGN_OR_RETURN(meta_, OpenWriter(meta));
  if (created) RETURN_IF_ERROR(SyncDir());

  synced_hard_state_ = hard_state_;
  recovered_.snapshot = snapshot_;
  recovered_.hard_state = hard_state_;
  // A snapshot holds only committed entries; the commit index itself is not
  // always synced (see the header comment).
  recovered_.hard_state.commit = std::max(hard_state_.commit, snapshot_.index);
  spdlog::info("raft storage {}: snapshot at {}, {} entries, term {}", dir_, snapshot_.index,
               recovered_.entries.size(), hard_state_.term);
  return Status::Ok();
}

Status DiskStorage::RecoverMeta(std::vector<Truncation>* truncations) {
  const std::string path = dir_ + "/" + kMetaName;
  if (!fs::exists(path)) return Status::Ok();
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, OpenReader(path));
  std::string payload;
  Status s;
  for (;;) {
    const uint64_t offset = reader->good_bytes();
    if (!(s = reader->Next(&payload)).ok()) break;
    Result<MetaRecord> r = DecodeMetaRecord(payload);
    if (!r.ok()) {
      return Corrupt(path, r.status().message() + " at offset " + std::to_string(offset));
    }
    if (r->hard_state) hard_state_ = *r->hard_state;
    if (r->snapshot) snapshot_ = *r->snapshot;
  }
  if (s.code() != Code::kOutOfRange) return Corrupt(path, s.message());
  if (reader->torn()) truncations->push_back({path, reader->good_bytes(), !reader->zero_tail()});
  return Status::Ok();
}

Status DiskStorage::RecoverSegments(std::vector<Truncation>* truncations) {
  std::vector<Segment> segs;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(dir_, ec)) {
    std::optional<uint64_t> first = ParseSegmentFileName(de.path().filename().string());
    if (first && *first > 0) segs.push_back({*first, *first - 1, de.path().string()});
  }
  if (ec) return IoError("list raft storage directory " + dir_ + ": " + ec.message());
  std::sort(segs.begin(), segs.end(),
            [](const Segment& a, const Segment& b) { return a.first < b.first; });

  // Segments followed by one that starts at or below the first index after
  // the snapshot hold nothing the snapshot does not; a compaction was cut
  // short before deleting them. They are not read.
  const uint64_t after_snapshot = snapshot_.index + 1;
  size_t start = 0;
  while (start + 1 < segs.size() && segs[start + 1].first <= after_snapshot) {
    segs[start].last = segs[start + 1].first - 1;
    ++start;
  }
  if (start < segs.size() && segs[start].first > after_snapshot) {
    return Corrupt(segs[start].path, "the log starts at index " +
                                         std::to_string(segs[start].first) +
                                         " but the snapshot ends at index " +
                                         std::to_string(snapshot_.index) + " (entries missing)");
  }
  uint64_t expected = start < segs.size() ? segs[start].first : 0;
  for (size_t i = start; i < segs.size(); ++i) {
    Segment& seg = segs[i];
    if (seg.first != expected) {
      return Corrupt(seg.path, "segment starts at index " + std::to_string(seg.first) +
                                   " but the previous segment ends at index " +
                                   std::to_string(expected - 1));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, OpenReader(seg.path));
    std::string payload;
    Status s;
    for (;;) {
      const uint64_t offset = reader->good_bytes();
      if (!(s = reader->Next(&payload)).ok()) break;
      Result<Entry> e = DecodeEntry(payload);
      if (!e.ok()) {
        return Corrupt(seg.path, e.status().message() + " at offset " + std::to_string(offset));
      }
      if (e->index != expected) {
        return Corrupt(seg.path, "entry at offset " + std::to_string(offset) + " has index " +
                                     std::to_string(e->index) + " where " +
                                     std::to_string(expected) + " was expected");
      }
      if (e->index > snapshot_.index) recovered_.entries.push_back(std::move(e).value());
      ++expected;
    }
    if (s.code() != Code::kOutOfRange) return Corrupt(seg.path, s.message());
    if (reader->torn()) {
      if (i + 1 != segs.size() && !reader->zero_tail()) {
        return Corrupt(seg.path, "cut short at offset " + std::to_string(reader->good_bytes()) +
                                     " but it is not the last segment");
      }
      truncations->push_back({seg.path, reader->good_bytes(), !reader->zero_tail()});
    }
    seg.last = expected - 1;
  }
  segments_ = std::move(segs);
  return Status::Ok();
}

uint64_t DiskStorage::LastIndex() const {
  if (segments_.empty()) return snapshot_.index;
  return std::max(snapshot_.index, segments_.back().last);
}

Status DiskStorage::Check(Status s) {
  if (!s.ok() && failed_.ok()) {
    spdlog::error("raft storage {} failed, refusing further writes: {}", dir_, s.ToString());
    failed_ = s;
  }
  return s;
}

Status DiskStorage::Persist(const Ready& ready) {
  if (ready.snapshot) RETURN_IF_ERROR(InstallSnapshot(*ready.snapshot));
  RETURN_IF_ERROR(Append(ready.entries));
  if (ready.hard_state) RETURN_IF_ERROR(SaveHardState(*ready.hard_state));
  return Sync();
}

Status DiskStorage::Append(const std::vector<Entry>& entries) {
  if (!failed_.ok()) return failed_;
  if (entries.empty()) return Status::Ok();
  const uint64_t first = entries.front().index;
  for (size_t k = 0; k < entries.size(); ++k) {
    if (entries[k].index != first + k) {
      return InvalidArgument("raft entries to store are not contiguous at index " +
                             std::to_string(entries[k].index));
    }
  }
  if (first <= snapshot_.index) {
    return InvalidArgument("raft entry " + std::to_string(first) +
                           " is at or below the snapshot index " + std::to_string(snapshot_.index));
  }
  if (first > LastIndex() + 1) {
    return InvalidArgument("raft entry " + std::to_string(first) +
                           " would leave a gap after the last stored index " +
                           std::to_string(LastIndex()));
  }
  return Check(AppendLocked(entries));
}

Status DiskStorage::AppendLocked(const std::vector<Entry>& entries) {
  const uint64_t first = entries.front().index;
  if (!segments_.empty() && segments_.back().last >= first) RETURN_IF_ERROR(TruncateFrom(first));
  for (const Entry& e : entries) {
    RETURN_IF_ERROR(PrepareSegmentFor(e.index));
    active_->Append(EncodeEntry(e));
    segments_.back().last = e.index;
    active_dirty_ = true;
  }
  return Status::Ok();
}

Status DiskStorage::PrepareSegmentFor(uint64_t index) {
  if (!segments_.empty() && segments_.back().last + 1 == index) {
    if (!active_) {
      ASSIGN_OR_RETURN(active_, OpenWriter(segments_.back().path, options_.preallocate_bytes));
    }
    if (active_->size() < options_.segment_bytes) return Status::Ok();
  }
  if (active_) {
    // A full segment gets its one sync now, cut back to its entries before the next
    // segment exists; the new one is synced by Sync().
    RETURN_IF_ERROR(active_->Finish());
    active_.reset();
    active_dirty_ = false;
  }
  const std::string path = dir_ + "/" + SegmentFileName(index);
  if (fs::exists(path)) return Internal("raft log segment " + path + " exists already");
  ASSIGN_OR_RETURN(active_, OpenWriter(path, options_.preallocate_bytes));
  segments_.push_back({index, index - 1, path});
  dir_dirty_ = true;
  return Status::Ok();
}

Status DiskStorage::TruncateFrom(uint64_t index) {
  // Whole segments go from the last one back, each deletion durable before
  // the next, so that a crash leaves a prefix of the log and never a gap.
  while (!segments_.empty() && segments_.back().first >= index) {
    RETURN_IF_ERROR(RemoveLastSegment());
  }
  if (segments_.empty() || segments_.back().last < index) return Status::Ok();
  Segment& seg = segments_.back();
  if (active_) RETURN_IF_ERROR(active_->Flush());
  active_.reset();
  active_dirty_ = false;  // TruncateDurably syncs what stays
  ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, OpenReader(seg.path));
  std::string payload;
  for (uint64_t i = seg.first; i < index; ++i) {
    Status s = reader->Next(&payload);
    if (!s.ok()) {
      return Internal("raft log segment " + seg.path +
                      " holds fewer entries than written: " + s.message());
    }
  }
  RETURN_IF_ERROR(TruncateDurably(seg.path, reader->good_bytes()));
  seg.last = index - 1;
  return Status::Ok();
}

Status DiskStorage::RemoveLastSegment() {
  active_.reset();  // it always writes to the last segment
  active_dirty_ = false;
  RETURN_IF_ERROR(Unlink(segments_.back().path));
  segments_.pop_back();
  return SyncDir();
}

Status DiskStorage::SaveHardState(const HardState& hs) {
  if (!failed_.ok()) return failed_;
  pending_hard_state_ = hs;
  return Status::Ok();
}

Status DiskStorage::Sync() {
  if (!failed_.ok()) return failed_;
  return Check(SyncLocked());
}

Status DiskStorage::SyncLocked() {
  // Entries first: a hard state may commit them.
  if (active_ && active_dirty_) {
    RETURN_IF_ERROR(active_->Sync());
    active_dirty_ = false;
  }
  if (dir_dirty_) RETURN_IF_ERROR(SyncDir());
  if (!pending_hard_state_) return Status::Ok();
  hard_state_ = *pending_hard_state_;
  pending_hard_state_.reset();
  meta_->Append(EncodeHardStateRecord(hard_state_));
  return SyncMeta(hard_state_.term != synced_hard_state_.term ||
                  hard_state_.vote != synced_hard_state_.vote);
}

Status DiskStorage::SyncMeta(bool force) {
  if (meta_->size() > options_.meta_rewrite_bytes) return RewriteMeta();
  if (!force) return meta_->Flush();
  RETURN_IF_ERROR(meta_->Sync());
  synced_hard_state_ = hard_state_;
  return Status::Ok();
}

Status DiskStorage::RewriteMeta() {
  const std::string path = dir_ + "/" + kMetaName;
  const std::string tmp = dir_ + "/" + kMetaTmpName;
  meta_.reset();
  RETURN_IF_ERROR(Unlink(tmp));
  {
    ASSIGN_OR_RETURN(std::unique_ptr<RecordWriter> w, OpenWriter(tmp));
    w->Append(EncodeSnapshotRecord(snapshot_));
    w->Append(EncodeHardStateRecord(hard_state_));
    RETURN_IF_ERROR(w->Sync());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename " + tmp, errno);
  RETURN_IF_ERROR(SyncDir());
  ASSIGN_OR_RETURN(meta_, OpenWriter(path));
  synced_hard_state_ = hard_state_;
  return Status::Ok();
}

Status DiskStorage::RecordSnapshot(const SnapshotMetadata& snapshot) {
  meta_->Append(EncodeSnapshotRecord(snapshot));
  snapshot_ = snapshot;
  return SyncMeta(true);
}

Status DiskStorage::SaveSnapshot(const SnapshotMetadata& snapshot) {
  if (!failed_.ok()) return failed_;
  if (snapshot.index < snapshot_.index) {
    return InvalidArgument("raft snapshot at " + std::to_string(snapshot.index) +
                           " is older than the stored one at " + std::to_string(snapshot_.index));
  }
  return Check([&]() -> Status {
    RETURN_IF_ERROR(RecordSnapshot(snapshot));
    // Only segments wholly covered by the snapshot go; in any order, since
    // recovery skips whatever of them is left.
    size_t n = 0;
    while (n < segments_.size() && segments_[n].last <= snapshot.index) ++n;
    if (n == 0) return Status::Ok();
    if (n == segments_.size()) {
      active_.reset();
      active_dirty_ = false;
    }
    for (size_t i = 0; i < n; ++i) RETURN_IF_ERROR(Unlink(segments_[i].path));
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(n));
    return SyncDir();
  }());
}

Status DiskStorage::InstallSnapshot(const SnapshotMetadata& snapshot) {
  if (!failed_.ok()) return failed_;
  if (snapshot.index < snapshot_.index) {
    return InvalidArgument("raft snapshot at " + std::to_string(snapshot.index) +
                           " is older than the stored one at " + std::to_string(snapshot_.index));
  }
  // The core installs a snapshot only when its log does not hold the
  // snapshot's last entry, so entries after it conflict with the leader: they
  // go first, so that no crash can bring them back after the new snapshot.
  if (!segments_.empty() && segments_.back().last > snapshot.index) {
    RETURN_IF_ERROR(Check(TruncateFrom(snapshot.index + 1)));
  }
  return SaveSnapshot(snapshot);
}

Status DiskStorage::SyncDir() {
  int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + dir_, errno);
  Status s;
  if (::fsync(fd) != 0) s = ErrnoStatus("fsync " + dir_, errno);
  ::close(fd);
  if (s.ok()) dir_dirty_ = false;
  return s;
}

}  // namespace dfs::raft
