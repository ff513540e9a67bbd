#include "services/risk/feeds.h"

namespace sm::risk {

namespace v1 = ::supervision::v1;

Feeds::Feeds(PgStore* store, db::Pool* pool, std::shared_ptr<grpc::Channel> clue, std::shared_ptr<grpc::Channel> audit,
             std::shared_ptr<grpc::Channel> inspection, std::function<std::string()> token) {
  if (clue) {
    clue_ = std::make_unique<consumer::Consumer<v1::ClueEvent>>(
        pool, "risk", "clue-events", consumer::Bearer(token),
        consumer::SubscribeOn<v1::ClueService, v1::ClueEvent, v1::SubscribeRequest>(clue),
        [store](db::Tx& tx, const v1::ClueEvent& ev) { return store->ApplyClueEvent(tx, ev); });
    clue_->OnCommitted([store] { store->StatsChanged(); });
  }
  if (audit) {
    audit_ = std::make_unique<consumer::Consumer<v1::AuditEvent>>(
        pool, "risk", "audit-events", consumer::Bearer(token),
        consumer::SubscribeOn<v1::AuditService, v1::AuditEvent, v1::SubscribeRequest>(audit),
        [store](db::Tx& tx, const v1::AuditEvent& ev) { return store->ApplyAuditEvent(tx, ev); });
    audit_->OnCommitted([store] { store->StatsChanged(); });
  }
  if (inspection) {
    inspection_ = std::make_unique<consumer::Consumer<v1::InspectionEvent>>(
        pool, "risk", "inspection-events", consumer::Bearer(token),
        consumer::SubscribeOn<v1::InspectionService, v1::InspectionEvent, v1::SubscribeRequest>(inspection),
        [store](db::Tx& tx, const v1::InspectionEvent& ev) { return store->ApplyInspectionEvent(tx, ev); });
    inspection_->OnCommitted([store] { store->StatsChanged(); });
  }
}

void Feeds::Start() {
  if (clue_) clue_->Start();
  if (audit_) audit_->Start();
  if (inspection_) inspection_->Start();
}

void Feeds::Stop() {
  if (clue_) clue_->Stop();
  if (audit_) audit_->Stop();
  if (inspection_) inspection_->Stop();
}

int64_t Feeds::applied() const {
  return (clue_ ? clue_->applied() : 0) + (audit_ ? audit_->applied() : 0) + (inspection_ ? inspection_->applied() : 0);
}

}  // namespace sm::risk
