// Streaming: map, combine and reduce through any command, as Hadoop Streaming does. The
// command (run by /bin/sh -c) reads lines on stdin and writes lines on stdout; a line
// "key<TAB>value" is split at its first tab (a line without a tab is a key with an empty
// value). Maps get the input lines; combiners and reducers get the sorted
// "key<TAB>value" lines of their partition. A command that exits non-zero fails the
// attempt with its exit code.
#pragma once

#include "mapreduce/job.h"

namespace dfs::mr {

// The job the mr-streaming program runs: commands from the spec's mapper_cmd,
// combiner_cmd and reducer_cmd (no reducer command: the sorted map output as is).
Job StreamingJob(const mrpb::JobSpec& spec);

}  // namespace dfs::mr
