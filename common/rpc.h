// gRPC plumbing in one place: every channel and server is made here (so TLS can be
// switched on in one spot), and Status converts to and from grpc::Status here.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace dfs {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

// Adds a listening port to builder; *bound_port receives the chosen port (address may
// end in ":0"). Sets message size limits and keepalive for every server.
void ConfigureServer(grpc::ServerBuilder& builder, const std::string& address, int* bound_port);

grpc::Status ToGrpc(const Status& s);
Status FromGrpc(const grpc::Status& s);

// Metadata keys carried by client calls.
inline constexpr char kUserKey[] = "dfs-user";
inline constexpr char kClientIdKey[] = "dfs-client-id";
inline constexpr char kCallIdKey[] = "dfs-call-id";

// The value of a metadata key on a server call, or "".
std::string GetMetadata(const grpc::ServerContextBase& ctx, const char* key);

}  // namespace dfs
