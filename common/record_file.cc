#include "common/record_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/crc32c.h"

namespace dfs {

RecordWriter::~RecordWriter() {
  Flush();
  ::close(fd_);
}

Result<RecordWriter*> RecordWriter::Open(const std::string& path, uint64_t preallocate) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) {
    int e = errno;
    ::close(fd);
    return ErrnoStatus("seek " + path, e);
  }
  return new RecordWriter(fd, static_cast<uint64_t>(size), preallocate);
}

namespace {

Status PWriteAll(int fd, const char* data, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::pwrite(fd, data + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write log", errno);
    }
    done += static_cast<size_t>(w);
  }
  return Status::Ok();
}

}  // namespace

void RecordWriter::Append(const std::string& payload) {
  uint32_t len = static_cast<uint32_t>(payload.size());
  uint32_t hdr[3] = {len, Crc32c(&len, 4), Crc32c(payload.data(), payload.size())};
  buf_.append(reinterpret_cast<const char*>(hdr), sizeof hdr);
  buf_.append(payload);
}

Status RecordWriter::Flush() {
  if (buf_.empty()) return Status::Ok();
  RETURN_IF_ERROR(PWriteAll(fd_, buf_.data(), buf_.size(), size_));
  size_ += buf_.size();
  buf_.clear();
  if (size_ > allocated_) allocated_ = size_;
  if (preallocate_ > 0 && allocated_ - size_ < preallocate_ / 2) {
    const std::string zeros(preallocate_, '\0');
    RETURN_IF_ERROR(PWriteAll(fd_, zeros.data(), zeros.size(), allocated_));
    allocated_ += zeros.size();
  }
  return Status::Ok();
}

Status RecordWriter::Finish() {
  RETURN_IF_ERROR(Flush());
  if (allocated_ > size_ && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    return ErrnoStatus("truncate log", errno);
  }
  allocated_ = size_;
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync log", errno);
  return Status::Ok();
}

Status RecordWriter::Sync() {
  RETURN_IF_ERROR(Flush());
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync log", errno);
  return Status::Ok();
}

RecordReader::~RecordReader() = default;

Result<RecordReader*> RecordReader::Open(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return new RecordReader(ss.str());
}

Status RecordReader::Next(std::string* payload) {
  size_t left = data_.size() - offset_;
  if (left == 0) return OutOfRange("end of records");
  // Only zeros from `from` on: what a crash leaves of an unfinished last record in a
  // file extended with zeros (preallocated, or grown before its data reached disk).
  auto zeros_from = [&](uint64_t from) {
    return from >= data_.size() || data_.find_first_not_of('\0', from) == std::string::npos;
  };
  uint32_t hdr[3];
  if (left < sizeof hdr) {
    torn_ = true;
    zero_tail_ = zeros_from(offset_);
    return OutOfRange("torn record header");
  }
  memcpy(hdr, data_.data() + offset_, sizeof hdr);
  if (Crc32c(&hdr[0], 4) != hdr[1]) {
    if (zeros_from(offset_ + sizeof hdr)) {
      torn_ = true;
      zero_tail_ = zeros_from(offset_);
      return OutOfRange(zero_tail_ ? "zero-filled tail" : "torn record header");
    }
    return DataLoss("corrupt record header at offset " + std::to_string(offset_));
  }
  if (hdr[0] > left - sizeof hdr) {
    torn_ = true;
    return OutOfRange("torn record");
  }
  const char* p = data_.data() + offset_ + sizeof hdr;
  if (Crc32c(p, hdr[0]) != hdr[2]) {
    if (zeros_from(offset_ + sizeof hdr + hdr[0])) {
      torn_ = true;
      return OutOfRange("torn last record");
    }
    return DataLoss("corrupt record at offset " + std::to_string(offset_));
  }
  payload->assign(p, hdr[0]);
  offset_ += sizeof hdr + hdr[0];
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open " + tmp, errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return ErrnoStatus("write " + tmp, e);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoStatus("fsync " + tmp, e);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename " + tmp, errno);
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace dfs
