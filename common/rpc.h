// gRPC plumbing in one place: every channel and server is made here (so TLS can be
// switched on in one spot), and Status converts to and from grpc::Status here.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace dfs {

// keepalive: pings the server every second while the connection is idle and drops the
// connection (failing its calls and streams) when 3 s pass without an answer; for
// long-lived streams, whose writes would otherwise wait out TCP's own timeouts.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, bool keepalive = false);

// Adds a listening port to builder; *bound_port receives the chosen port (address may
// end in ":0"). Sets message size limits for every server, and lets clients ping as
// often as MakeChannel's keepalive does.
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
