// The C++ job API. A job is a small program linked with this library:
//
//   class WordMapper : public dfs::mr::Mapper { ... Map(offset, line, ctx) ... };
//   class SumReducer : public dfs::mr::Reducer { ... Reduce(key, values, ctx) ... };
//   int main(int argc, char** argv) {
//     dfs::mr::Job job;
//     job.mapper = [] { return std::make_unique<WordMapper>(); };
//     job.reducer = [] { return std::make_unique<SumReducer>(); };
//     job.combiner = job.reducer;  // optional
//     return dfs::mr::RunJob(argc, argv, job);
//   }
//
// `mr submit --binary ./wordcount ...` uploads the program; each worker runs it as a
// child process per task attempt (`prog --mr-task FILE`). Maps get the text lines of
// their split; reduces get each key with its values, keys in byte order; the reducer's
// Emit writes "key<TAB>value" lines (just "key" when the value is empty) to part-NNNNN.
//
// Every method returns a Status: a non-OK status fails the attempt with that message
// (the jobmaster retries it elsewhere, then fails the job with it). One object per task
// attempt, used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "client/file_system.h"
#include "common/status.h"
#include "mapreduce/records.h"
#include "proto/mapreduce.pb.h"

namespace dfs::mr {

class Context {
 public:
  virtual ~Context() = default;
  // Map and combine: an intermediate (key, value); reduce: an output line.
  virtual void Emit(std::string_view key, std::string_view value) = 0;
  // Adds to a user counter; the job shows the sums over its successful attempts.
  void Count(const std::string& name, int64_t delta = 1) { (*counters_)[name] += delta; }
  // A job parameter (mr submit --param name=value), or def.
  std::string Param(const std::string& name, const std::string& def = "") const;
  const mrpb::TaskAssignment& task() const { return *task_; }
  // The cluster's file system, for side data (a partitioner's cut points, a lookup table).
  FileSystem* fs() const { return fs_; }

 protected:
  Context(const mrpb::TaskAssignment* task, std::map<std::string, int64_t>* counters,
          FileSystem* fs)
      : task_(task), counters_(counters), fs_(fs) {}

 private:
  const mrpb::TaskAssignment* task_;
  std::map<std::string, int64_t>* counters_;
  FileSystem* fs_;
};

class Mapper {
 public:
  virtual ~Mapper() = default;
  virtual Status Setup(Context& ctx) { return Status::Ok(); }
  // One line of the input (without '\n') and the file offset of its first byte.
  virtual Status Map(uint64_t offset, std::string_view line, Context& ctx) = 0;
  virtual Status Cleanup(Context& ctx) { return Status::Ok(); }
};

class Reducer {
 public:
  virtual ~Reducer() = default;
  virtual Status Setup(Context& ctx) { return Status::Ok(); }
  virtual Status Reduce(std::string_view key, Values& values, Context& ctx) = 0;
  virtual Status Cleanup(Context& ctx) { return Status::Ok(); }
};

class Partitioner {
 public:
  virtual ~Partitioner() = default;
  virtual Status Setup(Context& ctx) { return Status::Ok(); }
  // REQUIRES: the result is < partitions.
  virtual uint32_t Partition(std::string_view key, uint32_t partitions) = 0;
};

struct Job {
  std::function<std::unique_ptr<Mapper>()> mapper;            // required
  std::function<std::unique_ptr<Reducer>()> reducer;          // required
  std::function<std::unique_ptr<Reducer>()> combiner;         // optional
  std::function<std::unique_ptr<Partitioner>()> partitioner;  // optional: hash of the key
};

// The main of a job program: runs the task named by --mr-task and returns the exit code.
// Run any other way, it prints how to submit the program.
int RunJob(int argc, char** argv, const Job& job);

}  // namespace dfs::mr
