#include "common/record_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/common/status_assert.h"
#include "tests/common/temp_dir.h"

namespace dfs {
namespace {

constexpr size_t kHeaderBytes = 12;  // u32 length, u32 CRC32C of it, u32 CRC32C of the payload

class RecordFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_.Join("records");
  }

  void WriteRecords(const std::vector<std::string>& records) {
    auto w = RecordWriter::Open(path_);
    ASSERT_OK(w);
    std::unique_ptr<RecordWriter> writer(*w);
    for (const auto& r : records) writer->Append(r);
    ASSERT_OK(writer->Sync());
  }

  // Reads records until Next fails; returns that final status.
  Status ReadAll(std::vector<std::string>* out, std::unique_ptr<RecordReader>* reader) {
    auto r = RecordReader::Open(path_);
    if (!r.ok()) return r.status();
    reader->reset(*r);
    std::string rec;
    Status s;
    while ((s = (*reader)->Next(&rec)).ok()) out->push_back(rec);
    return s;
  }

  TempDir dir_;
  std::string path_;
};

TEST_F(RecordFileTest, PreallocatedFileEndsAtItsLastRecordAndFinishCutsTheZeros) {
  auto w = RecordWriter::Open(path_, 4096);
  ASSERT_OK(w);
  std::unique_ptr<RecordWriter> writer(*w);
  const std::vector<std::string> records = {"one", "", std::string(5000, 'x'), "four"};
  for (const auto& r : records) writer->Append(r);
  ASSERT_OK(writer->Sync());
  uint64_t logical = writer->size();
  EXPECT_GE(std::filesystem::file_size(path_), logical + 2048) << "zeros ahead of the records";
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kOutOfRange);
  EXPECT_EQ(got, records);
  EXPECT_TRUE(reader->zero_tail());
  EXPECT_EQ(reader->good_bytes(), logical);
  ASSERT_OK(writer->Finish());
  EXPECT_EQ(std::filesystem::file_size(path_), logical);
  got.clear();
  EXPECT_CODE(ReadAll(&got, &reader), kOutOfRange);
  EXPECT_EQ(got, records);
  EXPECT_FALSE(reader->torn());
}

TEST_F(RecordFileTest, RecordsRoundTripIncludingEmptyAndBinaryPayloads) {
  const std::vector<std::string> records = {"first", "", std::string("a\0b\xff", 4),
                                            std::string(100'000, 'x')};
  WriteRecords(records);
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kOutOfRange);
  EXPECT_EQ(got, records);
  EXPECT_FALSE(reader->torn());
  EXPECT_EQ(reader->good_bytes(), std::filesystem::file_size(path_));
}

TEST_F(RecordFileTest, WriterSizeCountsBufferedAndWrittenBytes) {
  auto w = RecordWriter::Open(path_);
  ASSERT_OK(w);
  std::unique_ptr<RecordWriter> writer(*w);
  EXPECT_EQ(writer->size(), 0u);
  writer->Append("abc");
  EXPECT_EQ(writer->size(), kHeaderBytes + 3);
  EXPECT_EQ(writer->buffered(), kHeaderBytes + 3);
  ASSERT_OK(writer->Flush());
  EXPECT_EQ(writer->size(), kHeaderBytes + 3);
  EXPECT_EQ(writer->buffered(), 0u);
  EXPECT_EQ(std::filesystem::file_size(path_), kHeaderBytes + 3);
  writer->Append("de");
  EXPECT_EQ(writer->size(), 2 * kHeaderBytes + 5);
  EXPECT_EQ(writer->buffered(), kHeaderBytes + 2);
}

TEST_F(RecordFileTest, ReopenedWriterAppendsAfterExistingRecords) {
  WriteRecords({"one", "two"});
  const uint64_t before = std::filesystem::file_size(path_);
  {
    auto w = RecordWriter::Open(path_);
    ASSERT_OK(w);
    std::unique_ptr<RecordWriter> writer(*w);
    EXPECT_EQ(writer->size(), before);
    writer->Append("three");
  }  // the destructor flushes
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kOutOfRange);
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "three"}));
}

TEST_F(RecordFileTest, EmptyFileIsACleanEnd) {
  WriteRecords({});
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kOutOfRange);
  EXPECT_TRUE(got.empty());
  EXPECT_FALSE(reader->torn());
  EXPECT_EQ(reader->good_bytes(), 0u);
}

TEST_F(RecordFileTest, OpeningAMissingFileIsNotFound) {
  EXPECT_CODE(RecordReader::Open(dir_.Join("absent")), kNotFound);
}

TEST_F(RecordFileTest, RecordCutShortIsATornTail) {
  WriteRecords({"alpha", "beta", "gamma-gamma"});
  const uint64_t good = 2 * kHeaderBytes + 5 + 4;
  const uint64_t size = std::filesystem::file_size(path_);
  ASSERT_EQ(::truncate(path_.c_str(), static_cast<off_t>(size - 3)), 0);
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kOutOfRange);
  EXPECT_EQ(got, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_TRUE(reader->torn());
  EXPECT_EQ(reader->good_bytes(), good);
}

TEST_F(RecordFileTest, HeaderCutShortIsATornTail) {
  WriteRecords({"alpha", "beta"});
  const uint64_t good = std::filesystem::file_size(path_);
  std::string data = ReadWholeFile(path_);
  WriteWholeFile(path_, data + std::string("\x05\x00\x00", 3));
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kOutOfRange);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_TRUE(reader->torn());
  EXPECT_EQ(reader->good_bytes(), good);
}

TEST_F(RecordFileTest, BadChecksumOnTheLastRecordIsATornTail) {
  WriteRecords({"alpha", "beta"});
  std::string data = ReadWholeFile(path_);
  data.back() ^= 0x01;
  WriteWholeFile(path_, data);
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kOutOfRange);
  EXPECT_EQ(got, std::vector<std::string>{"alpha"});
  EXPECT_TRUE(reader->torn());
  EXPECT_EQ(reader->good_bytes(), kHeaderBytes + 5);
}

TEST_F(RecordFileTest, CorruptionInTheMiddleIsDataLoss) {
  WriteRecords({"alpha", "beta", "gamma"});
  std::string data = ReadWholeFile(path_);
  data[kHeaderBytes + 5 + kHeaderBytes + 1] ^= 0x40;  // inside "beta"
  WriteWholeFile(path_, data);
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kDataLoss);
  EXPECT_EQ(got, std::vector<std::string>{"alpha"});
  EXPECT_FALSE(reader->torn());
}

TEST_F(RecordFileTest, CorruptChecksumFieldInTheMiddleIsDataLoss) {
  WriteRecords({"alpha", "beta", "gamma"});
  std::string data = ReadWholeFile(path_);
  data[4] ^= 0x01;  // the first record's CRC
  WriteWholeFile(path_, data);
  std::vector<std::string> got;
  std::unique_ptr<RecordReader> reader;
  EXPECT_CODE(ReadAll(&got, &reader), kDataLoss);
  EXPECT_TRUE(got.empty());
}

TEST_F(RecordFileTest, WriteFileAtomicReplacesContentsAndLeavesNoTemporary) {
  const std::string path = dir_.Join("state");
  ASSERT_OK(WriteFileAtomic(path, "old contents"));
  EXPECT_EQ(ReadWholeFile(path), "old contents");
  ASSERT_OK(WriteFileAtomic(path, "new"));
  EXPECT_EQ(ReadWholeFile(path), "new");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_F(RecordFileTest, WriteFileAtomicIntoAMissingDirectoryFails) {
  EXPECT_FALSE(WriteFileAtomic(dir_.Join("no/such/dir/file"), "x").ok());
}

}  // namespace
}  // namespace dfs
