#include "fuse/user_names.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace dfs {

namespace {

constexpr uint32_t kNobody = 65534;
constexpr auto kKeepFor = std::chrono::minutes(1);

// Answers of `lookup` by key, each kept for kKeepFor.
template <typename K, typename V>
class Cache {
 public:
  template <typename F>
  V Get(const K& key, F lookup) {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = answers_.find(key);
      if (it != answers_.end() && now - it->second.second < kKeepFor) return it->second.first;
    }
    V v = lookup(key);
    std::lock_guard<std::mutex> l(mu_);
    if (answers_.size() > 10'000) answers_.clear();
    answers_[key] = {v, now};
    return v;
  }

 private:
  std::mutex mu_;
  std::unordered_map<K, std::pair<V, std::chrono::steady_clock::time_point>> answers_;
};

bool IsNumber(const std::string& s) {
  return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

std::vector<char> Buffer() {
  long n = sysconf(_SC_GETPW_R_SIZE_MAX);
  return std::vector<char>(n > 0 ? static_cast<size_t>(n) : 16384);
}

}  // namespace

uid_t UidOf(const std::string& user) {
  static Cache<std::string, uid_t> cache;
  return cache.Get(user, [](const std::string& name) -> uid_t {
    struct passwd pw, *found = nullptr;
    std::vector<char> buf = Buffer();
    if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found) {
      return found->pw_uid;
    }
    return IsNumber(name) ? static_cast<uid_t>(std::strtoul(name.c_str(), nullptr, 10)) : kNobody;
  });
}

gid_t GidOf(const std::string& group) {
  if (group == "supergroup") return 0;
  static Cache<std::string, gid_t> cache;
  return cache.Get(group, [](const std::string& name) -> gid_t {
    struct group gr, *found = nullptr;
    std::vector<char> buf = Buffer();
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found) {
      return found->gr_gid;
    }
    return IsNumber(name) ? static_cast<gid_t>(std::strtoul(name.c_str(), nullptr, 10)) : kNobody;
  });
}

std::string UserName(uid_t uid) {
  static Cache<uid_t, std::string> cache;
  return cache.Get(uid, [](uid_t id) {
    struct passwd pw, *found = nullptr;
    std::vector<char> buf = Buffer();
    if (getpwuid_r(id, &pw, buf.data(), buf.size(), &found) == 0 && found) return std::string(found->pw_name);
    return std::to_string(id);
  });
}

std::string GroupName(gid_t gid) {
  static Cache<gid_t, std::string> cache;
  return cache.Get(gid, [](gid_t id) {
    struct group gr, *found = nullptr;
    std::vector<char> buf = Buffer();
    if (getgrgid_r(id, &gr, buf.data(), buf.size(), &found) == 0 && found) return std::string(found->gr_name);
    return std::to_string(id);
  });
}

}  // namespace dfs
