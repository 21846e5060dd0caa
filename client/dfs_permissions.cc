#include "client/dfs_permissions.h"

#include "client/cli_util.h"

namespace dfs {
namespace {

const std::string kOps = "+-=";
const std::string kLetters = "rwxXt";  // X: x only for a directory or what has an x bit
const uint32_t kLetterBits[] = {0444, 0222, 0111, 0111, 01000};

// 755, 0644, 1777 (sticky); not setuid or setgid, which HDFS has no use for.
bool IsOctal(const std::string& s) {
  if (s.empty() || s.size() > 4 || (s.size() == 4 && s[0] > '1')) return false;
  for (char c : s) {
    if (c < '0' || c > '7') return false;
  }
  return true;
}

}  // namespace

Result<uint32_t> ApplyModeSpec(const std::string& spec, uint32_t mode, bool is_dir) {
  if (IsOctal(spec)) return static_cast<uint32_t>(std::stoul(spec, nullptr, 8));
  auto bad = [&] {
    return InvalidArgument("invalid mode '" + spec + "' (octal like 755, or like u+x,go-w)");
  };
  size_t i = 0;
  do {
    if (i > 0) ++i;  // the comma
    uint32_t who = 0;
    for (; i < spec.size() && std::string("ugoa").find(spec[i]) != std::string::npos; ++i) {
      who |= spec[i] == 'u' ? 0700 : spec[i] == 'g' ? 0070 : spec[i] == 'o' ? 0007 : 0777;
    }
    if (who == 0) who = 0777;
    const uint32_t mask = who | ((who & 0007) ? 01000 : 0);  // the sticky bit goes with o
    if (i == spec.size() || kOps.find(spec[i]) == std::string::npos) return bad();
    while (i < spec.size() && kOps.find(spec[i]) != std::string::npos) {
      const char op = spec[i++];
      uint32_t perm = 0;
      for (; i < spec.size() && spec[i] != ',' && kOps.find(spec[i]) == std::string::npos; ++i) {
        const size_t k = kLetters.find(spec[i]);
        if (k == std::string::npos) return bad();
        if (spec[i] != 'X' || is_dir || (mode & 0111)) perm |= kLetterBits[k];
      }
      const uint32_t bits = perm & mask;
      mode = op == '+' ? mode | bits : op == '-' ? mode & ~bits : (mode & ~mask) | bits;
    }
    if (i < spec.size() && spec[i] != ',') return bad();
  } while (i < spec.size());
  return mode;
}

int Chmod(FileSystem* fs, const std::string& spec, const std::vector<std::string>& paths,
          bool recursive) {
  // A malformed mode is refused before anything changes.
  if (auto check = ApplyModeSpec(spec, 0, false); !check.ok()) return Fail(spec, check.status());
  return ForEachPath(fs, paths, recursive, [&](const FileStatus& st) -> Status {
    ASSIGN_OR_RETURN(uint32_t mode, ApplyModeSpec(spec, st.mode(), st.type() == proto::DIRECTORY));
    return mode == st.mode() ? Status::Ok() : fs->SetPermission(st.path(), mode);
  });
}

int Chown(FileSystem* fs, const std::string& spec, const std::vector<std::string>& paths,
          bool recursive) {
  const size_t colon = spec.find(':');
  const std::string owner = spec.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if ((owner.empty() && group.empty()) || group.find(':') != std::string::npos) {
    return Fail(spec, InvalidArgument("give OWNER, OWNER:GROUP or :GROUP"));
  }
  return ForEachPath(fs, paths, recursive,
                     [&](const FileStatus& st) { return fs->SetOwner(st.path(), owner, group); });
}

}  // namespace dfs
