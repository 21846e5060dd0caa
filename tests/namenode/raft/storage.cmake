# Tests of the Raft replica's disk storage (namenode/raft/disk_storage.h).
dfs_test(raft_storage_test
  SOURCES disk_storage_test.cc
  LIBS raft_storage)
