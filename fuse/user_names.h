// The file system keeps owners and groups by name; the kernel wants this machine's ids.
// Lookups go through NSS, which with plain files reads /etc/passwd or /etc/group on every
// call (~15 us: more than the rest of a stat through the mount), so answers are kept for
// a minute. Thread-safe.
#pragma once

#include <sys/types.h>

#include <string>

namespace dfs {

// A name this machine does not know is nobody (65534), unless it is a number (what
// UserName gives for an id without a name). "supergroup" (HDFS's) is group 0.
uid_t UidOf(const std::string& user);
gid_t GidOf(const std::string& group);
// An id without a name is its decimal form.
std::string UserName(uid_t uid);
std::string GroupName(gid_t gid);

}  // namespace dfs
