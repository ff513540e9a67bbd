#include "services/directory/service.h"

#include <nlohmann/json.hpp>

#include "common/crypto.h"
#include "common/db/idempotency.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/status.h"
#include "common/uuid.h"

namespace sm::directory {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

absl::Status CheckId(const std::string& field, const std::string& id) {
  if (!IsUuid(id)) return InvalidField(field, "must be a UUID");
  return absl::OkStatus();
}

absl::Status CheckText(const std::string& field, const std::string& v, size_t max) {
  if (!IsValidUtf8(v)) return InvalidField(field, "is not valid UTF-8");
  if (CodePoints(v) > max) return InvalidField(field, "is longer than " + std::to_string(max) + " characters");
  return absl::OkStatus();
}

// Every authenticated role may read the directory: it is reference data (names for
// dashboards, units for routing clues).
// The directory's access table (docs/directory.md § Access): units and posts are reference
// data for every role of the suite; people (names, badges, posts) for every role but the
// dashboard, which shows aggregates only. An unknown role reads nothing (deny by default).
absl::Status RequireReader(const auth::Principal& p) {
  return auth::RequireAnyRole(
      p, {auth::kRoleAdmin, auth::kRoleDiscipline, auth::kRoleOversight, auth::kRoleAuditor, auth::kRoleInspector,
          auth::kRoleChiefInspector, auth::kRoleStaff, auth::kRoleDashboard, auth::kRoleService, auth::kRoleCustodian,
          auth::kRolePolitical});
}

absl::Status RequirePeopleReader(const auth::Principal& p) {
  return auth::RequireAnyRole(
      p, {auth::kRoleAdmin, auth::kRoleDiscipline, auth::kRoleOversight, auth::kRoleAuditor, auth::kRoleInspector,
          auth::kRoleChiefInspector, auth::kRoleStaff, auth::kRoleService, auth::kRoleCustodian, auth::kRolePolitical});
}

}  // namespace

DirectoryServiceImpl::DirectoryServiceImpl(Store* store, redis::Client* redis, const auth::Verifier* verifier,
                                           const Clock& clock)
    : store_(store),
      cache_(redis, "directory", std::chrono::seconds(600)),
      call_("DirectoryService", verifier),
      clock_(clock) {}

std::string DirectoryServiceImpl::KeyPrefix() {
  std::lock_guard lock(gen_mu_);
  TimePoint now = clock_.Now();
  if (generation_ < 0 || now - generation_read_ >= std::chrono::seconds(1)) {
    auto g = store_->Generation();
    if (g.ok()) {
      generation_ = *g;
      generation_read_ = now;
    }
  }
  return "dir:g" + std::to_string(generation_) + ":";
}

template <typename Msg>
absl::Status DirectoryServiceImpl::Cached(const std::string& key, Msg* msg,
                                          const std::function<absl::StatusOr<Msg>()>& load) {
  auto bytes = cache_.Get(KeyPrefix() + key, [&]() -> absl::StatusOr<std::string> {
    auto loaded = load();
    if (!loaded.ok()) return loaded.status();
    return loaded->SerializeAsString();
  });
  if (!bytes.ok()) return bytes.status();
  if (!msg->ParseFromString(*bytes)) return absl::InternalError("cached value unreadable");
  return absl::OkStatus();
}

grpc::Status DirectoryServiceImpl::ImportDirectory(grpc::ServerContext* ctx, const v1::ImportDirectoryRequest* req,
                                                   v1::ImportDirectoryResponse* resp) {
  return call_.Run(ctx, "ImportDirectory", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(auth::RequireAnyRole(call.principal, {auth::kRoleAdmin}));
    if (req->request_id().empty()) return InvalidField("request_id", "is required");
    SM_RETURN_IF_ERROR(CheckText("request_id", req->request_id(), 128));
    SM_ASSIGN_OR_RETURN(Document doc, ParseDocument(req->document()));
    ImportRequest ir{&doc,
                     req->request_id(),
                     db::CallerKey(call.principal, req->request_id()),
                     crypto::Sha256Hex(req->document()) + (req->dry_run() ? ":dry" : ""),
                     call.principal.EndUser(),
                     req->dry_run()};
    SM_ASSIGN_OR_RETURN(*resp, store_->Import(ir));
    if (!req->dry_run()) {
      std::lock_guard lock(gen_mu_);
      generation_ = resp->generation();
      generation_read_ = clock_.Now();
    }
    log::Info("directory import", {{"dry_run", req->dry_run()},
                                   {"replayed", resp->mutation().replayed()},
                                   {"generation", resp->generation()},
                                   {"changes", resp->changes_size()}});
    return absl::OkStatus();
  });
}

grpc::Status DirectoryServiceImpl::GetUnit(grpc::ServerContext* ctx, const v1::GetUnitRequest* req, v1::Unit* resp) {
  return call_.Run(ctx, "GetUnit", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    if (req->has_id()) {
      SM_RETURN_IF_ERROR(CheckId("id", req->id()));
      return Cached<v1::Unit>("unit:id:" + req->id(), resp, [&] { return store_->GetUnit(req->id(), ""); });
    }
    if (req->has_code() && !req->code().empty()) {
      SM_RETURN_IF_ERROR(CheckText("code", req->code(), kMaxCode));
      return Cached<v1::Unit>("unit:code:" + req->code(), resp, [&] { return store_->GetUnit("", req->code()); });
    }
    return InvalidField("key", "give id or code");
  });
}

grpc::Status DirectoryServiceImpl::ListUnits(grpc::ServerContext* ctx, const v1::ListUnitsRequest* req,
                                             v1::ListUnitsResponse* resp) {
  return call_.Run(ctx, "ListUnits", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    if (req->max_depth() < 0) return InvalidField("max_depth", "must not be negative");
    std::string root = req->root_id();
    if (!root.empty()) {
      SM_RETURN_IF_ERROR(CheckId("root_id", root));
    } else if (!req->root_code().empty()) {
      SM_RETURN_IF_ERROR(CheckText("root_code", req->root_code(), kMaxCode));
      v1::Unit u;
      absl::Status s =
          Cached<v1::Unit>("unit:code:" + req->root_code(), &u, [&] { return store_->GetUnit("", req->root_code()); });
      if (absl::IsNotFound(s)) return absl::NotFoundError("root_code: unit not found");
      SM_RETURN_IF_ERROR(s);
      root = u.id();
    }
    const std::string key = "units:" + (root.empty() ? "*" : root) + ":" + std::to_string(req->max_depth()) + ":" +
                            (req->include_inactive() ? "all" : "active");
    return Cached<v1::ListUnitsResponse>(key, resp, [&]() -> absl::StatusOr<v1::ListUnitsResponse> {
      SM_ASSIGN_OR_RETURN(auto units, store_->ListUnits(root, req->max_depth(), req->include_inactive()));
      v1::ListUnitsResponse out;
      for (auto& u : units) *out.add_units() = std::move(u);
      return out;
    });
  });
}

grpc::Status DirectoryServiceImpl::GetPerson(grpc::ServerContext* ctx, const v1::GetPersonRequest* req,
                                             v1::Person* resp) {
  return call_.Run(ctx, "GetPerson", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequirePeopleReader(call.principal));
    if (req->has_id()) {
      SM_RETURN_IF_ERROR(CheckId("id", req->id()));
      return Cached<v1::Person>("person:id:" + req->id(), resp, [&] { return store_->GetPerson(req->id(), ""); });
    }
    if (req->has_badge_no() && !req->badge_no().empty()) {
      SM_RETURN_IF_ERROR(CheckText("badge_no", req->badge_no(), kMaxBadge));
      return Cached<v1::Person>("person:badge:" + req->badge_no(), resp,
                                [&] { return store_->GetPerson("", req->badge_no()); });
    }
    return InvalidField("key", "give id or badge_no");
  });
}

grpc::Status DirectoryServiceImpl::SearchPeople(grpc::ServerContext* ctx, const v1::SearchPeopleRequest* req,
                                                v1::SearchPeopleResponse* resp) {
  return call_.Run(ctx, "SearchPeople", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequirePeopleReader(call.principal));
    FieldErrors errors;
    PeopleQuery q;
    if (!req->unit_id().empty()) {
      if (!IsUuid(req->unit_id())) errors.Add("unit_id", "must be a UUID");
      q.unit_id = req->unit_id();
    } else if (req->include_subunits()) {
      errors.Add("include_subunits", "needs unit_id");
    }
    q.include_subunits = req->include_subunits();
    if (!req->name().empty()) {
      if (!CheckText("name", req->name(), kMaxName).ok())
        errors.Add("name", "must be valid UTF-8 of at most 64 characters");
      q.name_contains = req->name();
    }
    if (!req->badge_no().empty()) {
      if (!CheckText("badge_no", req->badge_no(), kMaxBadge).ok())
        errors.Add("badge_no", "must be at most 32 characters");
      q.badge_prefix = req->badge_no();
    }
    if (req->leader() == v1::SearchPeopleRequest::LEADER_FILTER_LEADERS) q.leader = true;
    if (req->leader() == v1::SearchPeopleRequest::LEADER_FILTER_NON_LEADERS) q.leader = false;
    if (req->category() != v1::PERSON_CATEGORY_UNSPECIFIED) {
      if (!v1::PersonCategory_IsValid(req->category())) {
        errors.Add("category", "unknown category");
      } else {
        q.category = CategoryName(req->category());
      }
    }
    q.include_inactive = req->include_inactive();
    auto page_size = paging::PageSize(req->page_size(), kDefaultPageSize, kMaxPageSize);
    for (const auto& v : FieldViolations(page_size.status())) errors.Add(v.field, v.description);
    q.limit = page_size.ok() ? *page_size : kDefaultPageSize;
    // The token binds the page position to the filters it was issued for.
    const std::string fingerprint = paging::FilterFingerprint(*req);
    auto position = paging::Decode(req->page_token(), fingerprint);
    for (const auto& v : FieldViolations(position.status())) errors.Add(v.field, v.description);
    if (position.ok() && position->has_value()) {
      const nlohmann::json& p = **position;
      if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string() ||
          !IsUuid(p[1].get<std::string>())) {
        errors.Add("page_token", "is not a token from this API");
      } else {
        q.after = std::make_pair(p[0].get<std::string>(), p[1].get<std::string>());
      }
    }
    SM_RETURN_IF_ERROR(errors.ToStatus());
    const int page = q.limit;
    q.limit = page + 1;  // one extra row says whether another page exists
    SM_ASSIGN_OR_RETURN(auto people, store_->SearchPeople(q));
    resp->set_next_page_token(paging::TakePage(
        people, page, [&](v1::Person& p) { *resp->add_people() = std::move(p); },
        [&](const v1::Person& last) {
          return paging::Encode(nlohmann::json::array({last.name(), last.id()}), fingerprint);
        }));
    return absl::OkStatus();
  });
}

grpc::Status DirectoryServiceImpl::GetPost(grpc::ServerContext* ctx, const v1::GetPostRequest* req, v1::Post* resp) {
  return call_.Run(ctx, "GetPost", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    if (req->has_id()) {
      SM_RETURN_IF_ERROR(CheckId("id", req->id()));
      return Cached<v1::Post>("post:id:" + req->id(), resp, [&] { return store_->GetPost(req->id(), ""); });
    }
    if (req->has_code() && !req->code().empty()) {
      SM_RETURN_IF_ERROR(CheckText("code", req->code(), kMaxCode));
      return Cached<v1::Post>("post:code:" + req->code(), resp, [&] { return store_->GetPost("", req->code()); });
    }
    return InvalidField("key", "give id or code");
  });
}

grpc::Status DirectoryServiceImpl::ListPosts(grpc::ServerContext* ctx, const v1::ListPostsRequest* req,
                                             v1::ListPostsResponse* resp) {
  return call_.Run(ctx, "ListPosts", [&](const server::CallInfo& call) -> absl::Status {
    SM_RETURN_IF_ERROR(RequireReader(call.principal));
    return Cached<v1::ListPostsResponse>(std::string("posts:") + (req->include_inactive() ? "all" : "active"), resp,
                                         [&]() -> absl::StatusOr<v1::ListPostsResponse> {
                                           SM_ASSIGN_OR_RETURN(auto posts, store_->ListPosts(req->include_inactive()));
                                           v1::ListPostsResponse out;
                                           for (auto& p : posts) *out.add_posts() = std::move(p);
                                           return out;
                                         });
  });
}

}  // namespace sm::directory
