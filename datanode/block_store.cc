#include "datanode/block_store.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "common/crc32c.h"
#include "common/logging.h"
#include "common/record_file.h"

namespace dfs {

namespace fs = std::filesystem;

namespace {

Status PWriteAll(int fd, const char* p, size_t len, uint64_t off, const std::string& what) {
  while (len > 0) {
    ssize_t n = ::pwrite(fd, p, len, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + what, errno);
    }
    p += n;
    off += static_cast<uint64_t>(n);
    len -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status PReadAll(int fd, char* p, size_t len, uint64_t off, const std::string& what) {
  while (len > 0) {
    ssize_t n = ::pread(fd, p, len, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + what, errno);
    }
    if (n == 0) return DataLoss(what + " is shorter than expected");
    p += n;
    len -= static_cast<size_t>(n);
    off += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

std::string MetaName(uint64_t id, uint64_t gs) {
  return "blk_" + std::to_string(id) + "_" + std::to_string(gs) + ".meta";
}

std::string NewUuid() {
  std::random_device rd;
  char buf[40];
  snprintf(buf, sizeof buf, "%08x-%04x-%04x-%08x", rd(), rd() & 0xffff, rd() & 0xffff, rd());
  return buf;
}

}  // namespace

ReplicaWriter::~ReplicaWriter() {
  if (data_fd_ >= 0) ::close(data_fd_);
  if (meta_fd_ >= 0) ::close(meta_fd_);
  if (!finalized_ && !kept_) {
    std::error_code ec;
    fs::remove(info_.data_path, ec);
    fs::remove(info_.meta_path, ec);
    store_->Abandoned(info_.id);
  }
}

Status ReplicaWriter::Write(uint64_t offset, const char* data, size_t len, const uint32_t* crcs,
                            size_t ncrcs) {
  if (offset % kBytesPerChecksum != 0 || !AcceptsOffset(offset)) {
    return InvalidArgument("replica write at offset " + std::to_string(offset) +
                           " of a replica holding " + std::to_string(bytes_) + " bytes");
  }
  RETURN_IF_ERROR(PWriteAll(data_fd_, data, len, offset, info_.data_path));
  RETURN_IF_ERROR(PWriteAll(meta_fd_, reinterpret_cast<const char*>(crcs), ncrcs * 4,
                            kMetaHeaderBytes + offset / kBytesPerChecksum * 4, info_.meta_path));
  if (offset + len < bytes_) {
    // A shorter resend of the last chunk: drop what the first one left beyond it.
    uint64_t meta_len = kMetaHeaderBytes + ChunkCount(offset + len) * 4;
    if (::ftruncate(data_fd_, static_cast<off_t>(offset + len)) != 0 ||
        ::ftruncate(meta_fd_, static_cast<off_t>(meta_len)) != 0) {
      return ErrnoStatus("truncate " + info_.data_path, errno);
    }
  }
  bytes_ = offset + len;
  return Status::Ok();
}

Status ReplicaWriter::Sync() {
  if (::fdatasync(data_fd_) != 0) return ErrnoStatus("fdatasync " + info_.data_path, errno);
  if (::fdatasync(meta_fd_) != 0) return ErrnoStatus("fdatasync " + info_.meta_path, errno);
  return Status::Ok();
}

Result<ReplicaInfo> ReplicaWriter::Finalize() {
  ::close(data_fd_);
  ::close(meta_fd_);
  data_fd_ = meta_fd_ = -1;
  ReplicaInfo done = info_;
  done.num_bytes = bytes_;
  done.data_path = dir_ + "/current/blk_" + std::to_string(info_.id);
  done.meta_path = dir_ + "/current/" + MetaName(info_.id, info_.generation_stamp);
  std::error_code ec;
  fs::rename(info_.meta_path, done.meta_path, ec);
  if (!ec) fs::rename(info_.data_path, done.data_path, ec);
  if (ec) return IoError("finalize block " + std::to_string(info_.id) + ": " + ec.message());
  finalized_ = true;
  store_->Finalized(done);
  return done;
}

namespace {
// Whether a volume works: its directories exist and a small file can be written there.
Status ProbeVolume(const std::string& dir) {
  std::string probe = dir + "/current/.probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create " + probe, errno);
  Status s = PWriteAll(fd, "probe", 5, 0, probe);
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus("close " + probe, errno);
  if (::unlink(probe.c_str()) != 0 && s.ok()) s = ErrnoStatus("remove " + probe, errno);
  if (s.ok() && !fs::is_directory(dir + "/rbw")) s = IoError(dir + "/rbw is not a directory");
  return s;
}
}  // namespace

Status BlockStore::TooManyFailed() const {
  if (failed_.size() <= max_failed_volumes_ && !dirs_.empty()) return Status::Ok();
  std::string why;
  for (const auto& [dir, reason] : failed_) why += (why.empty() ? "" : "; ") + reason;
  return IoError(std::to_string(failed_.size()) + " failed data directories (" +
                 (dirs_.empty() ? "none left" : "at most " + std::to_string(max_failed_volumes_) +
                                                    " tolerated") + "): " + why);
}

ReplicaInfo ReplicaWriter::Keep() {
  ::close(data_fd_);
  ::close(meta_fd_);
  data_fd_ = meta_fd_ = -1;
  kept_ = true;
  info_.num_bytes = bytes_;
  store_->Kept(info_);
  return info_;
}

void BlockStore::Kept(const ReplicaInfo& info) {
  std::lock_guard<std::mutex> l(mu_);
  writing_.erase(info.id);
  unfinished_[info.id] = info;
  cv_.notify_all();
}

namespace {
// The length of an unfinished replica left by a crash: what both files cover, less a
// last chunk whose checksum does not match (a write cut short). Trims the files to it.
Result<uint64_t> RecoverUnfinished(const std::string& data_path, const std::string& meta_path) {
  std::error_code ec;
  uint64_t data_size = fs::file_size(data_path, ec);
  if (ec) return IoError("size of " + data_path + ": " + ec.message());
  uint64_t meta_size = fs::file_size(meta_path, ec);
  if (ec || meta_size < kMetaHeaderBytes) return DataLoss(meta_path + " has no header");
  uint64_t len = std::min<uint64_t>(data_size, (meta_size - kMetaHeaderBytes) / 4 * kBytesPerChecksum);
  if (len > 0) {
    uint64_t last = (len - 1) / kBytesPerChecksum * kBytesPerChecksum;
    std::string chunk(len - last, '\0');
    uint32_t crc = 0;
    int dfd = ::open(data_path.c_str(), O_RDONLY | O_CLOEXEC);
    int mfd = ::open(meta_path.c_str(), O_RDONLY | O_CLOEXEC);
    Status s = dfd < 0 || mfd < 0 ? ErrnoStatus("open " + data_path, errno) : Status::Ok();
    if (s.ok()) s = PReadAll(dfd, chunk.data(), chunk.size(), last, data_path);
    if (s.ok()) {
      s = PReadAll(mfd, reinterpret_cast<char*>(&crc), 4,
                   kMetaHeaderBytes + last / kBytesPerChecksum * 4, meta_path);
    }
    if (dfd >= 0) ::close(dfd);
    if (mfd >= 0) ::close(mfd);
    RETURN_IF_ERROR(s);
    if (FirstBadChunk(chunk.data(), chunk.size(), &crc) >= 0) len = last;
  }
  fs::resize_file(data_path, len, ec);
  if (!ec) fs::resize_file(meta_path, kMetaHeaderBytes + ChunkCount(len) * 4, ec);
  if (ec) return IoError("trim " + data_path + ": " + ec.message());
  return len;
}
}  // namespace

Result<std::unique_ptr<BlockStore>> BlockStore::Open(const std::vector<std::string>& all_dirs,
                                                      size_t max_failed_volumes) {
  if (all_dirs.empty()) return InvalidArgument("no data directory given");
  std::unique_ptr<BlockStore> store(new BlockStore());
  store->max_failed_volumes_ = max_failed_volumes;
  for (const auto& d : all_dirs) {
    std::error_code ec;
    fs::create_directories(d + "/current", ec);
    if (!ec) fs::create_directories(d + "/rbw", ec);
    Status s = ec ? IoError("data directory " + d + ": " + ec.message()) : ProbeVolume(d);
    if (!s.ok()) {
      spdlog::error("data directory {} failed: {}", d, s.message());
      store->failed_[d] = s.message();
      continue;
    }
    store->dirs_.push_back(d);
  }
  RETURN_IF_ERROR(store->TooManyFailed());
  const std::vector<std::string>& dirs = store->dirs_;
  // Every volume carries the identity, so it survives the loss of any one of them.
  for (const auto& d : dirs) {
    std::ifstream in(d + "/VERSION");
    std::string line;
    while (store->uuid_.empty() && std::getline(in, line)) {
      if (line.rfind("uuid=", 0) == 0) store->uuid_ = line.substr(5);
    }
  }
  if (store->uuid_.empty()) store->uuid_ = NewUuid();
  for (const auto& d : dirs) {
    if (fs::exists(d + "/VERSION")) continue;
    RETURN_IF_ERROR(WriteFileAtomic(d + "/VERSION", "uuid=" + store->uuid_ + "\n"));
  }
  for (const auto& d : dirs) {
    // Pair each meta file with its data file; the meta file names the generation stamp.
    for (const auto& e : fs::directory_iterator(d + "/current")) {
      std::string name = e.path().filename().string();
      uint64_t id = 0, gs = 0;
      if (sscanf(name.c_str(), "blk_%lu_%lu.meta", &id, &gs) != 2) continue;
      ReplicaInfo r;
      r.id = id;
      r.dir = d;
      r.generation_stamp = gs;
      r.meta_path = e.path().string();
      r.data_path = d + "/current/blk_" + std::to_string(id);
      std::error_code ec;
      auto size = fs::file_size(r.data_path, ec);
      if (ec) {
        spdlog::warn("replica {} has a meta file but no data; removing it", r.meta_path);
        fs::remove(r.meta_path, ec);
        continue;
      }
      r.num_bytes = size;
      auto& slot = store->replicas_[id];
      if (slot.id != 0 && slot.generation_stamp >= gs) continue;
      slot = r;
      store->used_ += size;
    }
  }
  for (const auto& d : dirs) {
    // Replicas whose writer went away before a restart: kept, unfinished, for recovery.
    std::vector<fs::path> leftovers;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d + "/rbw", ec)) leftovers.push_back(e.path());
    for (const auto& path : leftovers) {
      uint64_t id = 0, gs = 0;
      if (path.extension() != ".meta" ||
          sscanf(path.filename().c_str(), "blk_%lu_%lu.meta", &id, &gs) != 2) {
        continue;
      }
      ReplicaInfo r;
      r.id = id;
      r.dir = d;
      r.generation_stamp = gs;
      r.meta_path = path.string();
      r.data_path = d + "/rbw/blk_" + std::to_string(id) + "_" + std::to_string(gs);
      Result<uint64_t> len = AlreadyExists("a finalized replica exists");
      if (!store->replicas_.count(id) && !store->unfinished_.count(id)) {
        len = RecoverUnfinished(r.data_path, r.meta_path);
      }
      if (!len.ok()) {
        spdlog::warn("discarding unfinished replica {}: {}", r.meta_path, len.status().message());
        fs::remove(r.data_path, ec);
        fs::remove(r.meta_path, ec);
        continue;
      }
      r.num_bytes = *len;
      store->unfinished_[id] = r;
    }
    std::set<std::string> keep;
    for (const auto& [id, r] : store->unfinished_) keep.insert({r.data_path, r.meta_path});
    for (const auto& e : fs::directory_iterator(d + "/rbw", ec)) {
      if (!keep.count(e.path().string())) fs::remove(e.path(), ec);  // never written to
    }
  }
  spdlog::info("block store {} opened: {} replicas ({} unfinished) in {} directories",
               store->uuid_, store->replicas_.size(), store->unfinished_.size(), dirs.size());
  return store;
}

Result<std::unique_ptr<ReplicaWriter>> BlockStore::Create(const proto::Block& block) {
  std::string dir;
  {
    std::unique_lock<std::mutex> l(mu_);
    std::string what = "block " + std::to_string(block.id());
    auto w = writing_.find(block.id());
    if (w != writing_.end() && w->second >= block.generation_stamp()) {
      return AlreadyExists(what + " is being written already");
    }
    // Pipeline recovery: the old pipeline's writer here ends as soon as it notices that
    // its upstream is gone.
    if (!cv_.wait_for(l, std::chrono::seconds(5), [&] { return !writing_.count(block.id()); })) {
      return Unavailable(what + " is still being written by an older pipeline");
    }
    // Pipeline recovery writes the block again with a newer generation stamp: the old
    // replica (unfinished, or finalized before the pipeline broke) makes way.
    ReplicaInfo old;
    if (auto u = unfinished_.find(block.id()); u != unfinished_.end()) {
      old = u->second;
    } else if (auto f = replicas_.find(block.id()); f != replicas_.end()) {
      old = f->second;
    }
    if (old.id != 0 && old.generation_stamp >= block.generation_stamp()) {
      return AlreadyExists("replica of " + what + " already exists");
    }
    if (old.id != 0) {
      if (replicas_.erase(block.id())) used_ -= std::min(used_, old.num_bytes);
      unfinished_.erase(block.id());
      std::error_code ec;
      fs::remove(old.data_path, ec);
      fs::remove(old.meta_path, ec);
    }
    writing_[block.id()] = block.generation_stamp();
  }
  std::vector<std::string> dirs;
  {
    std::lock_guard<std::mutex> l(mu_);
    dirs = dirs_;
  }
  if (dirs.empty()) {
    Abandoned(block.id());
    return IoError("no data directory in service");
  }
  // Volumes in turn (so disks share the load), skipping any with less than 64 MiB free.
  size_t first = next_volume_++;
  for (size_t i = 0; i < dirs.size() && dir.empty(); ++i) {
    const std::string& d = dirs[(first + i) % dirs.size()];
    struct statvfs sv;
    if (::statvfs(d.c_str(), &sv) == 0 && sv.f_bavail * sv.f_frsize >= (64u << 20)) dir = d;
  }
  if (dir.empty()) dir = dirs[first % dirs.size()];
  ReplicaInfo info;
  info.id = block.id();
  info.dir = dir;
  info.generation_stamp = block.generation_stamp();
  info.data_path =
      dir + "/rbw/blk_" + std::to_string(block.id()) + "_" + std::to_string(block.generation_stamp());
  info.meta_path = dir + "/rbw/" + MetaName(block.id(), block.generation_stamp());
  int data_fd = ::open(info.data_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int meta_fd = ::open(info.meta_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (data_fd < 0 || meta_fd < 0) {
    int err = errno;
    if (data_fd >= 0) ::close(data_fd);
    if (meta_fd >= 0) ::close(meta_fd);
    Abandoned(block.id());
    return ErrnoStatus("create replica in " + dir, err);
  }
  uint32_t header[2] = {kMetaMagic, kBytesPerChecksum};
  std::unique_ptr<ReplicaWriter> w(new ReplicaWriter(this, info, dir, data_fd, meta_fd));
  RETURN_IF_ERROR(PWriteAll(meta_fd, reinterpret_cast<const char*>(header), sizeof header, 0,
                            info.meta_path));
  return w;
}

void BlockStore::Finalized(const ReplicaInfo& info) {
  std::lock_guard<std::mutex> l(mu_);
  writing_.erase(info.id);
  cv_.notify_all();
  replicas_[info.id] = info;
  used_ += info.num_bytes;
}

void BlockStore::Abandoned(uint64_t block_id) {
  std::lock_guard<std::mutex> l(mu_);
  writing_.erase(block_id);
  cv_.notify_all();
}

Result<ReplicaInfo> BlockStore::Find(uint64_t block_id, uint64_t min_generation_stamp) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = replicas_.find(block_id);
  if (it == replicas_.end()) {
    return NotFound("no replica of block " + std::to_string(block_id) + " on this datanode");
  }
  if (it->second.generation_stamp < min_generation_stamp) {
    return NotFound("replica of block " + std::to_string(block_id) + " is stale (generation " +
                    std::to_string(it->second.generation_stamp) + ")");
  }
  return it->second;
}

Status BlockStore::Delete(uint64_t block_id, uint64_t max_generation_stamp) {
  ReplicaInfo r;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = replicas_.find(block_id);
    auto u = unfinished_.find(block_id);
    uint64_t gs = it != replicas_.end() ? it->second.generation_stamp
                  : u != unfinished_.end() ? u->second.generation_stamp : 0;
    if (gs > max_generation_stamp) {
      return FailedPrecondition("replica of block " + std::to_string(block_id) +
                                " is newer (generation stamp " + std::to_string(gs) + ")");
    }
    if (it != replicas_.end()) {
      r = it->second;
      used_ -= std::min(used_, r.num_bytes);
      replicas_.erase(it);
    } else if (u != unfinished_.end()) {
      r = u->second;
      unfinished_.erase(u);
    } else {
      return NotFound("no replica of block " + std::to_string(block_id));
    }
  }
  std::error_code ec;
  fs::remove(r.data_path, ec);
  fs::remove(r.meta_path, ec);
  return Status::Ok();
}

namespace {
std::vector<proto::Block> ToBlocks(const std::unordered_map<uint64_t, ReplicaInfo>& replicas) {
  std::vector<proto::Block> out;
  out.reserve(replicas.size());
  for (const auto& [id, r] : replicas) {
    proto::Block b;
    b.set_id(id);
    b.set_generation_stamp(r.generation_stamp);
    b.set_num_bytes(r.num_bytes);
    out.push_back(b);
  }
  return out;
}
}  // namespace

std::vector<proto::Block> BlockStore::Report() const {
  std::lock_guard<std::mutex> l(mu_);
  return ToBlocks(replicas_);
}

std::vector<proto::Block> BlockStore::ReportUnfinished() const {
  std::lock_guard<std::mutex> l(mu_);
  return ToBlocks(unfinished_);
}

Result<ReplicaInfo> BlockStore::Recover(uint64_t block_id, uint64_t new_generation_stamp) {
  std::lock_guard<std::mutex> l(mu_);
  std::string what = "block " + std::to_string(block_id);
  if (writing_.count(block_id)) return Unavailable(what + " is still being written");
  ReplicaInfo r;
  bool unfinished = false;
  if (auto u = unfinished_.find(block_id); u != unfinished_.end()) {
    r = u->second;
    unfinished = true;
  } else if (auto f = replicas_.find(block_id); f != replicas_.end()) {
    r = f->second;
    if (r.generation_stamp == new_generation_stamp) return r;  // recovered already
  } else {
    return NotFound("no replica of " + what + " to recover");
  }
  if (r.generation_stamp > new_generation_stamp) {
    return FailedPrecondition(what + " has a newer generation stamp");
  }
  ReplicaInfo done = r;
  done.generation_stamp = new_generation_stamp;
  done.data_path = r.dir + "/current/blk_" + std::to_string(block_id);
  done.meta_path = r.dir + "/current/" + MetaName(block_id, new_generation_stamp);
  std::error_code ec;
  fs::rename(r.meta_path, done.meta_path, ec);
  if (!ec && unfinished) fs::rename(r.data_path, done.data_path, ec);
  if (ec) return IoError("recover " + what + ": " + ec.message());
  if (unfinished) {
    unfinished_.erase(block_id);
    used_ += done.num_bytes;
  }
  replicas_[block_id] = done;
  return done;
}

proto::StorageReport BlockStore::Storage() const {
  proto::StorageReport s;
  uint64_t cap = 0, avail = 0;
  std::vector<std::string> dirs;
  {
    std::lock_guard<std::mutex> l(mu_);
    dirs = dirs_;
    for (const auto& [dir, why] : failed_) s.add_failed_volumes(dir + ": " + why);
  }
  for (const auto& d : dirs) {
    struct statvfs sv;
    if (::statvfs(d.c_str(), &sv) != 0) continue;
    cap += sv.f_blocks * sv.f_frsize;
    avail += sv.f_bavail * sv.f_frsize;
  }
  std::lock_guard<std::mutex> l(mu_);
  s.set_capacity(cap);
  s.set_used(used_);
  s.set_remaining(avail);
  return s;
}

Result<std::vector<proto::Block>> BlockStore::CheckVolumes() {
  std::vector<std::string> dirs;
  {
    std::lock_guard<std::mutex> l(mu_);
    dirs = dirs_;
  }
  std::vector<proto::Block> lost;
  for (const auto& d : dirs) {
    Status s = ProbeVolume(d);
    if (s.ok()) continue;
    std::lock_guard<std::mutex> l(mu_);
    spdlog::error("data directory {} failed: {}; taking it out of service", d, s.message());
    failed_[d] = s.message();
    dirs_.erase(std::remove(dirs_.begin(), dirs_.end(), d), dirs_.end());
    for (auto it = replicas_.begin(); it != replicas_.end();) {
      if (it->second.dir != d) {
        ++it;
        continue;
      }
      proto::Block b;
      b.set_id(it->first);
      b.set_generation_stamp(it->second.generation_stamp);
      b.set_num_bytes(it->second.num_bytes);
      lost.push_back(b);
      used_ -= std::min(used_, it->second.num_bytes);
      it = replicas_.erase(it);
    }
    for (auto it = unfinished_.begin(); it != unfinished_.end();) {
      it = it->second.dir == d ? unfinished_.erase(it) : std::next(it);
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  RETURN_IF_ERROR(TooManyFailed());
  return lost;
}

ReplicaReader::~ReplicaReader() {
  ::close(data_fd_);
  ::close(meta_fd_);
}

Result<std::unique_ptr<ReplicaReader>> BlockStore::OpenReader(const ReplicaInfo& r) const {
  int dfd = ::open(r.data_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("open " + r.data_path, errno);
  int mfd = ::open(r.meta_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (mfd < 0) {
    int e = errno;
    ::close(dfd);
    return ErrnoStatus("open " + r.meta_path, e);
  }
  return std::unique_ptr<ReplicaReader>(new ReplicaReader(r, dfd, mfd));
}

Status ReplicaReader::Read(uint64_t offset, size_t len, char* data, uint32_t* crcs) {
  const ReplicaInfo& r = info_;
  if (offset % kBytesPerChecksum != 0) return InvalidArgument("unaligned replica read");
  if (offset + len > r.num_bytes) return OutOfRange("read past the end of the replica");
  size_t nchunks = ChunkCount(len);
  RETURN_IF_ERROR(PReadAll(data_fd_, data, len, offset, r.data_path));
  RETURN_IF_ERROR(PReadAll(meta_fd_, reinterpret_cast<char*>(crcs), nchunks * 4,
                           kMetaHeaderBytes + offset / kBytesPerChecksum * 4, r.meta_path));
  long bad = FirstBadChunk(data, len, crcs);
  if (bad >= 0) {
    return DataLoss("checksum mismatch in block " + std::to_string(r.id) + " at byte " +
                    std::to_string(offset + static_cast<uint64_t>(bad) * kBytesPerChecksum));
  }
  return Status::Ok();
}

}  // namespace dfs
