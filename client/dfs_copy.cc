#include "client/dfs_copy.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "client/cli_util.h"
#include "client/input_stream.h"
#include "client/output_stream.h"

namespace dfs {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBufferBytes = 4 << 20;

// Draws "[=====>     ]  45%  123.4M  234.5 MB/s" on stderr when it is a terminal, over
// all the bytes of one command's copy; without a known total, only bytes and rate.
class Progress {
 public:
  explicit Progress(uint64_t total)
      : total_(total), start_(std::chrono::steady_clock::now()), show_(isatty(2)) {}
  void Add(uint64_t n) {
    done_ += n;
    Draw(false);
  }
  void Finish() {
    if (drawn_) Draw(true);
  }

 private:
  void Draw(bool last) {
    if (!show_) return;
    auto now = std::chrono::steady_clock::now();
    if (!last && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? static_cast<double>(done_) / 1e6 / secs : 0;
    if (total_ == 0) {
      fprintf(stderr, "\r%8s %7.1f MB/s", HumanSize(done_, true).c_str(), rate);
    } else {
      double pct =
          std::min(100.0, 100.0 * static_cast<double>(done_) / static_cast<double>(total_));
      int filled = static_cast<int>(pct / 100 * 30);
      std::string bar(static_cast<size_t>(filled), '=');
      if (filled < 30) bar += '>' + std::string(static_cast<size_t>(29 - filled), ' ');
      fprintf(stderr, "\r[%s] %3.0f%% %8s %7.1f MB/s", bar.c_str(), pct,
              HumanSize(done_, true).c_str(), rate);
    }
    if (last) fprintf(stderr, "\n");
    SetProgressLineOpen(!last);
  }

  uint64_t total_;
  uint64_t done_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
  bool show_;
  bool drawn_ = false;
};

// One copy buffer for the command (it copies one file at a time).
std::vector<char>& Buffer() {
  static std::vector<char> buf(kBufferBytes);
  return buf;
}

// The last component of a remote path ("" for the root).
std::string BaseName(const std::string& remote) {
  return fs::path(NormalizePath(remote)).filename().string();
}

// The last component of a local path, "." and "dir/" included ("" if there is none).
std::string LocalName(const std::string& local) {
  std::error_code ec;
  fs::path p = fs::absolute(local, ec).lexically_normal();
  if (ec) return "";
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// The status of each remote source; an error for one that is missing (rc becomes 1).
std::vector<FileStatus> StatSources(FileSystem* dfs, const std::vector<std::string>& paths,
                                    int* rc) {
  std::vector<FileStatus> found;
  for (const std::string& p : paths) {
    auto st = dfs->GetFileStatus(p);
    if (st.ok()) {
      found.push_back(std::move(*st));
    } else {
      *rc = Fail(p, st.status());
    }
  }
  return found;
}

enum class Kind { kMissing, kFile, kDirectory };

// What is at a remote path; an error other than "missing" (the cluster is down, say) is
// the command's error.
Result<Kind> RemoteKind(FileSystem* dfs, const std::string& path) {
  auto st = dfs->GetFileStatus(path);
  if (st.status().code() == Code::kNotFound) return Kind::kMissing;
  if (!st.ok()) return st.status();
  return st->type() == proto::DIRECTORY ? Kind::kDirectory : Kind::kFile;
}

// The destination of copying something called `name` to `dst`: dst/name if dst is an
// existing directory, else dst itself.
std::string RemoteTarget(const std::string& name, const std::string& dst, Kind dst_kind) {
  if (dst_kind == Kind::kDirectory && !name.empty()) return ChildPath(NormalizePath(dst), name);
  return NormalizePath(dst);
}

// Makes the directory dst, unless it exists.
Status EnsureRemoteDir(FileSystem* dfs, const std::string& dst) {
  Status s = dfs->Mkdirs(dst, false);
  if (s.code() != Code::kAlreadyExists) return s;
  auto kind = RemoteKind(dfs, dst);
  return kind.ok() && *kind == Kind::kDirectory ? Status::Ok() : s;
}

Kind LocalKind(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return Kind::kMissing;
  return fs::is_directory(st) ? Kind::kDirectory : Kind::kFile;
}

// Several sources, or a destination spelled with a trailing '/', need an existing
// directory.
int CheckDestination(size_t sources, Kind dst_kind, const std::string& dst) {
  if (dst_kind == Kind::kDirectory) return 0;
  if (sources == 1 && (dst.size() < 2 || dst.back() != '/')) return 0;
  return Fail(dst, dst_kind == Kind::kMissing ? "No such file or directory" : "Not a directory");
}

// NAME._COPYING_, the name a copy is written under until it is complete; cut short (at
// a character boundary) where that would pass the 255-byte limit of a name.
std::string CopyingName(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t start = slash == std::string::npos ? 0 : slash + 1;
  size_t keep = std::min(path.size() - start, size_t{245});
  while (keep > 0 && (static_cast<unsigned char>(path[start + keep]) & 0xC0) == 0x80) --keep;
  return path.substr(0, start + keep) + "._COPYING_";
}

// The bytes of the regular files under a local path (a directory's symbolic links to
// directories are not followed, as in PutPath).
uint64_t LocalBytes(const fs::path& src) {
  std::error_code ec;
  if (!fs::is_directory(src, ec)) return fs::is_regular_file(src, ec) ? fs::file_size(src, ec) : 0;
  uint64_t total = 0;
  for (auto it =
           fs::recursive_directory_iterator(src, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e;
    if (it->is_regular_file(e)) total += it->file_size(e);
  }
  return total;
}

// Copies what can be read from fd (named src) to out.
Status Pump(int fd, const std::string& src, OutputStream* out, Progress* progress) {
  std::vector<char>& buf = Buffer();
  // read(2), not fread: data from a pipe goes on as it arrives, not a buffer at a time.
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read " + src, errno);
    if (n == 0) return Status::Ok();
    RETURN_IF_ERROR(out->Write(buf.data(), static_cast<size_t>(n)));
    if (progress) progress->Add(static_cast<uint64_t>(n));
  }
}

// Writes the new remote file dst as HDFS's copies do: into dst._COPYING_, renamed to dst
// once complete, so that a failed or interrupted copy neither leaves dst half written
// nor loses the file it was to replace (force). `fill` writes the content.
Status WriteRemote(FileSystem* dfs, const std::string& dst, CreateOptions options, bool force,
                   const std::function<Status(OutputStream*)>& fill) {
  if (auto st = dfs->GetFileStatus(dst); st.ok()) {
    if (st->type() == proto::DIRECTORY) return AlreadyExists("is a directory: " + dst);
    if (!force) return AlreadyExists(dst + " exists");
  }
  const std::string tmp = CopyingName(dst);
  options.overwrite = true;  // what a killed copy left behind
  options.create_parent = false;
  auto out = dfs->Create(tmp, options);
  if (out.status().code() == Code::kFailedPrecondition &&
      out.status().message().rfind("file is being written", 0) == 0) {
    return FailedPrecondition("an earlier copy to " + dst + " did not finish and " + tmp +
                              " is still open; it can be replaced once the namenode ends its "
                              "writer's lease (a minute by default)");
  }
  if (!out.ok()) return out.status();
  Status s = fill(out->get());
  Status closed = (*out)->Close();
  if (s.ok()) s = closed;
  // Without force, a file that appeared at dst meanwhile stays (Rename never replaces).
  if (s.ok()) s = force ? dfs->RenameReplace(tmp, dst) : dfs->Rename(tmp, dst);
  if (!s.ok()) (void)dfs->Delete(tmp, false);
  return s;
}

int PutPath(FileSystem* dfs, const fs::path& src, const std::string& dst,
            const CreateOptions& options, bool force, Progress* progress, bool top) {
  std::error_code ec;
  fs::file_status st = fs::status(src, ec);  // follows a symbolic link
  if (ec) return Fail(src, ec.message());
  if (fs::is_directory(st)) {
    if (!top && fs::is_symlink(fs::symlink_status(src, ec))) {
      return Fail(src, "a symbolic link to a directory; not followed");
    }
    if (Status s = EnsureRemoteDir(dfs, dst); !s.ok()) return Fail(dst, s);
    std::vector<fs::path> entries;
    for (auto it = fs::directory_iterator(src, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      entries.push_back(it->path());
    }
    if (ec) return Fail(src, ec.message());
    std::sort(entries.begin(), entries.end());
    int rc = 0;
    for (const fs::path& e : entries) {
      rc |= PutPath(dfs, e, ChildPath(dst, e.filename().string()), options, force, progress, false);
    }
    return rc;
  }
  if (!fs::is_regular_file(st)) return Fail(src, "not a regular file or directory; skipped");
  FILE* in = fopen(src.c_str(), "rb");
  if (!in) return Fail(src, std::strerror(errno));
  Status s = WriteRemote(dfs, dst, options, force,
                         [&](OutputStream* out) { return Pump(fileno(in), src, out, progress); });
  fclose(in);
  return s.ok() ? 0 : Fail(dst, s);
}

// Copies from `in`'s position to a FILE*, `limit` bytes at most. *write_failed tells a
// failure to write from one to read.
Status CopyStream(InputStream* in, FILE* out, Progress* progress, uint64_t limit = UINT64_MAX,
                  bool* write_failed = nullptr) {
  std::vector<char>& buf = Buffer();
  for (uint64_t left = limit; left > 0;) {
    ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), std::min<uint64_t>(buf.size(), left)));
    if (n == 0) break;
    left -= n;
    if (fwrite(buf.data(), 1, n, out) != n) {
      if (write_failed) *write_failed = true;
      return ErrnoStatus("write", errno);
    }
    if (progress) progress->Add(n);
  }
  return Status::Ok();
}

// Copies a remote file to a FILE*, `limit` bytes at most.
Status CopyOut(FileSystem* dfs, const std::string& src, FILE* out, uint64_t limit = UINT64_MAX) {
  ASSIGN_OR_RETURN(auto in, dfs->Open(src));
  return CopyStream(in.get(), out, nullptr, limit);
}

// Writes a local file as WriteRemote writes a remote one: a new or regular file (a
// symbolic link is followed) through NAME._COPYING_ and a rename; a device or FIFO is
// written into, never replaced. Without force an existing regular file stays.
Status WriteLocal(const fs::path& dst, bool force, const std::function<Status(FILE*)>& fill) {
  std::error_code ec;
  fs::path target = dst;
  if (fs::is_symlink(fs::symlink_status(dst, ec))) {
    target = fs::weakly_canonical(dst, ec);
    if (ec) return ErrnoStatus(dst.string(), ec.value());
  }
  fs::file_status st = fs::status(target, ec);  // not_found for a new file
  if (fs::is_directory(st)) return AlreadyExists("is a directory: " + dst.string());
  const bool special = fs::exists(st) && !fs::is_regular_file(st);
  if (fs::is_regular_file(st) && !force) return AlreadyExists(dst.string() + " exists");
  const std::string tmp = special ? target.string() : CopyingName(target.string());
  FILE* out = fopen(tmp.c_str(), "wb");
  if (!out) return ErrnoStatus(tmp, errno);
  Status s = fill(out);
  if (fclose(out) != 0 && s.ok()) s = ErrnoStatus("close " + tmp, errno);
  if (special) return s;
  if (s.ok() && ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(),
                            force ? 0 : RENAME_NOREPLACE) != 0) {
    s = ErrnoStatus(target.string(), errno);
  }
  if (!s.ok()) fs::remove(tmp, ec);
  return s;
}

int GetPath(FileSystem* dfs, const FileStatus& st, const fs::path& dst, bool force,
            Progress* progress) {
  if (st.type() != proto::DIRECTORY) {
    auto in = dfs->Open(st.path());
    if (!in.ok()) return Fail(st.path(), in.status());
    bool remote_failed = false;
    Status s = WriteLocal(dst, force, [&](FILE* out) {
      bool write_failed = false;
      Status r = CopyStream(in->get(), out, progress, UINT64_MAX, &write_failed);
      remote_failed = !r.ok() && !write_failed;
      return r;
    });
    return s.ok() ? 0 : Fail(remote_failed ? st.path() : dst.string(), s);
  }
  std::error_code ec;
  if (!fs::is_directory(dst, ec) && !fs::create_directory(dst, ec)) {
    return Fail(dst, ec ? ec.message() : "File exists");
  }
  auto entries = dfs->ListStatus(st.path());
  if (!entries.ok()) return Fail(st.path(), entries.status());
  int rc = 0;
  for (const FileStatus& e : *entries) {
    rc |= GetPath(dfs, e, dst / BaseName(e.path()), force, progress);
  }
  return rc;
}

int CpPath(FileSystem* dfs, const FileStatus& st, const std::string& dst, bool force) {
  if (st.type() != proto::DIRECTORY) {
    auto in = dfs->Open(st.path());
    if (!in.ok()) return Fail(st.path(), in.status());
    Status s = WriteRemote(dfs, dst, CreateOptions{}, force, [&](OutputStream* out) -> Status {
      std::vector<char>& buf = Buffer();
      for (;;) {
        ASSIGN_OR_RETURN(size_t n, (*in)->Read(buf.data(), buf.size()));
        if (n == 0) return Status::Ok();
        RETURN_IF_ERROR(out->Write(buf.data(), n));
      }
    });
    return s.ok() ? 0 : Fail(dst, s);
  }
  if (Status s = EnsureRemoteDir(dfs, dst); !s.ok()) return Fail(dst, s);
  auto entries = dfs->ListStatus(st.path());
  if (!entries.ok()) return Fail(st.path(), entries.status());
  int rc = 0;
  for (const FileStatus& e : *entries)
    rc |= CpPath(dfs, e, ChildPath(dst, BaseName(e.path())), force);
  return rc;
}

}  // namespace

int Put(FileSystem* dfs, const std::vector<std::string>& args, const CreateOptions& options,
        bool force) {
  const std::string& dst_arg = args.back();
  const size_t sources = args.size() - 1;
  for (size_t i = 0; i < sources; ++i) {
    if (args[i] == "-" && sources > 1) return Fail("-", "stdin must be the only source");
  }
  const Result<Kind> kind = RemoteKind(dfs, dst_arg);
  if (!kind.ok()) return Fail(dst_arg, kind.status());
  const Kind dst_kind = *kind;
  if (int rc = CheckDestination(sources, dst_kind, dst_arg)) return rc;
  if (args[0] == "-") {
    if (dst_kind == Kind::kDirectory) {
      return Fail(dst_arg, "Is a directory (stdin needs a file name)");
    }
    Progress progress(0);
    Status s = WriteRemote(dfs, NormalizePath(dst_arg), options, force,
                           [&](OutputStream* out) { return Pump(0, "stdin", out, &progress); });
    progress.Finish();
    return s.ok() ? 0 : Fail(dst_arg, s);
  }
  uint64_t total = 0;
  for (size_t i = 0; i < sources; ++i) total += LocalBytes(args[i]);
  Progress progress(total);
  int rc = 0;
  for (size_t i = 0; i < sources; ++i) {
    const std::string dst = RemoteTarget(LocalName(args[i]), dst_arg, dst_kind);
    rc |= PutPath(dfs, args[i], dst, options, force, &progress, true);
  }
  progress.Finish();
  return rc;
}

int Get(FileSystem* dfs, const std::vector<std::string>& args, bool force) {
  const std::string& dst_arg = args.back();
  const size_t sources = args.size() - 1;
  const Kind dst_kind = LocalKind(dst_arg);
  if (dst_arg != "-") {
    if (int rc = CheckDestination(sources, dst_kind, dst_arg)) return rc;
  }
  int rc = 0;
  std::vector<FileStatus> found = StatSources(dfs, {args.begin(), args.end() - 1}, &rc);
  if (dst_arg == "-") {
    for (const FileStatus& st : found) {
      Status s = st.type() == proto::DIRECTORY ? InvalidArgument("Is a directory")
                                               : CopyOut(dfs, st.path(), stdout);
      if (!s.ok()) rc = Fail(st.path(), s);
    }
    return rc;
  }
  uint64_t total = 0;
  for (const FileStatus& st : found) {
    if (st.type() != proto::DIRECTORY) {
      total += st.length();
    } else if (auto summary = dfs->GetContentSummary(st.path()); summary.ok()) {
      total += summary->length;
    }
  }
  Progress progress(total);
  for (const FileStatus& st : found) {
    std::string name = BaseName(st.path());
    const bool into = dst_kind == Kind::kDirectory && !name.empty();
    rc |= GetPath(dfs, st, into ? fs::path(dst_arg) / name : fs::path(dst_arg), force, &progress);
  }
  progress.Finish();
  return rc;
}

int Cp(FileSystem* dfs, const std::vector<std::string>& args, bool force) {
  const std::string& dst_arg = args.back();
  const size_t sources = args.size() - 1;
  const Result<Kind> dst_kind = RemoteKind(dfs, dst_arg);
  if (!dst_kind.ok()) return Fail(dst_arg, dst_kind.status());
  if (int rc = CheckDestination(sources, *dst_kind, dst_arg)) return rc;
  int rc = 0;
  for (const FileStatus& st : StatSources(dfs, {args.begin(), args.end() - 1}, &rc)) {
    const std::string& src = st.path();
    const std::string dst = RemoteTarget(BaseName(src), dst_arg, *dst_kind);
    if (dst == src) {
      rc = Fail(src, "source and destination are the same file");
    } else if (st.type() == proto::DIRECTORY && dst.rfind(ChildPath(src, ""), 0) == 0) {
      rc = Fail(src, "cannot copy a directory into itself (" + dst + ")");
    } else {
      rc |= CpPath(dfs, st, dst, force);
    }
  }
  return rc;
}

int Cat(FileSystem* dfs, const std::vector<std::string>& paths) {
  int rc = 0;
  for (const auto& p : paths) {
    Status s = CopyOut(dfs, p, stdout);
    if (!s.ok()) rc = Fail(p, s);
  }
  return rc;
}

int GetMerge(FileSystem* dfs, const std::string& src, const std::string& dst, bool newline) {
  auto entries = dfs->ListStatus(src);
  if (!entries.ok()) return Fail(src, entries.status());
  std::vector<std::string> files;
  uint64_t total = 0;
  for (const FileStatus& e : *entries) {
    if (e.type() == proto::DIRECTORY) continue;
    files.push_back(e.path());
    total += e.length();
  }
  std::sort(files.begin(), files.end());
  Progress progress(total);
  std::string failed = dst;  // whose failure it is
  Status s = WriteLocal(dst, /*force=*/true, [&](FILE* out) -> Status {
    for (const std::string& f : files) {
      auto in = dfs->Open(f);
      bool write_failed = false;
      Status r =
          in.ok() ? CopyStream(in->get(), out, &progress, UINT64_MAX, &write_failed) : in.status();
      if (r.ok() && newline && fputc('\n', out) == EOF) {
        r = ErrnoStatus("write", errno);
        write_failed = true;
      }
      if (!r.ok()) {
        if (!write_failed) failed = f;
        return r;
      }
    }
    return Status::Ok();
  });
  progress.Finish();
  return s.ok() ? 0 : Fail(failed, s);
}

int AppendToFile(FileSystem* dfs, const std::vector<std::string>& args) {
  // Every source is opened first: one that cannot be read changes nothing.
  std::vector<int> fds;
  auto close_all = [&] {
    for (int fd : fds) {
      if (fd != 0) ::close(fd);
    }
  };
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    int fd = args[i] == "-" ? 0 : ::open(args[i].c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    int err = fd < 0 ? errno : ::fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (fd >= 0) fds.push_back(fd);
    if (err != 0) {
      close_all();
      return Fail(args[i], std::strerror(err));
    }
  }
  const std::string& dst = args.back();
  auto out = dfs->Append(dst);
  if (!out.ok() && out.status().code() == Code::kNotFound) out = dfs->Create(dst);
  if (!out.ok()) {
    close_all();
    return Fail(dst, out.status());
  }
  Status s;
  for (size_t i = 0; i < fds.size() && s.ok(); ++i) s = Pump(fds[i], args[i], out->get(), nullptr);
  close_all();
  // What was written before an error stays, as with any append that is closed.
  Status closed = (*out)->Close();
  if (s.ok()) s = closed;
  return s.ok() ? 0 : Fail(dst, s);
}

int Head(FileSystem* dfs, const std::string& path) {
  Status s = CopyOut(dfs, path, stdout, 1024);
  return s.ok() ? 0 : Fail(path, s);
}

int Tail(FileSystem* dfs, const std::string& path) {
  auto in = dfs->Open(path);
  Status s = in.status();
  if (s.ok()) s = (*in)->Seek((*in)->length() > 1024 ? (*in)->length() - 1024 : 0);
  if (s.ok()) s = CopyStream(in->get(), stdout, nullptr);
  return s.ok() ? 0 : Fail(path, s);
}

}  // namespace dfs
