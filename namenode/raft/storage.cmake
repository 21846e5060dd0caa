# Durable storage of one Raft replica: segmented log, hard state and snapshot
# metadata in one directory (disk_storage.h).
add_library(raft_storage STATIC
  disk_storage.cc
  storage_format.cc
)
target_link_libraries(raft_storage PUBLIC raft_core common)
