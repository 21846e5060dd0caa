#include "mapreduce/map_output.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace dfs::mr {

namespace {

// Sorted records of one partition straight from the sort buffer.
class BufferRun : public SortedRecords {
 public:
  BufferRun(const std::string& arena, const void* begin, const void* end, size_t stride,
            std::function<std::pair<std::string_view, std::string_view>(const void*)> get)
      : arena_(arena),
        p_(static_cast<const char*>(begin)),
        end_(static_cast<const char*>(end)),
        stride_(stride),
        get_(std::move(get)) {}
  Result<bool> Next() override {
    if (!first_) p_ += stride_;
    first_ = false;
    if (p_ >= end_) return false;
    std::tie(key_, value_) = get_(p_);
    return true;
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }

 private:
  const std::string& arena_;
  const char* p_;
  const char* end_;
  size_t stride_;
  std::function<std::pair<std::string_view, std::string_view>(const void*)> get_;
  bool first_ = true;
  std::string_view key_, value_;
};

Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write map output", errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

uint32_t HashPartition(std::string_view key, uint32_t partitions) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return static_cast<uint32_t>(h % partitions);
}

MapOutputBuffer::~MapOutputBuffer() {
  for (const auto& s : spills_) ::unlink(s.path.c_str());
}

Status MapOutputBuffer::Add(uint32_t partition, std::string_view key, std::string_view value) {
  if (partition >= o_.partitions) {
    return InvalidArgument("partitioner returned " + std::to_string(partition) + " for " +
                           std::to_string(o_.partitions) + " partitions");
  }
  entries_.push_back({partition, static_cast<uint32_t>(key.size()),
                      static_cast<uint32_t>(value.size()), arena_.size()});
  arena_.append(key);
  arena_.append(value);
  if (arena_.size() + entries_.size() * sizeof(Entry) >= o_.buffer_bytes) return SpillBuffer();
  return Status::Ok();
}

Result<std::string> DecompressSegment(std::string_view frame) {
  if (frame.empty()) return std::string();
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 36)) {
    return DataLoss("map output segment is not a zstd frame");
  }
  std::string out(size, '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != size) {
    return DataLoss(std::string("corrupt compressed map output: ") + ZSTD_getErrorName(n));
  }
  return out;
}

Status MapOutputBuffer::WriteRun(int fd, SortedRecords* in, uint64_t* written, bool final) {
  std::string out;
  Status st;
  bool compress = final && o_.compress;
  auto flush = [&]() {
    if (!compress && st.ok() && out.size() >= (1 << 20)) {
      st = WriteAll(fd, out);
      *written += out.size();
      out.clear();
    }
  };
  if (o_.combiner) {
    RETURN_IF_ERROR(o_.combiner(in, [&](std::string_view k, std::string_view v) {
      AppendRecord(&out, k, v);
      ++output_records_;
      flush();
    }));
  } else {
    while (true) {
      ASSIGN_OR_RETURN(bool more, in->Next());
      if (!more) break;
      AppendRecord(&out, in->key(), in->value());
      ++output_records_;
      flush();
    }
  }
  RETURN_IF_ERROR(st);
  if (compress && !out.empty()) {
    std::string z(ZSTD_compressBound(out.size()), '\0');
    size_t n = ZSTD_compress(z.data(), z.size(), out.data(), out.size(), 1);
    if (ZSTD_isError(n)) return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
    z.resize(n);
    out.swap(z);
  }
  RETURN_IF_ERROR(WriteAll(fd, out));
  *written += out.size();
  return Status::Ok();
}

Status MapOutputBuffer::SortAndWrite(const std::string& path, std::vector<uint64_t>* offsets,
                                     bool final) {
  const char* arena = arena_.data();
  std::sort(entries_.begin(), entries_.end(), [arena](const Entry& a, const Entry& b) {
    if (a.partition != b.partition) return a.partition < b.partition;
    std::string_view ka(arena + a.offset, a.key_len), kb(arena + b.offset, b.key_len);
    int c = ka.compare(kb);
    return c < 0 || (c == 0 && a.offset < b.offset);
  });
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create " + path, errno);
  offsets->assign(o_.partitions + 1, 0);
  uint64_t written = 0;
  size_t i = 0;
  Status st;
  auto get = [arena](const void* p) {
    const Entry* e = static_cast<const Entry*>(p);
    return std::make_pair(std::string_view(arena + e->offset, e->key_len),
                          std::string_view(arena + e->offset + e->key_len, e->value_len));
  };
  for (uint32_t p = 0; p < o_.partitions && st.ok(); ++p) {
    (*offsets)[p] = written;
    size_t j = i;
    while (j < entries_.size() && entries_[j].partition == p) ++j;
    if (j > i) {
      BufferRun run(arena_, &entries_[i], &entries_[0] + j, sizeof(Entry), get);
      st = WriteRun(fd, &run, &written, final);
    }
    i = j;
  }
  (*offsets)[o_.partitions] = written;
  ::close(fd);
  entries_.clear();
  arena_.clear();
  return st;
}

Status MapOutputBuffer::SpillBuffer() {
  Spill s;
  s.path = o_.spill_dir + "/spill" + std::to_string(spills_.size());
  uint64_t before = output_records_;
  RETURN_IF_ERROR(SortAndWrite(s.path, &s.offsets, false));
  // Spilled records are counted when the merge writes them out.
  output_records_ = before;
  spills_.push_back(std::move(s));
  ++spill_count_;
  return Status::Ok();
}

Status MapOutputBuffer::Finish(const std::string& path) {
  std::string tmp = path + ".tmp";
  std::vector<uint64_t> offsets;
  output_records_ = 0;
  if (spills_.empty()) {
    RETURN_IF_ERROR(SortAndWrite(tmp, &offsets, true));
  } else {
    if (!entries_.empty()) RETURN_IF_ERROR(SpillBuffer());
    std::vector<int> fds;
    for (const auto& s : spills_) {
      int fd = ::open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        for (int f : fds) ::close(f);
        return ErrnoStatus("open " + s.path, errno);
      }
      fds.push_back(fd);
    }
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    Status st = out < 0 ? ErrnoStatus("create " + tmp, errno) : Status::Ok();
    offsets.assign(o_.partitions + 1, 0);
    uint64_t written = 0;
    for (uint32_t p = 0; p < o_.partitions && st.ok(); ++p) {
      offsets[p] = written;
      std::vector<std::unique_ptr<SortedRecords>> runs;
      for (size_t i = 0; i < spills_.size(); ++i) {
        const auto& off = spills_[i].offsets;
        runs.push_back(std::make_unique<RecordReader>(fds[i], off[p], off[p + 1] - off[p]));
      }
      MergeIterator merged(std::move(runs));
      st = WriteRun(out, &merged, &written, true);
    }
    offsets[o_.partitions] = written;
    if (out >= 0) ::close(out);
    for (int f : fds) ::close(f);
    RETURN_IF_ERROR(st);
    for (const auto& s : spills_) ::unlink(s.path.c_str());
    spills_.clear();
  }
  RETURN_IF_ERROR(WriteIndex(path + ".index.tmp", offsets));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("rename " + tmp, errno);
  if (::rename((path + ".index.tmp").c_str(), (path + ".index").c_str()) != 0) {
    return ErrnoStatus("rename index of " + path, errno);
  }
  return Status::Ok();
}

}  // namespace dfs::mr
