// directory-service: wiring only.
#include <cstdio>

#include "common/log.h"
#include "common/runtime.h"
#include "common/uuid.h"
#include "services/directory/config.h"
#include "services/directory/pg_store.h"
#include "services/directory/service.h"

const std::vector<sm::db::Migration>& directory_lib_migrations();

int main(int argc, char** argv) {
  auto config = sm::directory::LoadConfig(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "directory-service: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  sm::log::Init("directory-service", config->service.log_level);
  auto runtime = sm::Runtime::Create(config->service, "directory", directory_lib_migrations());
  if (!runtime.ok()) {
    sm::log::Error("start-up failed", {{"error", std::string(runtime.status().message())}});
    std::fprintf(stderr, "directory-service: %s\n", std::string(runtime.status().message()).c_str());
    return 1;
  }
  sm::directory::PgStore store(&(*runtime)->pool(), [] { return sm::NewUuid(); });
  sm::directory::DirectoryServiceImpl service(&store, (*runtime)->redis(), &(*runtime)->verifier());
  absl::Status serving = (*runtime)->Serve({&service});
  if (!serving.ok()) {
    std::fprintf(stderr, "directory-service: %s\n", std::string(serving.message()).c_str());
    return 1;
  }
  (*runtime)->WaitForSignal();
  return 0;
}
