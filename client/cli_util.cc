#include "client/cli_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "client/errno_map.h"

namespace dfs {

namespace {
bool progress_line_open = false;
}  // namespace

void SetProgressLineOpen(bool open) { progress_line_open = open; }

int Fail(const std::string& path, const std::string& why) {
  if (progress_line_open) fprintf(stderr, "\n");
  progress_line_open = false;
  fprintf(stderr, "dfs: %s: %s\n", path.c_str(), why.c_str());
  return 1;
}

int Fail(const std::string& path, const Status& s) {
  int err = ToErrno(s);
  bool say_message = err == EIO || err == EINVAL || err == EPERM || err == EHOSTUNREACH ||
                     err == ETIMEDOUT || err == ENOSPC;
  return Fail(path, say_message ? s.message() : std::strerror(err));
}

namespace {
int ForTree(FileSystem* fs, const FileStatus& st, bool recursive,
            const std::function<Status(const FileStatus&)>& fn) {
  Status s = fn(st);
  int rc = s.ok() ? 0 : Fail(st.path(), s);
  if (!recursive || st.type() != proto::DIRECTORY) return rc;
  auto entries = fs->ListStatus(st.path());
  if (!entries.ok()) return Fail(st.path(), entries.status());
  for (const FileStatus& e : *entries) rc |= ForTree(fs, e, true, fn);
  return rc;
}
}  // namespace

int ForEachPath(FileSystem* fs, const std::vector<std::string>& paths, bool recursive,
                const std::function<Status(const FileStatus&)>& fn) {
  int rc = 0;
  for (const auto& p : paths) {
    auto st = fs->GetFileStatus(p);
    rc |= st.ok() ? ForTree(fs, *st, recursive, fn) : Fail(p, st.status());
  }
  return rc;
}

std::string HumanSize(uint64_t n, bool human) {
  if (!human) return std::to_string(n);
  const char* units[] = {"", "K", "M", "G", "T", "P"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    snprintf(buf, sizeof buf, "%lu", n);
  else
    snprintf(buf, sizeof buf, "%.1f%s", v, units[u]);
  return buf;
}

}  // namespace dfs
