#include "namenode/placement.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/common/status_assert.h"
#include "tests/common/temp_dir.h"

namespace dfs {
namespace {

using Uuids = std::vector<std::string>;
constexpr uint64_t kBlock = 1 << 20;
constexpr uint64_t kRoom = 1ull << 40;

PlacementCandidate Node(const std::string& uuid, uint64_t load, const std::string& rack = "/r1",
                        uint64_t remaining = kRoom) {
  return {uuid, "host-" + uuid, rack, remaining, load};
}

std::map<std::string, std::string> RackOf(const std::vector<PlacementCandidate>& cs) {
  std::map<std::string, std::string> m;
  for (const auto& c : cs) m[c.uuid] = c.rack;
  return m;
}

TEST(PlacementTest, TargetsAreDistinct) {
  std::vector<PlacementCandidate> cs;
  for (int i = 0; i < 6; ++i) cs.push_back(Node("dn" + std::to_string(i), 100));
  auto t = ChooseTargets(cs, 3, kBlock, "", {});
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(std::set<std::string>(t.begin(), t.end()).size(), 3u);
}

TEST(PlacementTest, LeastLoadedCandidatesComeFirst) {
  std::vector<PlacementCandidate> cs = {Node("a", 500), Node("b", 100), Node("c", 900),
                                        Node("d", 300)};
  EXPECT_EQ(ChooseTargets(cs, 3, kBlock, "", {}), (Uuids{"b", "d", "a"}));
}

TEST(PlacementTest, EqualLoadIsBrokenByUuidSoTheChoiceIsDeterministic) {
  std::vector<PlacementCandidate> cs = {Node("c", 1), Node("a", 1), Node("b", 1)};
  EXPECT_EQ(ChooseTargets(cs, 2, kBlock, "", {}), (Uuids{"a", "b"}));
}

TEST(PlacementTest, ExcludedDatanodesAreNeverChosen) {
  std::vector<PlacementCandidate> cs = {Node("a", 1), Node("b", 2), Node("c", 3), Node("d", 4)};
  auto t = ChooseTargets(cs, 3, kBlock, "host-a", {"a", "c"});
  EXPECT_EQ(t, (Uuids{"b", "d"}));
  EXPECT_TRUE(ChooseTargets(cs, 3, kBlock, "", {"a", "b", "c", "d"}).empty());
}

TEST(PlacementTest, WritersOwnDatanodeComesFirst) {
  std::vector<PlacementCandidate> cs = {Node("a", 1), Node("b", 2), Node("busy", 1000)};
  auto t = ChooseTargets(cs, 3, kBlock, "host-busy", {});
  EXPECT_EQ(t, (Uuids{"busy", "a", "b"}));
}

TEST(PlacementTest, WriterWithoutADatanodeGetsTheLeastLoadedFirst) {
  std::vector<PlacementCandidate> cs = {Node("a", 7), Node("b", 2)};
  EXPECT_EQ(ChooseTargets(cs, 1, kBlock, "client-host", {}), Uuids{"b"});
}

TEST(PlacementTest, SecondReplicaGoesToAnotherRackAndThirdToTheSecondsRack) {
  // By load alone the choice would be a, b, c, all on /r1.
  std::vector<PlacementCandidate> cs = {Node("a", 1, "/r1"), Node("b", 2, "/r1"),
                                        Node("c", 3, "/r1"), Node("d", 10, "/r2"),
                                        Node("e", 11, "/r2")};
  auto t = ChooseTargets(cs, 3, kBlock, "", {});
  ASSERT_EQ(t.size(), 3u);
  auto rack = RackOf(cs);
  EXPECT_NE(rack[t[1]], rack[t[0]]);
  EXPECT_EQ(rack[t[2]], rack[t[1]]);
  EXPECT_EQ(t, (Uuids{"a", "d", "e"}));
}

TEST(PlacementTest, RackAwarenessStartsFromTheWritersRack) {
  std::vector<PlacementCandidate> cs = {Node("a", 1, "/r1"), Node("b", 2, "/r1"),
                                        Node("c", 3, "/r1"), Node("d", 10, "/r2"),
                                        Node("e", 11, "/r2")};
  auto t = ChooseTargets(cs, 3, kBlock, "host-e", {});
  EXPECT_EQ(t, (Uuids{"e", "a", "b"}));
}

TEST(PlacementTest, ThirdReplicaFallsBackWhenTheSecondsRackIsFull) {
  std::vector<PlacementCandidate> cs = {Node("a", 1, "/r1"), Node("b", 2, "/r1"),
                                        Node("d", 10, "/r2")};
  auto t = ChooseTargets(cs, 3, kBlock, "", {});
  EXPECT_EQ(t, (Uuids{"a", "d", "b"}));
}

TEST(PlacementTest, ReplicasBeyondTheThirdAreStillDistinct) {
  std::vector<PlacementCandidate> cs;
  for (int i = 0; i < 4; ++i) cs.push_back(Node("x" + std::to_string(i), i, "/r1"));
  for (int i = 0; i < 4; ++i) cs.push_back(Node("y" + std::to_string(i), i, "/r2"));
  auto t = ChooseTargets(cs, 6, kBlock, "", {});
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(std::set<std::string>(t.begin(), t.end()).size(), 6u);
}

TEST(PlacementTest, FewerCandidatesThanReplicasGivesAllOfThem) {
  std::vector<PlacementCandidate> cs = {Node("a", 5), Node("b", 1)};
  EXPECT_EQ(ChooseTargets(cs, 3, kBlock, "", {}), (Uuids{"b", "a"}));
  EXPECT_TRUE(ChooseTargets({}, 3, kBlock, "", {}).empty());
  EXPECT_TRUE(ChooseTargets(cs, 0, kBlock, "", {}).empty());
}

TEST(PlacementTest, DatanodesWithoutRoomForTheBlockAreSkipped) {
  std::vector<PlacementCandidate> cs = {Node("full", 0, "/r1", kBlock - 1),
                                        Node("exact", 5, "/r1", kBlock), Node("roomy", 9)};
  EXPECT_EQ(ChooseTargets(cs, 3, kBlock, "host-full", {}), (Uuids{"exact", "roomy"}));
}

TEST(PlacementTest, StaleDatanodesOnlyMakeUpForMissingFreshOnes) {
  std::vector<PlacementCandidate> cs = {Node("a", 100), Node("b", 900), Node("c", 500),
                                        Node("d", 0), Node("e", 50)};
  cs[3].stale = true;  // the least loaded, and the writer's own
  cs[4].stale = true;
  EXPECT_EQ(ChooseTargets(cs, 3, kBlock, "host-d", {}), (Uuids{"a", "c", "b"}));
  // Four wanted, three fresh: the least loaded stale one fills up.
  EXPECT_EQ(ChooseTargets(cs, 4, kBlock, "host-d", {}), (Uuids{"a", "c", "b", "d"}));
  EXPECT_EQ(ChooseTargets(cs, 3, kBlock, "", {"a", "b"}), (Uuids{"c", "d", "e"}));
}

TEST(TopologyTest, LoadsHostRackLinesWithComments) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  WriteWholeFile(dir.Join("topology"),
                 "# host rack\n10.0.0.1 /dc1/r1\n\n10.0.0.2   /dc1/r2  # second\n");
  auto t = Topology::Load(dir.Join("topology"));
  ASSERT_OK(t);
  EXPECT_EQ(t->RackOf("10.0.0.1"), "/dc1/r1");
  EXPECT_EQ(t->RackOf("10.0.0.2"), "/dc1/r2");
  EXPECT_EQ(t->RackOf("10.0.0.3"), "/default-rack");
  EXPECT_EQ(Topology().RackOf("anything"), "/default-rack");
}

TEST(TopologyTest, RefusesLinesWithoutAnAbsoluteRackName) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  WriteWholeFile(dir.Join("a"), "host1 /r1\nhost2\n");
  WriteWholeFile(dir.Join("b"), "host1 r1\n");
  auto a = Topology::Load(dir.Join("a"));
  ASSERT_CODE(a, kInvalidArgument);
  EXPECT_NE(a.status().message().find(":2"), std::string::npos) << a.status().message();
  EXPECT_CODE(Topology::Load(dir.Join("b")), kInvalidArgument);
  EXPECT_CODE(Topology::Load(dir.Join("absent")), kNotFound);
}

}  // namespace
}  // namespace dfs
