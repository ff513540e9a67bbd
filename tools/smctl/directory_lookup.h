// smctl's directory look-ups, shared by the clue and audit commands: unit codes and
// badge numbers to ids, ids to display names, cached for the run.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/uuid.h"
#include "supervision/v1/directory.grpc.pb.h"
#include "tools/smctl/context.h"

namespace sm::smctl {

namespace v1 = ::supervision::v1;

class Directory {
 public:
  explicit Directory(Context& ctx) : ctx_(ctx) {}

  // A unit code or id to the unit's id, quietly (the import reports per row).
  grpc::Status LookupUnit(const std::string& key, std::string* id) {
    if (IsUuid(key)) {
      *id = key;
      return grpc::Status::OK;
    }
    auto it = unit_keys_.find(key);
    if (it != unit_keys_.end()) {
      *id = it->second.second;
      return it->second.first;
    }
    v1::GetUnitRequest req;
    req.set_code(key);
    v1::Unit unit;
    grpc::Status s = GetUnit(req, &unit);
    if (s.ok()) {
      unit_names_[unit.id()] = Name(unit);
      *id = unit.id();
    }
    if (s.ok() || s.error_code() == grpc::StatusCode::NOT_FOUND) unit_keys_[key] = {s, unit.id()};
    return s;
  }

  // A badge number or id to the person's id, quietly.
  grpc::Status LookupPerson(const std::string& key, std::string* id) {
    if (IsUuid(key)) {
      *id = key;
      return grpc::Status::OK;
    }
    auto it = person_keys_.find(key);
    if (it != person_keys_.end()) {
      *id = it->second.second;
      return it->second.first;
    }
    v1::GetPersonRequest req;
    req.set_badge_no(key);
    v1::Person p;
    grpc::Status s = GetPerson(req, &p);
    if (s.ok()) {
      person_names_[p.id()] = PersonText(p);
      *id = p.id();
    }
    if (s.ok() || s.error_code() == grpc::StatusCode::NOT_FOUND) person_keys_[key] = {s, p.id()};
    return s;
  }

  // As above, reporting a failure; returns an exit code.
  int UnitId(const std::string& key, std::string* id) {
    grpc::Status s = LookupUnit(key, id);
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
      return ctx_.FailLocal(kExitNotFound, "未找到单位 " + key, "unit " + key + " not found");
    }
    return s.ok() ? kExitOk : Fail(ctx_, kDirectoryService, s);
  }
  int PersonId(const std::string& key, std::string* id) {
    grpc::Status s = LookupPerson(key, id);
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
      return ctx_.FailLocal(kExitNotFound, "未找到警号为 " + key + " 的人员", "no person with badge number " + key);
    }
    return s.ok() ? kExitOk : Fail(ctx_, kDirectoryService, s);
  }

  // As above, for an option that may be left out: "" gives "" without a call.
  int UnitIdIfGiven(const std::string& key, std::string* id) {
    id->clear();
    return key.empty() ? kExitOk : UnitId(key, id);
  }
  int PersonIdIfGiven(const std::string& key, std::string* id) {
    id->clear();
    return key.empty() ? kExitOk : PersonId(key, id);
  }

  // The unit's name, or its id when the directory cannot say.
  std::string UnitName(const std::string& id) {
    if (id.empty()) return "";
    auto it = unit_names_.find(id);
    if (it != unit_names_.end()) return it->second;
    v1::GetUnitRequest req;
    req.set_id(id);
    v1::Unit unit;
    std::string name = GetUnit(req, &unit).ok() ? Name(unit) : id;
    unit_names_[id] = name;
    return name;
  }

  // "name (badge)", or the id when the directory cannot say.
  std::string PersonName(const std::string& id) {
    if (id.empty()) return "";
    auto it = person_names_.find(id);
    if (it != person_names_.end()) return it->second;
    v1::GetPersonRequest req;
    req.set_id(id);
    v1::Person p;
    std::string name = GetPerson(req, &p).ok() ? PersonText(p) : id;
    person_names_[id] = name;
    return name;
  }

 private:
  v1::DirectoryService::Stub& Stub() {
    if (!stub_) stub_ = v1::DirectoryService::NewStub(ctx_.Channel());
    return *stub_;
  }
  grpc::Status GetUnit(const v1::GetUnitRequest& req, v1::Unit* unit) {
    grpc::ClientContext cc;
    ctx_.Prepare(&cc);
    return Stub().GetUnit(&cc, req, unit);
  }
  grpc::Status GetPerson(const v1::GetPersonRequest& req, v1::Person* p) {
    grpc::ClientContext cc;
    ctx_.Prepare(&cc);
    return Stub().GetPerson(&cc, req, p);
  }
  std::string Name(const v1::Unit& u) const {
    return ctx_.lang() == Lang::kEn && !u.name_en().empty() ? u.name_en() : u.name();
  }
  static std::string PersonText(const v1::Person& p) {
    return p.badge_no().empty() ? p.name() : p.name() + " (" + p.badge_no() + ")";
  }

  Context& ctx_;
  std::unique_ptr<v1::DirectoryService::Stub> stub_;
  std::map<std::string, std::string> unit_names_;
  std::map<std::string, std::string> person_names_;
  std::map<std::string, std::pair<grpc::Status, std::string>> unit_keys_;
  std::map<std::string, std::pair<grpc::Status, std::string>> person_keys_;
};

}  // namespace sm::smctl
