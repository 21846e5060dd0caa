#include "namenode/raft/disk_storage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "namenode/raft/storage_format.h"
#include "tests/common/status_assert.h"
#include "tests/common/temp_dir.h"

namespace dfs::raft {
namespace {

namespace fs = std::filesystem;

Entry MakeEntry(uint64_t index, uint64_t term, size_t data_bytes = 8) {
  std::string data = "i" + std::to_string(index) + "t" + std::to_string(term);
  data.resize(std::max(data_bytes, data.size()), '.');
  return Entry{term, index, EntryType::kNormal, data};
}

// Entries lo..hi inclusive, all of `term`.
std::vector<Entry> Entries(uint64_t lo, uint64_t hi, uint64_t term, size_t data_bytes = 8) {
  std::vector<Entry> out;
  for (uint64_t i = lo; i <= hi; ++i) out.push_back(MakeEntry(i, term, data_bytes));
  return out;
}

Ready ReadyOf(std::vector<Entry> entries, std::optional<HardState> hs = std::nullopt) {
  Ready rd;
  rd.entries = std::move(entries);
  rd.hard_state = hs;
  return rd;
}

// Every file in dir, by name, with its contents.
std::map<std::string, std::string> FilesIn(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& de : fs::directory_iterator(dir)) {
    files[de.path().filename().string()] = ReadWholeFile(de.path().string());
  }
  return files;
}

std::vector<std::string> SegmentNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& [name, data] : FilesIn(dir)) {
    if (ParseSegmentFileName(name)) names.push_back(name);
  }
  return names;
}

void CopyDir(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

class DiskStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp_.path().empty()); }

  std::unique_ptr<DiskStorage> OpenOk(const std::string& dir) {
    auto s = DiskStorage::Open(dir, options_);
    EXPECT_OK(s);
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<DiskStorage> OpenOk() { return OpenOk(dir()); }
  std::string dir() const { return tmp_.Join("raft"); }

  TempDir tmp_;
  // About five 40-byte entries per segment.
  // No preallocation: the tests below cut and compare files byte by byte (see
  // PreallocatedSegments... for it).
  DiskStorageOptions options_{
      .segment_bytes = 256, .meta_rewrite_bytes = 1 << 20, .preallocate_bytes = 0};
};

TEST_F(DiskStorageTest, NewDirectoryStartsEmpty) {
  auto st = OpenOk();
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->state().hard_state, HardState{});
  EXPECT_EQ(st->state().snapshot, SnapshotMetadata{});
  EXPECT_TRUE(st->state().entries.empty());
  EXPECT_EQ(st->LastIndex(), 0u);
}

TEST_F(DiskStorageTest, RoundTripsEverythingAcrossReopen) {
  SnapshotMetadata boot{0, 0, Membership{{1, 2, 3}, {4}, {{1, "h1:9871"}, {4, "h4:9871"}}}};
  std::vector<Entry> entries = Entries(1, 12, 1, 40);
  entries[3].type = EntryType::kConfChange;
  entries[3].data = EncodeConfChange({{ConfChangeType::kAddVoter, 4}, {{1, 2, 3, 4}, {}}});
  entries[5].data.clear();  // a leader's no-op
  HardState hs{2, 3, 9};
  {
    auto st = OpenOk();
    ASSERT_OK(st->SaveSnapshot(boot));
    ASSERT_OK(st->Persist(ReadyOf(entries, hs)));
  }
  auto st = OpenOk();
  EXPECT_EQ(st->state().snapshot, boot);
  EXPECT_EQ(st->state().hard_state, hs);
  EXPECT_EQ(st->state().entries, entries);
  EXPECT_EQ(st->LastIndex(), 12u);
}

TEST_F(DiskStorageTest, HardStatePersistedWithoutEntries) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf({}, HardState{7, 2, 0})));
  }
  EXPECT_EQ(OpenOk()->state().hard_state, (HardState{7, 2, 0}));
}

TEST_F(DiskStorageTest, LatestHardStateWinsAndMetadataFileStaysSmall) {
  options_.meta_rewrite_bytes = 256;
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 3, 1))));
    for (uint64_t t = 1; t <= 500; ++t) ASSERT_OK(st->Persist(ReadyOf({}, HardState{t, t % 3, 3})));
  }
  EXPECT_EQ(OpenOk()->state().hard_state, (HardState{500, 500 % 3, 3}));
  EXPECT_LE(fs::file_size(dir() + "/meta"), 512u);
  EXPECT_FALSE(fs::exists(dir() + "/meta.tmp"));
}

TEST_F(DiskStorageTest, ConflictingSuffixIsOverwritten) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 4, 1), HardState{1, 1, 2})));
    // A new leader of term 2 replaces entries 3 and 4 and adds a fifth.
    ASSERT_OK(st->Persist(ReadyOf(Entries(3, 5, 2), HardState{2, 2, 2})));
    EXPECT_EQ(st->LastIndex(), 5u);
  }
  std::vector<Entry> want = Entries(1, 2, 1);
  for (const Entry& e : Entries(3, 5, 2)) want.push_back(e);
  EXPECT_EQ(OpenOk()->state().entries, want);
}

TEST_F(DiskStorageTest, ShorterOverwriteDropsTheRestOfTheLog) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 4, 1, 40))));
    ASSERT_OK(st->Persist(ReadyOf({MakeEntry(2, 3, 40)})));
    EXPECT_EQ(st->LastIndex(), 2u);
  }
  std::vector<Entry> want = {MakeEntry(1, 1, 40), MakeEntry(2, 3, 40)};
  EXPECT_EQ(OpenOk()->state().entries, want);
}

TEST_F(DiskStorageTest, SegmentsRollOverAtTheSizeLimit) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 30, 1, 40))));
  }
  std::vector<std::string> names = SegmentNames(dir());
  ASSERT_GE(names.size(), 5u);
  EXPECT_EQ(names.front(), SegmentFileName(1));
  uint64_t next = 1;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string path = dir() + "/" + names[i];
    EXPECT_EQ(*ParseSegmentFileName(names[i]), next) << "segments must be contiguous";
    // A segment takes entries until it has reached the limit.
    EXPECT_LT(fs::file_size(path), options_.segment_bytes + 100) << path;
    auto reader = RecordReader::Open(path);
    ASSERT_OK(reader);
    std::unique_ptr<RecordReader> r(*reader);
    std::string rec;
    while (r->Next(&rec).ok()) ++next;
  }
  EXPECT_EQ(next, 31u);
  EXPECT_EQ(OpenOk()->state().entries, Entries(1, 30, 1, 40));
}

TEST_F(DiskStorageTest, OverwriteAcrossSegmentBoundaryDeletesLaterSegments) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 30, 1, 40))));
    ASSERT_GE(st->segment_count(), 5u);
    // Index 4 lies in the first segment; everything after it goes.
    ASSERT_OK(st->Persist(ReadyOf(Entries(4, 8, 2, 40))));
    EXPECT_EQ(st->LastIndex(), 8u);
  }
  EXPECT_EQ(SegmentNames(dir()).size(), 2u);
  std::vector<Entry> want = Entries(1, 3, 1, 40);
  for (const Entry& e : Entries(4, 8, 2, 40)) want.push_back(e);
  {
    auto st = OpenOk();
    EXPECT_EQ(st->state().entries, want);
    ASSERT_OK(st->Persist(ReadyOf(Entries(9, 12, 2, 40))));
  }
  for (const Entry& e : Entries(9, 12, 2, 40)) want.push_back(e);
  EXPECT_EQ(OpenOk()->state().entries, want);
}

TEST_F(DiskStorageTest, SnapshotCompactsCoveredSegmentsAndKeepsLaterEntries) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 30, 1, 40), HardState{1, 1, 30})));
    const size_t before = st->segment_count();
    ASSERT_OK(st->SaveSnapshot({13, 1, Membership{{1, 2, 3}, {}}}));
    EXPECT_LT(st->segment_count(), before);
  }
  // No remaining segment lies wholly at or below the snapshot index; the one
  // holding index 14 is still there.
  std::vector<std::string> names = SegmentNames(dir());
  ASSERT_FALSE(names.empty());
  EXPECT_LE(*ParseSegmentFileName(names.front()), 14u);
  if (names.size() > 1) {
    EXPECT_GT(*ParseSegmentFileName(names[1]), 14u);
  }

  auto st = OpenOk();
  EXPECT_EQ(st->state().snapshot, (SnapshotMetadata{13, 1, Membership{{1, 2, 3}, {}}}));
  EXPECT_EQ(st->state().entries, Entries(14, 30, 1, 40));
  EXPECT_EQ(st->FirstIndex(), 14u);
  EXPECT_CODE(st->Append({MakeEntry(13, 1)}), kInvalidArgument);
  EXPECT_CODE(st->SaveSnapshot({5, 1, {}}), kInvalidArgument);
}

TEST_F(DiskStorageTest, SegmentsLeftBelowTheSnapshotByACutShortCompactionAreIgnored) {
  std::string first_segment;
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 30, 1, 40))));
    first_segment = ReadWholeFile(dir() + "/" + SegmentFileName(1));
    ASSERT_OK(st->SaveSnapshot({13, 1, Membership{{1}, {}}}));
  }
  // A crash before the deletion reached the disk brings the file back.
  WriteWholeFile(dir() + "/" + SegmentFileName(1), first_segment);
  auto st = OpenOk();
  EXPECT_EQ(st->state().entries, Entries(14, 30, 1, 40));
  ASSERT_OK(st->SaveSnapshot({20, 1, Membership{{1}, {}}}));
  EXPECT_FALSE(fs::exists(dir() + "/" + SegmentFileName(1)));
}

TEST_F(DiskStorageTest, CommitOnlyChangeSurvivesAProcessRestart) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 5, 1), HardState{1, 1, 2})));
    ASSERT_OK(st->Persist(ReadyOf({}, HardState{1, 1, 5})));
  }
  EXPECT_EQ(OpenOk()->state().hard_state, (HardState{1, 1, 5}));
}

TEST_F(DiskStorageTest, InstalledSnapshotReplacesTheWholeLog) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 30, 1, 40), HardState{1, 1, 5})));
    // The leader's snapshot at 20 (term 2) conflicts with our entries 20..30.
    Ready rd = ReadyOf(Entries(21, 23, 2, 40), HardState{2, 0, 20});
    rd.snapshot = SnapshotMetadata{20, 2, Membership{{1, 2}, {}}};
    ASSERT_OK(st->Persist(rd));
  }
  auto st = OpenOk();
  EXPECT_EQ(st->state().snapshot.index, 20u);
  EXPECT_EQ(st->state().snapshot.term, 2u);
  EXPECT_EQ(st->state().entries, Entries(21, 23, 2, 40));
  EXPECT_EQ(st->state().hard_state, (HardState{2, 0, 20}));
  EXPECT_EQ(SegmentNames(dir()), std::vector<std::string>{SegmentFileName(21)});
}

TEST_F(DiskStorageTest, AppendRefusesGapsAndNonContiguousEntries) {
  auto st = OpenOk();
  ASSERT_OK(st->Persist(ReadyOf(Entries(1, 3, 1))));
  EXPECT_CODE(st->Append({MakeEntry(5, 1)}), kInvalidArgument);
  EXPECT_CODE(st->Append({MakeEntry(4, 1), MakeEntry(6, 1)}), kInvalidArgument);
  EXPECT_EQ(st->LastIndex(), 3u);
  ASSERT_OK(st->Append({MakeEntry(4, 1)}));
  ASSERT_OK(st->Sync());
}

TEST_F(DiskStorageTest, TornTailIsTruncatedAndLaterAppendsSurviveReopen) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 8, 1, 40), HardState{1, 1, 7})));
  }
  std::vector<std::string> names = SegmentNames(dir());
  const std::string last = dir() + "/" + names.back();
  fs::resize_file(last, fs::file_size(last) - 5);  // the last record is cut short
  {
    auto st = OpenOk();
    EXPECT_EQ(st->state().entries, Entries(1, 7, 1, 40));
    ASSERT_OK(st->Persist(ReadyOf(Entries(8, 10, 2, 40), HardState{2, 2, 9})));
  }
  std::vector<Entry> want = Entries(1, 7, 1, 40);
  for (const Entry& e : Entries(8, 10, 2, 40)) want.push_back(e);
  auto st = OpenOk();
  EXPECT_EQ(st->state().entries, want);
  EXPECT_EQ(st->state().hard_state, (HardState{2, 2, 9}));
}

// Segments extended with zeros ahead of their entries: a full one is cut back before
// the next starts, the active one's zeros are taken for its end, and a crash that left
// part of a record before the zeros loses only that record.
TEST_F(DiskStorageTest, PreallocatedSegmentsRecoverEveryEntryAndSurviveACrashMidRecord) {
  options_.segment_bytes = 1024;
  options_.preallocate_bytes = 4096;
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 60, 1, 40), HardState{1, 1, 60})));
  }
  std::vector<std::string> names = SegmentNames(dir());
  ASSERT_GE(names.size(), 3u);
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    EXPECT_LT(fs::file_size(dir() + "/" + names[i]), options_.segment_bytes + 100) << names[i];
  }
  const std::string last = dir() + "/" + names.back();
  const std::string full = ReadWholeFile(last);
  size_t end = full.find_last_not_of('\0') + 1;
  ASSERT_GE(full.size(), end + options_.preallocate_bytes / 2) << "the active segment has zeros ahead";
  // Reopening takes the zeros for the end, and appends go on after the entries.
  {
    auto st = OpenOk();
    EXPECT_EQ(st->state().entries, Entries(1, 60, 1, 40));
    ASSERT_OK(st->Persist(ReadyOf(Entries(61, 70, 2, 40), HardState{2, 2, 70})));
  }
  std::vector<Entry> want = Entries(1, 60, 1, 40);
  for (const Entry& e : Entries(61, 70, 2, 40)) want.push_back(e);
  EXPECT_EQ(OpenOk()->state().entries, want);
  // A crash while the last entry was being written: its bytes stop part-way, zeros after.
  names = SegmentNames(dir());
  const std::string seg = dir() + "/" + names.back();
  std::string bytes = ReadWholeFile(seg);
  end = bytes.find_last_not_of('\0') + 1;
  bytes.replace(end - 20, 20, std::string(20, '\0'));
  WriteWholeFile(seg, bytes);
  want.pop_back();
  auto st = OpenOk();
  EXPECT_EQ(st->state().entries, want);
}

TEST_F(DiskStorageTest, TornMetadataTailFallsBackToThePreviousHardState) {
  {
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf({}, HardState{3, 1, 0})));
    ASSERT_OK(st->Persist(ReadyOf({}, HardState{4, 2, 0})));
  }
  fs::resize_file(dir() + "/meta", fs::file_size(dir() + "/meta") - 1);
  EXPECT_EQ(OpenOk()->state().hard_state, (HardState{3, 1, 0}));
}

class DiskStorageCorruptionTest : public DiskStorageTest {
 protected:
  void SetUp() override {
    DiskStorageTest::SetUp();
    auto st = OpenOk();
    ASSERT_OK(st->Persist(ReadyOf(Entries(1, 30, 1, 40), HardState{1, 1, 30})));
    names_ = SegmentNames(dir());
    ASSERT_GE(names_.size(), 4u);
  }

  // Open fails with DataLoss naming `file`, and the directory is unchanged.
  void ExpectDataLossNaming(const std::string& file) {
    auto before = FilesIn(dir());
    auto st = DiskStorage::Open(dir(), options_);
    ASSERT_CODE(st, kDataLoss);
    EXPECT_NE(st.status().message().find(file), std::string::npos) << st.status().message();
    EXPECT_EQ(FilesIn(dir()), before);
  }

  std::vector<std::string> names_;
};

TEST_F(DiskStorageCorruptionTest, CorruptRecordMidLogIsDataLossAndChangesNothing) {
  const std::string path = dir() + "/" + names_[1];
  std::string data = ReadWholeFile(path);
  data[20] ^= 0x40;  // inside the first record's payload
  WriteWholeFile(path, data);
  ExpectDataLossNaming(names_[1]);
  auto st = DiskStorage::Open(dir(), options_);
  EXPECT_NE(st.status().message().find("offset 0"), std::string::npos) << st.status().message();
}

TEST_F(DiskStorageCorruptionTest, CorruptRecordBeforeTheLastOfTheLastSegmentIsDataLoss) {
  const std::string path = dir() + "/" + names_.back();
  std::string data = ReadWholeFile(path);
  data[20] ^= 0x01;
  WriteWholeFile(path, data);
  ExpectDataLossNaming(names_.back());
}

TEST_F(DiskStorageCorruptionTest, GapBetweenSegmentsIsDataLossAndChangesNothing) {
  fs::remove(dir() + "/" + names_[2]);
  ExpectDataLossNaming(names_[3]);
}

TEST_F(DiskStorageCorruptionTest, TornSegmentThatIsNotTheLastIsDataLoss) {
  const std::string path = dir() + "/" + names_[1];
  fs::resize_file(path, fs::file_size(path) - 3);
  ExpectDataLossNaming(names_[1]);
}

TEST_F(DiskStorageCorruptionTest, LogStartingAfterTheSnapshotIsDataLoss) {
  fs::remove(dir() + "/" + names_[0]);
  ExpectDataLossNaming(names_[1]);
}

// A crash leaves on disk what was synced plus any prefix of what was written
// after it. Whatever that prefix, the copy opens, holds every entry and the
// hard state that Persist returned for, and nothing that was never written.
TEST_F(DiskStorageTest, CrashAtAnyPointKeepsWhatPersistReturnedFor) {
  auto st = OpenOk();
  ASSERT_OK(st->Persist(ReadyOf(Entries(1, 7, 1, 40), HardState{1, 1, 6})));
  const std::string seg = SegmentNames(dir()).back();
  const uint64_t synced_bytes = fs::file_size(dir() + "/" + seg);

  // Mid-way through the next Persist: entries buffered, nothing synced.
  ASSERT_OK(st->Append(Entries(8, 9, 2, 40)));
  ASSERT_OK(st->SaveHardState(HardState{2, 2, 8}));
  const std::string midway = tmp_.Join("midway");
  CopyDir(dir(), midway);
  ASSERT_OK(st->Sync());
  {
    auto copy = OpenOk(midway);
    EXPECT_EQ(copy->state().entries, Entries(1, 7, 1, 40));
    EXPECT_EQ(copy->state().hard_state, (HardState{1, 1, 6}));
  }

  // A crash during that Sync: the segment holds any prefix of what was
  // written, and the hard state, synced after the entries, is still the old one.
  ASSERT_EQ(SegmentNames(dir()).back(), seg);
  const std::string full = ReadWholeFile(dir() + "/" + seg);
  ASSERT_GT(full.size(), synced_bytes);
  std::vector<Entry> written = Entries(1, 7, 1, 40);
  for (const Entry& e : Entries(8, 9, 2, 40)) written.push_back(e);
  for (uint64_t cut = synced_bytes; cut <= full.size(); ++cut) {
    const std::string crash = tmp_.Join("crash");
    CopyDir(midway, crash);
    WriteWholeFile(crash + "/" + seg, full.substr(0, cut));
    auto copy = OpenOk(crash);
    ASSERT_NE(copy, nullptr) << "cut at " << cut;
    const auto& got = copy->state().entries;
    ASSERT_GE(got.size(), 7u) << "cut at " << cut;
    ASSERT_LE(got.size(), written.size());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), written.begin())) << "cut at " << cut;
    EXPECT_EQ(copy->state().hard_state, (HardState{1, 1, 6}));
    copy.reset();
    fs::remove_all(crash);
  }

  // Once Sync has returned, a copy holds everything.
  const std::string after = tmp_.Join("after");
  CopyDir(dir(), after);
  auto copy = OpenOk(after);
  EXPECT_EQ(copy->state().entries, written);
  EXPECT_EQ(copy->state().hard_state, (HardState{2, 2, 8}));
}

TEST_F(DiskStorageTest, RefusesSegmentBytesOfZero) {
  options_.segment_bytes = 0;
  EXPECT_CODE(DiskStorage::Open(dir(), options_), kInvalidArgument);
}

}  // namespace
}  // namespace dfs::raft
