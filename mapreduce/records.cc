#include "mapreduce/records.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace dfs::mr {

namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Parses a varint at the front of *data; 0 bytes used means incomplete, -1 malformed.
int GetVarint(std::string_view data, uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < data.size() && i < 10; ++i) {
    uint8_t b = static_cast<uint8_t>(data[i]);
    result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = result;
      return static_cast<int>(i + 1);
    }
  }
  return data.size() >= 10 ? -1 : 0;
}

constexpr size_t kReadChunk = 1 << 20;

}  // namespace

void AppendRecord(std::string* out, std::string_view key, std::string_view value) {
  PutVarint(out, key.size());
  PutVarint(out, value.size());
  out->append(key);
  out->append(value);
}

RecordReader::RecordReader(std::string_view data) : data_(data) {}

RecordReader::RecordReader(int fd, uint64_t offset, uint64_t length)
    : fd_(fd), file_pos_(offset), file_end_(offset + length) {}

Result<std::unique_ptr<RecordReader>> RecordReader::OpenFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  off_t size = lseek(fd, 0, SEEK_END);
  auto r = std::make_unique<RecordReader>(fd, 0, static_cast<uint64_t>(size));
  r->owns_fd_ = true;
  return r;
}

RecordReader::~RecordReader() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

// Makes at least `need` unread bytes available if the file has them.
Status RecordReader::Fill(size_t need) {
  if (fd_ < 0 || data_.size() >= need || file_pos_ >= file_end_) return Status::Ok();
  std::string next(data_);
  size_t want = std::max(need, kReadChunk);
  while (next.size() < want && file_pos_ < file_end_) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(want - next.size(), file_end_ - file_pos_));
    size_t old = next.size();
    next.resize(old + n);
    ssize_t got = pread(fd_, next.data() + old, n, static_cast<off_t>(file_pos_));
    if (got < 0) return ErrnoStatus("read map output", errno);
    if (got == 0) return DataLoss("map output segment ends early");
    next.resize(old + static_cast<size_t>(got));
    file_pos_ += static_cast<uint64_t>(got);
  }
  buf_ = std::move(next);
  data_ = buf_;
  return Status::Ok();
}

Result<bool> RecordReader::Next() {
  RETURN_IF_ERROR(Fill(20));
  if (data_.empty()) return false;
  uint64_t klen = 0, vlen = 0;
  int a = GetVarint(data_, &klen);
  int b = a > 0 ? GetVarint(data_.substr(static_cast<size_t>(a)), &vlen) : -1;
  if (a <= 0 || b <= 0) return DataLoss("corrupt record header in map output");
  size_t total = static_cast<size_t>(a + b) + klen + vlen;
  if (data_.size() < total) {
    RETURN_IF_ERROR(Fill(total));
    if (data_.size() < total) return DataLoss("truncated record in map output");
  }
  size_t h = static_cast<size_t>(a + b);
  key_ = data_.substr(h, klen);
  value_ = data_.substr(h + klen, vlen);
  data_.remove_prefix(total);
  return true;
}

MergeIterator::MergeIterator(std::vector<std::unique_ptr<SortedRecords>> inputs)
    : inputs_(std::move(inputs)) {}

bool MergeIterator::Less(size_t a, size_t b) const {
  int c = inputs_[a]->key().compare(inputs_[b]->key());
  return c < 0 || (c == 0 && a < b);
}

void MergeIterator::SiftDown(size_t i) {
  size_t n = heap_.size();
  while (true) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && Less(heap_[l], heap_[m])) m = l;
    if (r < n && Less(heap_[r], heap_[m])) m = r;
    if (m == i) return;
    std::swap(heap_[i], heap_[m]);
    i = m;
  }
}

Result<bool> MergeIterator::Next() {
  if (!started_) {
    started_ = true;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      ASSIGN_OR_RETURN(bool more, inputs_[i]->Next());
      if (more) heap_.push_back(i);
    }
    for (size_t i = heap_.size(); i-- > 0;) SiftDown(i);
    return !heap_.empty();
  }
  if (heap_.empty()) return false;
  ASSIGN_OR_RETURN(bool more, inputs_[heap_.front()]->Next());
  if (!more) {
    heap_.front() = heap_.back();
    heap_.pop_back();
  }
  if (!heap_.empty()) SiftDown(0);
  return !heap_.empty();
}

namespace {

class GroupValues : public Values {
 public:
  GroupValues(SortedRecords* in, std::string key) : in_(in), key_(std::move(key)) {}
  bool Next(std::string_view* value) override {
    if (done_) return false;
    if (first_) {
      first_ = false;
      *value = in_->value();
      return true;
    }
    auto more = in_->Next();
    if (!more.ok()) {
      error_ = more.status();
      done_ = true;
      at_end_ = true;
      return false;
    }
    if (!*more) {
      done_ = at_end_ = true;
      return false;
    }
    if (in_->key() != key_) {
      done_ = true;
      return false;
    }
    *value = in_->value();
    return true;
  }
  // After the group: drains unread values; true if the stream has another group.
  Result<bool> Finish() {
    std::string_view v;
    while (Next(&v)) {
    }
    if (!error_.ok()) return error_;
    return !at_end_;
  }

 private:
  SortedRecords* in_;
  std::string key_;
  bool first_ = true, done_ = false, at_end_ = false;
  Status error_;
};

}  // namespace

Status ForEachGroup(SortedRecords* in,
                    const std::function<Status(std::string_view key, Values& values)>& fn) {
  ASSIGN_OR_RETURN(bool more, in->Next());
  while (more) {
    GroupValues values(in, std::string(in->key()));
    std::string key(in->key());
    RETURN_IF_ERROR(fn(key, values));
    ASSIGN_OR_RETURN(more, values.Finish());
  }
  return Status::Ok();
}

Status WriteIndex(const std::string& path, const std::vector<uint64_t>& offsets) {
  std::string data(offsets.size() * 8, '\0');
  for (size_t i = 0; i < offsets.size(); ++i) {
    for (int b = 0; b < 8; ++b) data[i * 8 + b] = static_cast<char>(offsets[i] >> (8 * b));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create " + path, errno);
  ssize_t n = ::write(fd, data.data(), data.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) return ErrnoStatus("write " + path, err);
  return Status::Ok();
}

Result<std::vector<uint64_t>> ReadIndex(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  std::string data;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (n < 0 || data.size() % 8 != 0 || data.size() < 16) return DataLoss("bad index file " + path);
  std::vector<uint64_t> offsets(data.size() / 8);
  for (size_t i = 0; i < offsets.size(); ++i) {
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(data[i * 8 + b])) << (8 * b);
    offsets[i] = v;
  }
  return offsets;
}

}  // namespace dfs::mr
