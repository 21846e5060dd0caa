// Names shared by the jobmaster, workers and tasks: attempt ids, map output files, the
// temporary and final names of reduce output, and the file-system directories of the
// MapReduce system.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "proto/mapreduce.pb.h"

namespace dfs::mr {

inline constexpr char kSystemDir[] = "/system/mr";
inline constexpr char kStagingDir[] = "/system/mr/staging";
inline constexpr char kHistoryDir[] = "/system/mr/history";
inline constexpr char kLogDir[] = "/system/mr/logs";

// "m_000003" / "r_000001".
std::string TaskName(mrpb::TaskType type, uint32_t index);
// "m_000003_1": the task and its attempt number.
std::string AttemptName(mrpb::TaskType type, uint32_t index, uint32_t attempt);
// The map output file in a worker's output directory: "map_3_1.out".
std::string MapOutputName(uint32_t map, uint32_t attempt);
// "part-00003".
std::string PartName(uint32_t reduce);
// OUTPUT/_temporary/part-00003.attempt1
std::string TempOutputPath(const std::string& output, uint32_t reduce, uint32_t attempt);

}  // namespace dfs::mr

namespace dfs::mr {

// A client configuration for the namenode group at `namenodes` ("host:port[,host:port...]"),
// under both the current key (namenodes) and the older one (namenode).
Config NamenodeConfig(const std::string& namenodes);
// The namenode addresses of a client configuration, under either key.
std::string NamenodesOf(const Config& conf);

}  // namespace dfs::mr
