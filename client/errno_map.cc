#include "client/errno_map.h"

#include <cerrno>

namespace dfs {

namespace {
bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

int ToErrno(const Status& s) {
  const std::string& m = s.message();
  switch (s.code()) {
    case Code::kOk: return 0;
    case Code::kNotFound: return ENOENT;
    case Code::kAlreadyExists: return StartsWith(m, "is a directory") ? EISDIR : EEXIST;
    case Code::kPermissionDenied: return EACCES;
    case Code::kResourceExhausted: return ENOSPC;
    case Code::kInvalidArgument:
      if (m.find("longer than 255") != std::string::npos) return ENAMETOOLONG;
      return EINVAL;
    case Code::kFailedPrecondition:
      if (StartsWith(m, "directory is not empty")) return ENOTEMPTY;
      if (StartsWith(m, "is a directory")) return EISDIR;
      if (StartsWith(m, "not a directory")) return ENOTDIR;
      if (StartsWith(m, "file is being written")) return EBUSY;
      return EPERM;
    case Code::kUnavailable: return EHOSTUNREACH;
    case Code::kDeadlineExceeded: return ETIMEDOUT;
    case Code::kOutOfRange: return EINVAL;
    default: return EIO;
  }
}

}  // namespace dfs
