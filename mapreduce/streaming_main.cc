// mr-streaming: the task program of streaming jobs; the worker runs it with --mr-task.
#include <fstream>
#include <sstream>

#include "mapreduce/streaming.h"

int main(int argc, char** argv) {
  // The commands are in the task file's job spec.
  dfs::mrpb::TaskAssignment task;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) != "--mr-task") continue;
    std::ifstream f(argv[i + 1], std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    task.ParseFromString(ss.str());
  }
  return dfs::mr::RunJob(argc, argv, dfs::mr::StreamingJob(task.spec()));
}
