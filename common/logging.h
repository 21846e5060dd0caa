// Logging through spdlog. Daemons call InitLogging once at start-up; everything else
// uses spdlog's free functions (spdlog::info(...)), which are thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace dfs {

// Logs to stderr with the daemon's name in each line; level is "debug", "info", "warn"...
void InitLogging(const std::string& name, const std::string& level = "info");

}  // namespace dfs
