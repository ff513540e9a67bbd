// gRPC handlers of supervision.v1.DirectoryService: decode, authorize, call the store
// (through the Redis read-through cache), encode.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "common/clock.h"
#include "common/redis.h"
#include "common/server.h"
#include "services/directory/store.h"
#include "supervision/v1/directory.grpc.pb.h"

namespace sm::directory {

class DirectoryServiceImpl final : public v1::DirectoryService::Service {
 public:
  // `store` and `verifier` must outlive the service; `redis` may be null (no cache).
  DirectoryServiceImpl(Store* store, redis::Client* redis, const auth::Verifier* verifier,
                       const Clock& clock = SystemClock::Default());

  grpc::Status ImportDirectory(grpc::ServerContext* ctx, const v1::ImportDirectoryRequest* req,
                               v1::ImportDirectoryResponse* resp) override;
  grpc::Status GetUnit(grpc::ServerContext* ctx, const v1::GetUnitRequest* req, v1::Unit* resp) override;
  grpc::Status ListUnits(grpc::ServerContext* ctx, const v1::ListUnitsRequest* req,
                         v1::ListUnitsResponse* resp) override;
  grpc::Status GetPerson(grpc::ServerContext* ctx, const v1::GetPersonRequest* req, v1::Person* resp) override;
  grpc::Status SearchPeople(grpc::ServerContext* ctx, const v1::SearchPeopleRequest* req,
                            v1::SearchPeopleResponse* resp) override;
  grpc::Status GetPost(grpc::ServerContext* ctx, const v1::GetPostRequest* req, v1::Post* resp) override;
  grpc::Status ListPosts(grpc::ServerContext* ctx, const v1::ListPostsRequest* req,
                         v1::ListPostsResponse* resp) override;

 private:
  // Cache key prefix for the current directory generation. The generation is re-read from
  // PostgreSQL at most once a second (so imports through other replicas are seen within
  // that), and at once after an import here.
  std::string KeyPrefix();
  // Read-through: `load` fills `msg` from the store on a miss.
  template <typename Msg>
  absl::Status Cached(const std::string& key, Msg* msg, const std::function<absl::StatusOr<Msg>()>& load);

  Store* store_;
  redis::Cache cache_;
  server::Call call_;
  const Clock& clock_;
  std::mutex gen_mu_;
  int64_t generation_ = -1;
  TimePoint generation_read_{};
};

}  // namespace sm::directory
