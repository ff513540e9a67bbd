#include "services/audit/referrals.h"

namespace sm::audit {

Referrals::Referrals(PgStore* store, db::PoolConfig lock_config, db::Pool* pool, std::shared_ptr<grpc::Channel> channel,
                     std::function<std::string()> token, outbox::Options relay_options)
    : sink_(store), feed_(&sink_, "audit", std::move(lock_config), pool, channel, token, relay_options) {}

}  // namespace sm::audit
