#include "client/dfs_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

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
  }

  uint64_t total_;
  uint64_t done_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
  bool show_;
  bool drawn_ = false;
};

int LocalFail(const std::string& path, const std::string& why) {
  fprintf(stderr, "dfs: %s: %s\n", path.c_str(), why.c_str());
  return 1;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// The last component of a remote path ("" for the root).
std::string BaseName(const std::string& remote) {
  return fs::path(NormalizePath(remote)).filename().string();
}

// The last component of a local path, "." and "dir/" included.
std::string LocalName(const std::string& local) {
  fs::path p = fs::absolute(local).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// The destination of copying something called `name` to `dst`: dst/name if dst is an
// existing directory, else dst itself.
std::string RemoteTarget(FileSystem* dfs, const std::string& name, const std::string& dst) {
  auto st = dfs->GetFileStatus(dst);
  if (st.ok() && st->type() == proto::DIRECTORY && !name.empty()) {
    return Join(NormalizePath(dst), name);
  }
  return dst;
}

bool IsRemoteDir(FileSystem* dfs, const std::string& path) {
  auto st = dfs->GetFileStatus(path);
  return st.ok() && st->type() == proto::DIRECTORY;
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

// Several sources go into a directory that exists.
int CheckManySources(size_t sources, bool dst_is_dir, const std::string& dst) {
  if (sources > 1 && !dst_is_dir) return LocalFail(dst, "Not a directory (several sources)");
  return 0;
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
  std::vector<char> buf(kBufferBytes);
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

// Copies an open local file (or stdin) to the remote file dst; deletes dst if it fails.
Status PutFile(FileSystem* dfs, int fd, const std::string& src, const std::string& dst,
               const CreateOptions& options, Progress* progress) {
  ASSIGN_OR_RETURN(auto out, dfs->Create(dst, options));
  Status s = Pump(fd, src, out.get(), progress);
  Status closed = out->Close();
  if (s.ok()) s = closed;
  if (!s.ok()) (void)dfs->Delete(dst, false);
  return s;
}

int PutPath(FileSystem* dfs, const fs::path& src, const std::string& dst,
            const CreateOptions& options, Progress* progress, bool top) {
  std::error_code ec;
  fs::file_status st = fs::status(src, ec);  // follows a symbolic link
  if (ec) return LocalFail(src, ec.message());
  if (fs::is_directory(st)) {
    if (!top && fs::is_symlink(fs::symlink_status(src, ec))) {
      return LocalFail(src, "a symbolic link to a directory; not followed");
    }
    if (!IsRemoteDir(dfs, dst)) {
      Status s = dfs->Mkdirs(dst, true);
      if (!s.ok()) return Fail(dst, s);
    }
    std::vector<fs::path> entries;
    for (auto it = fs::directory_iterator(src, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      entries.push_back(it->path());
    }
    if (ec) return LocalFail(src, ec.message());
    std::sort(entries.begin(), entries.end());
    int rc = 0;
    for (const fs::path& e : entries) {
      rc |= PutPath(dfs, e, Join(dst, e.filename().string()), options, progress, false);
    }
    return rc;
  }
  if (!fs::is_regular_file(st)) return LocalFail(src, "not a regular file or directory; skipped");
  FILE* in = fopen(src.c_str(), "rb");
  if (!in) return LocalFail(src, std::strerror(errno));
  Status s = PutFile(dfs, fileno(in), src, dst, options, progress);
  fclose(in);
  return s.ok() ? 0 : Fail(dst, s);
}

// Copies a remote file to a FILE*, from byte `start` on, `limit` bytes at most.
Status CopyOut(FileSystem* dfs, const std::string& src, FILE* out, Progress* progress,
               uint64_t start = 0, uint64_t limit = UINT64_MAX) {
  ASSIGN_OR_RETURN(auto in, dfs->Open(src));
  RETURN_IF_ERROR(in->Seek(std::min(start, in->length())));
  std::vector<char> buf(std::min<uint64_t>(kBufferBytes, limit));
  for (uint64_t left = limit; left > 0;) {
    ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), std::min<uint64_t>(buf.size(), left)));
    left -= n;
    if (n == 0) break;
    if (fwrite(buf.data(), 1, n, out) != n) return ErrnoStatus("write", errno);
    if (progress) progress->Add(n);
  }
  return Status::Ok();
}

int GetPath(FileSystem* dfs, const FileStatus& st, const fs::path& dst, Progress* progress) {
  if (st.type() == proto::DIRECTORY) {
    std::error_code ec;
    if (!fs::is_directory(dst, ec) && !fs::create_directory(dst, ec)) {
      return LocalFail(dst, ec ? ec.message() : "File exists");
    }
    auto entries = dfs->ListStatus(st.path());
    if (!entries.ok()) return Fail(st.path(), entries.status());
    int rc = 0;
    for (const FileStatus& e : *entries) rc |= GetPath(dfs, e, dst / BaseName(e.path()), progress);
    return rc;
  }
  FILE* out = fopen(dst.c_str(), "wb");
  if (!out) return LocalFail(dst, std::strerror(errno));
  Status s = CopyOut(dfs, st.path(), out, progress);
  if (fclose(out) != 0 && s.ok()) s = ErrnoStatus("close " + dst.string(), errno);
  if (!s.ok()) {
    std::error_code ec;
    fs::remove(dst, ec);
    return Fail(st.path(), s);
  }
  return 0;
}

Status CopyFile(FileSystem* dfs, const std::string& src, const std::string& dst, bool force) {
  ASSIGN_OR_RETURN(auto in, dfs->Open(src));
  CreateOptions o;
  o.overwrite = force;
  ASSIGN_OR_RETURN(auto out, dfs->Create(dst, o));
  std::vector<char> buf(kBufferBytes);
  Status s;
  for (;;) {
    auto n = in->Read(buf.data(), buf.size());
    if (!n.ok()) s = n.status();
    if (!n.ok() || *n == 0) break;
    s = out->Write(buf.data(), *n);
    if (!s.ok()) break;
  }
  Status closed = out->Close();
  if (s.ok()) s = closed;
  if (!s.ok()) (void)dfs->Delete(dst, false);
  return s;
}

int CpPath(FileSystem* dfs, const FileStatus& st, const std::string& dst, bool force) {
  if (st.type() != proto::DIRECTORY) {
    Status s = CopyFile(dfs, st.path(), dst, force);
    return s.ok() ? 0 : Fail(dst, s);
  }
  if (!IsRemoteDir(dfs, dst)) {
    Status s = dfs->Mkdirs(dst, true);
    if (!s.ok()) return Fail(dst, s);
  }
  auto entries = dfs->ListStatus(st.path());
  if (!entries.ok()) return Fail(st.path(), entries.status());
  int rc = 0;
  for (const FileStatus& e : *entries) rc |= CpPath(dfs, e, Join(dst, BaseName(e.path())), force);
  return rc;
}

}  // namespace

int Put(FileSystem* dfs, const std::vector<std::string>& args, const CreateOptions& options) {
  if (args.size() < 2) {
    fprintf(stderr, "dfs put: need a local source and a remote destination\n");
    return 2;
  }
  const std::string& dst_arg = args.back();
  const size_t sources = args.size() - 1;
  if (int rc = CheckManySources(sources, IsRemoteDir(dfs, dst_arg), dst_arg)) return rc;
  uint64_t total = 0;
  for (size_t i = 0; i < sources; ++i) total += args[i] == "-" ? 0 : LocalBytes(args[i]);
  Progress progress(total);
  int rc = 0;
  for (size_t i = 0; i < sources; ++i) {
    const std::string& src = args[i];
    if (src == "-") {
      Status s = PutFile(dfs, 0, "stdin", dst_arg, options, &progress);
      if (!s.ok()) rc = Fail(dst_arg, s);
      continue;
    }
    rc |= PutPath(dfs, src, RemoteTarget(dfs, LocalName(src), dst_arg), options, &progress, true);
  }
  progress.Finish();
  return rc;
}

int Get(FileSystem* dfs, const std::vector<std::string>& args) {
  const std::string& dst_arg = args.back();
  const size_t sources = args.size() - 1;
  std::error_code ec;
  const bool dst_is_dir = fs::is_directory(dst_arg, ec);
  if (int rc = CheckManySources(sources, dst_is_dir, dst_arg)) return rc;
  int rc = 0;
  std::vector<FileStatus> found = StatSources(dfs, {args.begin(), args.end() - 1}, &rc);
  uint64_t total = 0;
  for (const FileStatus& st : found) {
    if (st.type() != proto::DIRECTORY) {
      total += st.length();
    } else if (auto summary = dfs->GetContentSummary(st.path()); summary.ok()) {
      total += summary->length;
    }
  }
  if (dst_arg == "-") {
    for (const FileStatus& st : found) {
      Status s = st.type() == proto::DIRECTORY ? InvalidArgument("Is a directory")
                                               : CopyOut(dfs, st.path(), stdout, nullptr);
      if (!s.ok()) rc = Fail(st.path(), s);
    }
    return rc;
  }
  Progress progress(total);
  for (const FileStatus& st : found) {
    std::string name = BaseName(st.path());
    fs::path dst = dst_is_dir && !name.empty() ? fs::path(dst_arg) / name : fs::path(dst_arg);
    rc |= GetPath(dfs, st, dst, &progress);
  }
  progress.Finish();
  return rc;
}

int Cp(FileSystem* dfs, const std::vector<std::string>& args, bool force) {
  const std::string& dst_arg = args.back();
  const size_t sources = args.size() - 1;
  if (int rc = CheckManySources(sources, IsRemoteDir(dfs, dst_arg), dst_arg)) return rc;
  int rc = 0;
  for (const FileStatus& st : StatSources(dfs, {args.begin(), args.end() - 1}, &rc)) {
    const std::string& src = st.path();
    const std::string dst = NormalizePath(RemoteTarget(dfs, BaseName(src), dst_arg));
    if (dst == src) {
      rc = LocalFail(src, "source and destination are the same file");
    } else if (st.type() == proto::DIRECTORY && dst.rfind(Join(src, ""), 0) == 0) {
      rc = LocalFail(src, "cannot copy a directory into itself (" + dst + ")");
    } else {
      rc |= CpPath(dfs, st, dst, force);
    }
  }
  return rc;
}

int Cat(FileSystem* dfs, const std::vector<std::string>& paths) {
  int rc = 0;
  for (const auto& p : paths) {
    Status s = CopyOut(dfs, p, stdout, nullptr);
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
  FILE* out = fopen(dst.c_str(), "wb");
  if (!out) return LocalFail(dst, std::strerror(errno));
  Progress progress(total);
  Status s;
  for (const std::string& f : files) {
    s = CopyOut(dfs, f, out, &progress);
    if (s.ok() && newline && fputc('\n', out) == EOF) s = ErrnoStatus("write " + dst, errno);
    if (!s.ok()) {
      Fail(f, s);
      break;
    }
  }
  if (fclose(out) != 0 && s.ok()) s = ErrnoStatus("close " + dst, errno);
  progress.Finish();
  if (s.ok()) return 0;
  std::error_code ec;
  fs::remove(dst, ec);
  return 1;
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
    if (fd < 0) {
      int err = errno;
      close_all();
      return LocalFail(args[i], std::strerror(err));
    }
    fds.push_back(fd);
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
  Status s = CopyOut(dfs, path, stdout, nullptr, 0, 1024);
  return s.ok() ? 0 : Fail(path, s);
}

int Tail(FileSystem* dfs, const std::string& path) {
  auto st = dfs->GetFileStatus(path);
  Status s = st.status();
  if (s.ok())
    s = CopyOut(dfs, path, stdout, nullptr, st->length() > 1024 ? st->length() - 1024 : 0);
  return s.ok() ? 0 : Fail(path, s);
}

}  // namespace dfs
