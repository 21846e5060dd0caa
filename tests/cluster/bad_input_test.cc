// Bad input at every edge gets a clear error and changes nothing.
#include <arpa/inet.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/crc32c.h"
#include "common/frame.h"
#include "tests/cluster/mini_cluster.h"
#include "tests/cluster/test_util.h"

namespace dfs {
namespace {

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MiniClusterOptions o;
    o.datanodes = 3;
    auto c = MiniCluster::Start(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    fs_ = cluster_->Connect();
    auto report = fs_->GetDatanodeReport();
    ASSERT_TRUE(report.ok());
    for (const auto& d : *report) datanodes_.push_back(d.id());
  }

  size_t ReplicaFiles() {
    size_t n = 0;
    for (int i = 0; i < cluster_->datanode_count(); ++i) {
      for (const char* sub : {"/current", "/rbw"}) {
        std::string dir = cluster_->datanode_data_dir(i) + sub;
        if (!std::filesystem::exists(dir)) continue;
        for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file();
      }
    }
    return n;
  }

  Result<Socket> ConnectTo(const proto::DatanodeId& dn) {
    ASSIGN_OR_RETURN(Socket s, Connect(dn.host(), static_cast<uint16_t>(dn.data_port()), 2000));
    RETURN_IF_ERROR(s.SetTimeoutMs(10'000));
    return s;
  }

  std::unique_ptr<MiniCluster> cluster_;
  std::unique_ptr<FileSystem> fs_;
  std::vector<proto::DatanodeId> datanodes_;
};

TEST_F(BadInputTest, PacketWithWrongChecksumIsRefusedAndNothingIsStored) {
  ASSERT_EQ(ReplicaFiles(), 0u);
  auto s = ConnectTo(datanodes_[0]);
  ASSERT_TRUE(s.ok());
  proto::OpRequest req;
  auto* w = req.mutable_write();
  w->mutable_block()->set_id(424242);
  w->mutable_block()->set_generation_stamp(1);
  *w->add_downstream() = datanodes_[1];
  *w->add_downstream() = datanodes_[2];
  w->set_client_name("test");
  ASSERT_OK(WriteMessage(*s, req));
  proto::OpResponse resp;
  ASSERT_OK(ReadMessage(*s, &resp));
  ASSERT_EQ(resp.code(), 0) << resp.message();

  std::string data = TestData(1, 4096);
  std::vector<uint32_t> crcs(ChunkCount(data.size()));
  ChunkCrcs(data.data(), data.size(), crcs.data());
  proto::PacketHeader h;
  h.set_seqno(0);
  h.set_offset_in_block(0);
  h.set_data_len(static_cast<uint32_t>(data.size()));
  ASSERT_OK(WritePacket(*s, h, crcs.data(), data.data(), data.size()));
  proto::PipelineAck ack;
  ASSERT_OK(ReadMessage(*s, &ack));
  EXPECT_EQ(ack.seqno(), 0);
  for (int c : ack.codes()) EXPECT_EQ(c, 0);

  data[100] ^= 1;  // the CRC no longer matches
  h.set_seqno(1);
  h.set_offset_in_block(4096);
  ASSERT_OK(WritePacket(*s, h, crcs.data(), data.data(), data.size()));
  ASSERT_OK(ReadMessage(*s, &ack));
  EXPECT_EQ(ack.seqno(), 1);
  ASSERT_GE(ack.codes_size(), 1);
  EXPECT_EQ(ack.codes(0), static_cast<int>(Code::kDataLoss));
  EXPECT_NE(ack.message().find("checksum"), std::string::npos) << ack.message();
  s->Close();
  // The partial replica is dropped on every pipeline member.
  EXPECT_TRUE(WaitFor([&] { return ReplicaFiles() == 0; })) << ReplicaFiles() << " files left";
}

TEST_F(BadInputTest, ReadOfAMissingBlockIsRefusedClearly) {
  auto s = ConnectTo(datanodes_[0]);
  ASSERT_TRUE(s.ok());
  proto::OpRequest req;
  req.mutable_read()->mutable_block()->set_id(999999);
  ASSERT_OK(WriteMessage(*s, req));
  proto::OpResponse resp;
  ASSERT_OK(ReadMessage(*s, &resp));
  EXPECT_EQ(resp.code(), static_cast<int>(Code::kNotFound));
  EXPECT_NE(resp.message().find("no replica of block 999999"), std::string::npos);
}

TEST_F(BadInputTest, OversizedFrameIsRefusedWithoutBeingRead) {
  auto s = ConnectTo(datanodes_[0]);
  ASSERT_TRUE(s.ok());
  uint32_t huge = htonl(512u << 20);
  ASSERT_OK(s->WriteFull(&huge, 4));
  proto::OpResponse resp;
  ASSERT_OK(ReadMessage(*s, &resp));
  EXPECT_EQ(resp.code(), static_cast<int>(Code::kInvalidArgument));
  EXPECT_NE(resp.message().find("exceeds the limit"), std::string::npos) << resp.message();
}

TEST_F(BadInputTest, OversizedPacketIsRefused) {
  auto s = ConnectTo(datanodes_[0]);
  ASSERT_TRUE(s.ok());
  proto::OpRequest req;
  req.mutable_write()->mutable_block()->set_id(5150);
  req.mutable_write()->mutable_block()->set_generation_stamp(1);
  ASSERT_OK(WriteMessage(*s, req));
  proto::OpResponse resp;
  ASSERT_OK(ReadMessage(*s, &resp));
  ASSERT_EQ(resp.code(), 0);
  proto::PacketHeader h;
  h.set_data_len(1u << 30);
  ASSERT_OK(WriteMessage(*s, h));
  // The datanode gives up on the connection instead of allocating a gigabyte.
  proto::PipelineAck ack;
  Status st = ReadMessage(*s, &ack);
  EXPECT_FALSE(st.ok() && ack.codes_size() > 0 && ack.codes(0) == 0);
  EXPECT_TRUE(WaitFor([&] { return ReplicaFiles() == 0; }));
}

TEST_F(BadInputTest, MissingFilesGiveClearErrors) {
  auto in = fs_->Open("/no/such/file");
  EXPECT_EQ(in.status().code(), Code::kNotFound);
  EXPECT_NE(in.status().message().find("/no/such/file"), std::string::npos);
  EXPECT_EQ(fs_->GetFileStatus("/nope").status().code(), Code::kNotFound);
  ASSERT_OK(fs_->Mkdirs("/dir"));
  EXPECT_EQ(fs_->Open("/dir").status().code(), Code::kFailedPrecondition);
}

TEST_F(BadInputTest, MalformedAndOversizedPathsAreRefused) {
  std::string long_name(256, 'a');
  std::string long_path;
  while (long_path.size() <= 4096) long_path += "/abc";
  for (const std::string& p : {std::string("/a/../b"), std::string("/a/./b"),
                               "/" + long_name, long_path, std::string("/a\0b", 4)}) {
    proto::MkdirsRequest req;
    req.set_path(p);
    req.set_create_parent(true);
    proto::MkdirsResponse resp;
    Status s = fs_->Call([&](grpc::ClientContext* c) { return fs_->stub()->Mkdirs(c, req, &resp); });
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << p.substr(0, 40) << ": " << s.ToString();
  }
  auto list = fs_->ListStatus("/");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(BadInputTest, NamespaceRefusalsChangeNothing) {
  ASSERT_OK(fs_->Mkdirs("/a/b/c"));
  ASSERT_OK(WriteFile(fs_.get(), "/a/f", "data"));
  EXPECT_EQ(fs_->Rename("/a", "/a/b/c/inside").code(), Code::kInvalidArgument);
  EXPECT_EQ(fs_->Delete("/a", false).code(), Code::kFailedPrecondition);
  EXPECT_EQ(fs_->Create("/a/f").status().code(), Code::kAlreadyExists);
  EXPECT_EQ(fs_->SetReplication("/a/f", 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(fs_->SetReplication("/a/f", 1000).code(), Code::kInvalidArgument);
  CreateOptions o;
  o.block_size = 1000;  // not a multiple of 512
  EXPECT_EQ(fs_->Create("/a/g", o).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(*ReadFile(fs_.get(), "/a/f"), "data");
  EXPECT_TRUE(fs_->GetFileStatus("/a/b/c").ok());
  EXPECT_EQ(fs_->GetFileStatus("/a/g").status().code(), Code::kNotFound);
}

// A batch of stats (what libdfs sends for concurrent GetFileStatus calls) answers each
// path on its own, and one over the limit is refused whole.
TEST_F(BadInputTest, StatBatchesAnswerEachPathAndOversizedOnesAreRefused) {
  ASSERT_OK(fs_->Mkdirs("/d"));
  proto::GetFileInfosRequest req;
  for (const char* p : {"/d", "/missing", "/a/../b", "/"}) req.add_paths(p);
  proto::GetFileInfosResponse resp;
  auto send = [&] {
    return fs_->Call(
        [&](grpc::ClientContext* c) { return fs_->stub()->GetFileInfos(c, req, &resp); });
  };
  ASSERT_OK(send());
  ASSERT_EQ(resp.results_size(), 4);
  EXPECT_EQ(resp.results(0).code(), 0);
  EXPECT_EQ(resp.results(0).status().type(), proto::DIRECTORY);
  EXPECT_EQ(resp.results(1).code(), static_cast<int>(Code::kNotFound));
  EXPECT_NE(resp.results(1).message().find("/missing"), std::string::npos);
  EXPECT_EQ(resp.results(2).code(), static_cast<int>(Code::kInvalidArgument));
  EXPECT_EQ(resp.results(3).code(), 0);

  req.clear_paths();
  for (int i = 0; i < 1001; ++i) req.add_paths("/d");
  resp.Clear();
  Status s = send();
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(resp.results_size(), 0);
}

// Many threads stat-ing at once through one FileSystem (their calls share namenode
// calls) each get the answer for their own path.
TEST_F(BadInputTest, ConcurrentStatsEachGetTheirOwnAnswer) {
  for (int i = 0; i < 20; ++i) ASSERT_OK(fs_->Mkdirs("/s/d" + std::to_string(i)));
  std::atomic<int> wrong{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 16; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        int k = (t * 7 + i) % 40;  // 0-19 exist, 20-39 do not
        std::string path = "/s/d" + std::to_string(k);
        auto r = fs_->GetFileStatus(path);
        bool right = k < 20 ? r.ok() && r->path() == path && r->type() == proto::DIRECTORY
                            : r.status().code() == Code::kNotFound;
        if (!right) ++wrong;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(wrong, 0);
}

// A batch of mutations (what libdfs sends for concurrent changes) answers each on its
// own, recognises a retried one by its call id, and one over the limit is refused whole.
TEST_F(BadInputTest, MutationBatchesAnswerEachOnItsOwnAndOversizedOnesAreRefused) {
  ASSERT_OK(fs_->Mkdirs("/m/full"));
  ASSERT_OK(WriteFile(fs_.get(), "/m/full/f", "x"));
  proto::MutationsRequest req;
  auto add = [&](uint64_t call_id) {
    proto::Mutation* m = req.add_mutations();
    m->set_call_id((uint64_t{1} << 40) + call_id);  // none of fs_'s own calls has these
    return m;
  };
  add(1)->mutable_mkdirs()->set_path("/m/new");
  proto::CreateRequest* create = add(2)->mutable_create();
  create->set_path("/m/g");
  create->set_client_name(fs_->client_name());
  add(3)->mutable_mkdirs()->set_path("/m/../x");
  add(4);  // no request
  add(5)->mutable_rename()->set_src("/m/missing");
  req.mutable_mutations(4)->mutable_rename()->set_dst("/m/y");
  add(6)->mutable_delete_()->set_path("/m/full");  // not empty, not recursive
  proto::MutationsResponse resp;
  auto send = [&] {
    resp.Clear();
    return fs_->Call([&](grpc::ClientContext* c) { return fs_->stub()->Mutations(c, req, &resp); });
  };
  ASSERT_OK(send());
  ASSERT_EQ(resp.results_size(), 6);
  EXPECT_EQ(resp.results(0).code(), 0) << resp.results(0).message();
  EXPECT_EQ(resp.results(1).code(), 0) << resp.results(1).message();
  EXPECT_EQ(resp.results(1).create().status().path(), "/m/g");
  EXPECT_EQ(resp.results(2).code(), static_cast<int>(Code::kInvalidArgument));
  EXPECT_EQ(resp.results(3).code(), static_cast<int>(Code::kInvalidArgument));
  EXPECT_EQ(resp.results(4).code(), static_cast<int>(Code::kNotFound));
  EXPECT_NE(resp.results(4).message().find("/m/missing"), std::string::npos);
  EXPECT_NE(resp.results(5).code(), 0);
  EXPECT_TRUE(fs_->GetFileStatus("/m/new").ok());
  EXPECT_TRUE(fs_->GetFileStatus("/m/full/f").ok());
  EXPECT_EQ(fs_->GetFileStatus("/x").status().code(), Code::kNotFound);

  // The same calls again (a retry): the create gets its first answer, not "exists".
  ASSERT_OK(send());
  ASSERT_EQ(resp.results_size(), 6);
  EXPECT_EQ(resp.results(1).code(), 0) << resp.results(1).message();
  EXPECT_EQ(resp.results(1).create().status().path(), "/m/g");
  // A new call to create it is refused.
  req.mutable_mutations(1)->set_call_id((uint64_t{1} << 40) + 7);
  ASSERT_OK(send());
  EXPECT_EQ(resp.results(1).code(), static_cast<int>(Code::kAlreadyExists));

  req.clear_mutations();
  for (int i = 0; i < 1001; ++i) {
    add(100 + i)->mutable_mkdirs()->set_path("/big/d" + std::to_string(i));
  }
  Status s = send();
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(resp.results_size(), 0);
  EXPECT_EQ(fs_->GetFileStatus("/big").status().code(), Code::kNotFound);

  // Two with one call id: the second would get the first's answer, so neither is made.
  req.clear_mutations();
  add(2000)->mutable_mkdirs()->set_path("/twin/a");
  add(2000)->mutable_delete_()->set_path("/m/new");
  s = send();
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(fs_->GetFileStatus("/twin").status().code(), Code::kNotFound);
  EXPECT_TRUE(fs_->GetFileStatus("/m/new").ok());
}

// Many threads changing the namespace at once through one FileSystem (their calls share
// namenode calls) each get the answer to their own change.
TEST_F(BadInputTest, ConcurrentMutationsEachGetTheirOwnAnswer) {
  ASSERT_OK(fs_->Mkdirs("/c"));
  std::atomic<int> wrong{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 16; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        std::string path = "/c/t" + std::to_string(t) + "-" + std::to_string(i);
        auto out = fs_->Create(path);
        if (!out.ok() || (*out)->status().path() != path || !(*out)->Close().ok()) ++wrong;
        if (fs_->Create(path).status().code() != Code::kAlreadyExists) ++wrong;
        if (!fs_->Rename(path, path + ".r").ok()) ++wrong;
        if (fs_->Delete(path, false).code() != Code::kNotFound) ++wrong;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(wrong, 0);
  auto list = fs_->ListStatus("/c");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 16u * 40u);
  for (const auto& f : *list) {
    EXPECT_TRUE(f.path().size() > 2 && f.path().substr(f.path().size() - 2) == ".r") << f.path();
  }
}

}  // namespace
}  // namespace dfs

namespace dfs {
namespace {

TEST(ClientConfigTest, UnknownReplacePolicyIsRefused) {
  Config conf;
  conf.Set("namenodes", "127.0.0.1:1");
  conf.Set("replace_datanode_on_failure", "sometimes");
  auto fs = FileSystem::Connect(conf);
  ASSERT_FALSE(fs.ok());
  EXPECT_NE(fs.status().message().find("want default, always or never"), std::string::npos);
  conf.Set("replace_datanode_on_failure", "never");
  EXPECT_TRUE(FileSystem::Connect(conf).ok());
}

// A pipeline update for a block that is not the file's last one, or from a client that
// does not hold the lease, is refused and changes nothing.
TEST(PipelineUpdateTest, UpdatesOfTheWrongBlockOrByAnotherClientAreRefused) {
  auto c = MiniCluster::Start();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto fs = (*c)->Connect();
  auto out = fs->Create("/open");
  ASSERT_TRUE(out.ok());
  ASSERT_OK((*out)->Write("abc", 3));
  ASSERT_OK((*out)->Flush());
  // The block being written, as a datanode of its pipeline names it in rbw/.
  proto::Block block;
  for (int i = 0; i < (*c)->datanode_count() && block.id() == 0; ++i) {
    for (const auto& e : std::filesystem::directory_iterator((*c)->datanode_data_dir(i) + "/rbw")) {
      uint64_t id = 0, gs = 0;
      if (sscanf(e.path().filename().c_str(), "blk_%lu_%lu.meta", &id, &gs) == 2 &&
          e.path().extension() == ".meta") {
        block.set_id(id);
        block.set_generation_stamp(gs);
      }
    }
  }
  ASSERT_NE(block.id(), 0u);
  proto::UpdatePipelineRequest req;
  req.set_path("/open");
  req.set_client_name("someone-else");
  *req.mutable_block() = block;
  proto::UpdatePipelineResponse resp;
  auto call = [&] {
    return fs->Call([&](grpc::ClientContext* ctx) { return fs->stub()->UpdatePipeline(ctx, req, &resp); });
  };
  EXPECT_EQ(call().code(), Code::kFailedPrecondition);
  req.set_client_name(fs->client_name());
  req.mutable_block()->set_id(12345);
  EXPECT_EQ(call().code(), Code::kFailedPrecondition);
  req.mutable_block()->set_id(block.id());
  req.mutable_block()->set_generation_stamp(1);
  EXPECT_EQ(call().code(), Code::kFailedPrecondition);
  req.set_replacements(1000);
  EXPECT_EQ(call().code(), Code::kInvalidArgument);
  ASSERT_OK((*out)->Close());
  auto back = ReadFile(fs.get(), "/open");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "abc");
}

}  // namespace
}  // namespace dfs
