#include "tools/smctl/client.h"

#include "common/uuid.h"

namespace sm::smctl {
namespace v1 = ::supervision::v1;

template <>
const Service& ServiceOf<v1::DirectoryService>() {
  return kDirectoryService;
}
template <>
const Service& ServiceOf<v1::ClueService>() {
  return kClueService;
}
template <>
const Service& ServiceOf<v1::AuditService>() {
  return kAuditService;
}
template <>
const Service& ServiceOf<v1::InspectionService>() {
  return kInspectionService;
}

template <>
const Service& ServiceOf<v1::RiskService>() {
  return kRiskService;
}

std::string RequestIdOr(const std::string& given) { return given.empty() ? NewUuid() : given; }

}  // namespace sm::smctl
