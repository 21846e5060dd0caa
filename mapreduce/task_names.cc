#include "mapreduce/task_names.h"

#include <cstdio>

namespace dfs::mr {

std::string TaskName(mrpb::TaskType type, uint32_t index) {
  char buf[32];
  snprintf(buf, sizeof buf, "%c_%06u", type == mrpb::MAP ? 'm' : 'r', index);
  return buf;
}

std::string AttemptName(mrpb::TaskType type, uint32_t index, uint32_t attempt) {
  return TaskName(type, index) + "_" + std::to_string(attempt);
}

std::string MapOutputName(uint32_t map, uint32_t attempt) {
  return "map_" + std::to_string(map) + "_" + std::to_string(attempt) + ".out";
}

std::string PartName(uint32_t reduce) {
  char buf[32];
  snprintf(buf, sizeof buf, "part-%05u", reduce);
  return buf;
}

std::string TempOutputPath(const std::string& output, uint32_t reduce, uint32_t attempt) {
  return output + "/_temporary/" + PartName(reduce) + ".attempt" + std::to_string(attempt);
}

}  // namespace dfs::mr

namespace dfs::mr {

Config NamenodeConfig(const std::string& namenodes) {
  Config c;
  c.Set("namenodes", namenodes);
  c.Set("namenode", namenodes);
  return c;
}

std::string NamenodesOf(const Config& conf) {
  std::string v = conf.GetString("namenodes");
  return v.empty() ? conf.GetString("namenode") : v;
}

}  // namespace dfs::mr
