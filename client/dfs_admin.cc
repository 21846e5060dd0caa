#include "client/dfs_admin.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "common/rpc.h"

namespace dfs {

namespace {

int Fail(const std::string& what, const Status& s) {
  fprintf(stderr, "dfs: %s: %s\n", what.c_str(), s.message().c_str());
  return 1;
}

Result<uint64_t> ParseId(const std::string& text) {
  char* end = nullptr;
  uint64_t id = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || id == 0) {
    return InvalidArgument("'" + text + "' is not a namenode id (1, 2, ...)");
  }
  return id;
}

int NamenodeStatus(FileSystem* fs) {
  int rc = 0;
  uint64_t leader_commit = 0;
  std::vector<std::pair<std::string, proto::GetNamenodeStatusResponse>> rows;
  for (size_t i = 0; i < fs->namenodes().size(); ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    proto::GetNamenodeStatusRequest req;
    proto::GetNamenodeStatusResponse resp;
    Status s = FromGrpc(fs->stub_at(i)->GetNamenodeStatus(&ctx, req, &resp));
    if (!s.ok()) {
      rc = Fail("namenode " + fs->namenodes()[i], s);
      continue;
    }
    if (resp.role() == "leader") leader_commit = resp.commit_index();
    rows.emplace_back(fs->namenodes()[i], resp);
  }
  printf("%-4s %-22s %-13s %8s %10s %10s %8s  %s\n", "ID", "ADDRESS", "ROLE", "TERM", "COMMIT",
         "APPLIED", "LAG", "RAFT MEMBERS");
  for (const auto& [address, r] : rows) {
    std::string members;
    for (const auto& m : r.members()) {
      members += (members.empty() ? "" : " ") + std::to_string(m.id()) + "@" + m.raft_address() +
                 (m.voter() ? "" : "(learner)");
    }
    uint64_t lag = leader_commit > r.applied_index() ? leader_commit - r.applied_index() : 0;
    std::string role = r.role() + (r.safe_mode() ? ",safemode" : "");
    printf("%-4lu %-22s %-13s %8lu %10lu %10lu %8lu  %s\n", r.id(), address.c_str(), role.c_str(),
           r.term(), r.commit_index(), r.applied_index(), lag, members.c_str());
  }
  return rc;
}

}  // namespace

int AdminNamenode(FileSystem* fs, const std::string& action, const std::vector<std::string>& args) {
  if (action == "status") return NamenodeStatus(fs);
  if (args.empty()) return Fail("admin namenode " + action, InvalidArgument("needs a namenode id"));
  auto id = ParseId(args[0]);
  if (!id.ok()) return Fail("admin namenode " + action, id.status());
  Status s;
  if (action == "add") {
    if (args.size() != 2) {
      return Fail("admin namenode add", InvalidArgument("usage: add ID RAFT_HOST:PORT"));
    }
    proto::AddNamenodeRequest req;
    req.set_id(*id);
    req.set_raft_address(args[1]);
    proto::AddNamenodeResponse resp;
    s = fs->Call([&](grpc::ClientContext* c) {
      c->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(3));
      return fs->stub()->AddNamenode(c, req, &resp);
    });
    if (s.ok()) printf("namenode %lu added as a voter\n", *id);
  } else if (action == "remove") {
    proto::RemoveNamenodeRequest req;
    req.set_id(*id);
    proto::RemoveNamenodeResponse resp;
    s = fs->Call([&](grpc::ClientContext* c) { return fs->stub()->RemoveNamenode(c, req, &resp); });
    if (s.ok()) printf("namenode %lu removed from the group\n", *id);
  } else if (action == "transfer") {
    proto::TransferLeadershipRequest req;
    req.set_id(*id);
    proto::TransferLeadershipResponse resp;
    s = fs->Call(
        [&](grpc::ClientContext* c) { return fs->stub()->TransferLeadership(c, req, &resp); });
    if (s.ok()) printf("namenode %lu is the leader\n", *id);
  } else {
    s = InvalidArgument("unknown action '" + action + "' (status, add, remove, transfer)");
  }
  return s.ok() ? 0 : Fail("admin namenode " + action, s);
}

int AdminDecommission(FileSystem* fs, const std::vector<std::string>& names, bool recommission,
                      bool wait) {
  const char* what = recommission ? "admin recommission" : "admin decommission";
  proto::DecommissionRequest req;
  for (const auto& n : names) req.add_datanodes(n);
  req.set_recommission(recommission);
  proto::DecommissionResponse resp;
  Status s =
      fs->Call([&](grpc::ClientContext* c) { return fs->stub()->Decommission(c, req, &resp); });
  if (!s.ok()) return Fail(what, s);
  for (const auto& d : resp.datanodes()) {
    printf("%s %s:%u (%s)\n", recommission ? "Back in service:" : "Decommissioning:",
           d.host().c_str(), d.data_port(), d.uuid().c_str());
  }
  if (!wait || recommission) return 0;
  for (;;) {
    auto report = fs->GetDatanodeReport();
    if (!report.ok()) return Fail(what, report.status());
    size_t done = 0;
    for (const auto& d : resp.datanodes()) {
      for (const auto& r : *report) {
        if (r.id().uuid() == d.uuid() && r.admin_state() == "decommissioned") ++done;
      }
    }
    if (done == static_cast<size_t>(resp.datanodes_size())) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  printf("Decommissioned: every block they hold has enough replicas elsewhere\n");
  return 0;
}

int AdminSafemode(FileSystem* fs, const std::string& action) {
  proto::SafeModeRequest req;
  if (action == "enter") req.set_action(proto::SafeModeRequest::ENTER);
  else if (action == "leave") req.set_action(proto::SafeModeRequest::LEAVE);
  else if (action != "get" && action != "wait") {
    return Fail("admin safemode",
                InvalidArgument("unknown action '" + action + "' (get, enter, leave, wait)"));
  }
  proto::SafeModeResponse resp;
  for (;;) {
    Status s = fs->Call([&](grpc::ClientContext* c) { return fs->stub()->SafeMode(c, req, &resp); });
    if (!s.ok()) return Fail("admin safemode " + action, s);
    if (action != "wait" || !resp.on()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  printf("Safe mode is %s%s (%lu of %lu blocks reported, threshold %.4g)\n",
         resp.on() ? "ON" : "OFF", resp.manual() ? ", entered by an operator" : "",
         resp.blocks_reported(), resp.blocks_total(), resp.threshold());
  return 0;
}

}  // namespace dfs
