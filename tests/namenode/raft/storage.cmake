# Tests of the Raft replica's disk storage (namenode/raft/disk_storage.h).
dfs_test(raft_storage_test
  SOURCES disk_storage_test.cc
  LIBS raft_storage)

# Raft replicas with disk logs and gRPC transports on loopback (namenode/raft/node.h).
dfs_test(raft_node_test
  SOURCES node_test.cc
  LIBS raft_node
  LABELS integration)
