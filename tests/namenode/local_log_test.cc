#include "namenode/local_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/crc32c.h"
#include "common/record_file.h"
#include "tests/common/status_assert.h"
#include "tests/common/temp_dir.h"

namespace dfs {
namespace {

using Entries = std::vector<std::pair<uint64_t, std::string>>;

// Records what it is given. Its snapshot is the list of entries applied so far.
class RecordingStateMachine : public StateMachine {
 public:
  void Apply(uint64_t index, const std::string& entry) override {
    state.emplace_back(index, entry);
    applied.emplace_back(index, entry);
  }
  Result<uint64_t> SaveSnapshot(const std::string& path) override {
    auto w = RecordWriter::Open(path + ".new");
    if (!w.ok()) return w.status();
    std::unique_ptr<RecordWriter> writer(*w);
    for (const auto& [index, entry] : state) writer->Append(std::to_string(index) + ":" + entry);
    RETURN_IF_ERROR(writer->Sync());
    std::filesystem::rename(path + ".new", path);
    ++snapshots_saved;
    return state.empty() ? 0 : state.back().first;
  }
  Result<uint64_t> RestoreSnapshot(const std::string& path) override {
    auto r = RecordReader::Open(path);
    if (!r.ok()) return r.status();
    std::unique_ptr<RecordReader> reader(*r);
    state.clear();
    std::string rec;
    while (reader->Next(&rec).ok()) {
      size_t colon = rec.find(':');
      state.emplace_back(std::stoull(rec.substr(0, colon)), rec.substr(colon + 1));
    }
    ++snapshots_restored;
    return state.empty() ? 0 : state.back().first;
  }

  Entries state;    // as of the last applied entry, snapshot included
  Entries applied;  // only the Apply calls, in order
  int snapshots_saved = 0;
  int snapshots_restored = 0;
};

constexpr auto kDeadline = std::chrono::seconds(30);

class LocalLogTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }
  std::string Edits() const { return dir_.Join("log/edits"); }
  std::string LogDir() const { return dir_.Join("log"); }

  // Proposes entry and waits (with a deadline) for its index.
  static Result<uint64_t> ProposeAndWait(LocalLog* log, const std::string& entry) {
    auto f = log->Propose(entry);
    if (f.wait_for(kDeadline) != std::future_status::ready) {
      return DeadlineExceeded("proposal of '" + entry + "' did not resolve");
    }
    return f.get();
  }

  // Starts a log on the test directory, proposes entries one at a time, stops it.
  void WriteLog(const std::vector<std::string>& entries, uint64_t checkpoint_every = 1000) {
    RecordingStateMachine sm;
    LocalLog log(LogDir(), checkpoint_every);
    ASSERT_OK(log.Start(&sm));
    for (const auto& e : entries) ASSERT_OK(ProposeAndWait(&log, e));
    log.Stop();
  }

  TempDir dir_;
};

TEST_F(LocalLogTest, ProposalsGetConsecutiveIndexesAndAreAppliedInOrder) {
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 1000);
  ASSERT_OK(log.Start(&sm));
  std::vector<std::future<Result<uint64_t>>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(log.Propose("e" + std::to_string(i)));
  for (size_t i = 0; i < futures.size(); ++i) {
    ASSERT_EQ(futures[i].wait_for(kDeadline), std::future_status::ready);
    auto index = futures[i].get();
    ASSERT_OK(index);
    EXPECT_EQ(*index, i + 1);
  }
  log.Stop();
  ASSERT_EQ(sm.applied.size(), 20u);
  for (size_t i = 0; i < sm.applied.size(); ++i) {
    EXPECT_EQ(sm.applied[i], std::make_pair(uint64_t{i + 1}, "e" + std::to_string(i)));
  }
}

TEST_F(LocalLogTest, RestartReplaysEveryEntryIntoAFreshStateMachine) {
  WriteLog({"one", std::string("t\0o", 3), "three"});
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 1000);
  ASSERT_OK(log.Start(&sm));
  EXPECT_EQ(sm.applied, (Entries{{1, "one"}, {2, std::string("t\0o", 3)}, {3, "three"}}));
  EXPECT_EQ(sm.snapshots_restored, 0);
  auto next = ProposeAndWait(&log, "four");
  ASSERT_OK(next);
  EXPECT_EQ(*next, 4u);
}

TEST_F(LocalLogTest, CheckpointThenRestartRestoresTheImageAndReplaysOnlyLaterEntries) {
  {
    RecordingStateMachine sm;
    LocalLog log(LogDir(), 3);
    ASSERT_OK(log.Start(&sm));
    for (const char* e : {"a", "b", "c", "d", "e"}) ASSERT_OK(ProposeAndWait(&log, e));
    log.Stop();
    EXPECT_EQ(sm.snapshots_saved, 1);
  }
  EXPECT_TRUE(std::filesystem::exists(LogDir() + "/image"));
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 3);
  ASSERT_OK(log.Start(&sm));
  EXPECT_EQ(sm.snapshots_restored, 1);
  EXPECT_EQ(sm.applied, (Entries{{4, "d"}, {5, "e"}}));
  EXPECT_EQ(sm.state, (Entries{{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}, {5, "e"}}));
  auto next = ProposeAndWait(&log, "f");
  ASSERT_OK(next);
  EXPECT_EQ(*next, 6u);
}

TEST_F(LocalLogTest, RepeatedCheckpointsKeepTheLogRecoverable) {
  std::vector<std::string> entries;
  for (int i = 0; i < 10; ++i) entries.push_back("x" + std::to_string(i));
  WriteLog(entries, 2);
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 2);
  ASSERT_OK(log.Start(&sm));
  ASSERT_EQ(sm.state.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(sm.state[i].second, entries[i]);
  EXPECT_TRUE(sm.applied.empty());  // the last checkpoint was at entry 10
}

TEST_F(LocalLogTest, TornLastRecordIsTruncatedAndStartSucceeds) {
  WriteLog({"one", "two", "three"});
  const uint64_t good = std::filesystem::file_size(Edits());
  // A record header promising 100 bytes, followed by only 10: a crash mid-append.
  uint32_t len = 100;
  uint32_t header[3] = {len, Crc32c(&len, 4), 0};
  std::string torn(reinterpret_cast<const char*>(header), sizeof header);
  torn += std::string(10, 'z');
  WriteWholeFile(Edits(), ReadWholeFile(Edits()) + torn);
  {
    RecordingStateMachine sm;
    LocalLog log(LogDir(), 1000);
    ASSERT_OK(log.Start(&sm));
    EXPECT_EQ(sm.applied.size(), 3u);
    EXPECT_EQ(std::filesystem::file_size(Edits()), good);
    auto next = ProposeAndWait(&log, "four");
    ASSERT_OK(next);
    EXPECT_EQ(*next, 4u);
  }
  // The entry written after the truncation is readable: the garbage is really gone.
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 1000);
  ASSERT_OK(log.Start(&sm));
  EXPECT_EQ(sm.applied, (Entries{{1, "one"}, {2, "two"}, {3, "three"}, {4, "four"}}));
}

TEST_F(LocalLogTest, PartialHeaderAtTheEndIsTruncated) {
  WriteLog({"one"});
  const uint64_t good = std::filesystem::file_size(Edits());
  WriteWholeFile(Edits(), ReadWholeFile(Edits()) + "abc");
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 1000);
  ASSERT_OK(log.Start(&sm));
  EXPECT_EQ(sm.applied, (Entries{{1, "one"}}));
  EXPECT_EQ(std::filesystem::file_size(Edits()), good);
}

TEST_F(LocalLogTest, CorruptionInTheMiddleStopsStartWithDataLoss) {
  WriteLog({"first-entry", "second-entry", "third-entry"});
  std::string data = ReadWholeFile(Edits());
  data[12 + 8 + 2] ^= 0x10;  // in the first entry's payload, after its header and index
  WriteWholeFile(Edits(), data);
  const uint64_t size = std::filesystem::file_size(Edits());
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 1000);
  EXPECT_CODE(log.Start(&sm), kDataLoss);
  EXPECT_TRUE(sm.applied.empty());
  EXPECT_EQ(std::filesystem::file_size(Edits()), size);  // nothing is truncated away
}

TEST_F(LocalLogTest, GapInEntryIndexesIsDataLoss) {
  std::filesystem::create_directories(LogDir());
  {
    auto w = RecordWriter::Open(Edits());
    ASSERT_OK(w);
    std::unique_ptr<RecordWriter> writer(*w);
    for (uint64_t index : {1, 3}) {
      std::string rec(8, '\0');
      std::memcpy(rec.data(), &index, 8);
      writer->Append(rec + "entry");
    }
    ASSERT_OK(writer->Sync());
  }
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 1000);
  EXPECT_CODE(log.Start(&sm), kDataLoss);
}

TEST_F(LocalLogTest, ProposalAfterStopIsUnavailable) {
  RecordingStateMachine sm;
  LocalLog log(LogDir(), 1000);
  ASSERT_OK(log.Start(&sm));
  log.Stop();
  EXPECT_CODE(ProposeAndWait(&log, "late"), kUnavailable);
  EXPECT_TRUE(sm.applied.empty());
}

}  // namespace
}  // namespace dfs
