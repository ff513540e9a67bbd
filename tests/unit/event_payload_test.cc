// Typed event payloads (common/event_payload.h) against the envelopes of events.proto.
#include "common/event_payload.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/metrics.h"
#include "supervision/v1/events.pb.h"

namespace sm::events {
namespace {

namespace v1 = ::supervision::v1;

TEST(EventPayloadTest, TypeIsTheMemberNameAndDataItsFieldsByProtoName) {
  v1::ClueEventPayload e;
  auto* r = e.mutable_returned();
  r->set_by_unit_id("u1");
  r->set_to_unit_id("u2");
  r->set_reason("不属本单位管辖");
  auto p = Encode(e);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->type, "returned");
  EXPECT_EQ(nlohmann::json::parse(p->json),
            (nlohmann::json{{"by_unit_id", "u1"}, {"to_unit_id", "u2"}, {"reason", "不属本单位管辖"}}));
}

TEST(EventPayloadTest, IntegersAreNumbersEnumsNamesAndEmptyFieldsWritten) {
  v1::ClueEventPayload e;
  auto* x = e.mutable_escalated();
  x->set_deadline_us(1764547200123456);  // beyond 2^32: proto3 JSON would quote it
  auto p = Encode(e);
  ASSERT_TRUE(p.ok());
  auto j = nlohmann::json::parse(p->json);
  ASSERT_TRUE(j["deadline_us"].is_number_integer()) << p->json;
  EXPECT_EQ(j["deadline_us"].get<int64_t>(), 1764547200123456);
  EXPECT_EQ(j["stage"], "");  // a field without presence is always there
  EXPECT_EQ(j["holding_unit_id"], "");

  v1::ClueEventPayload d;
  d.mutable_disposed()->set_method(v1::DISPOSITION_METHOD_VERIFICATION);
  auto pd = Encode(d);
  ASSERT_TRUE(pd.ok());
  EXPECT_EQ(nlohmann::json::parse(pd->json)["method"], "DISPOSITION_METHOD_VERIFICATION");
}

TEST(EventPayloadTest, OptionalAndMessageFieldsOnlyWhenSet) {
  v1::ClueEventPayload e;
  e.mutable_reveal_approved()->set_approvals(1);
  auto j = nlohmann::json::parse(Encode(e)->json);
  EXPECT_FALSE(j.contains("reason")) << j;
  EXPECT_FALSE(j.contains("expires_at")) << j;
  e.mutable_reveal_approved()->set_reason("");
  e.mutable_reveal_approved()->set_expires_at(1764547200);
  j = nlohmann::json::parse(Encode(e)->json);
  EXPECT_EQ(j["reason"], "");
  EXPECT_EQ(j["expires_at"], 1764547200);

  v1::ClueEventPayload reg;
  reg.mutable_registered()->set_reporter("none");
  j = nlohmann::json::parse(Encode(reg)->json);
  EXPECT_FALSE(j.contains("referral")) << j;
  reg.mutable_registered()->mutable_referral()->set_system("audit");
  j = nlohmann::json::parse(Encode(reg)->json);
  EXPECT_EQ(j["referral"], (nlohmann::json{{"system", "audit"}, {"ref", ""}}));
}

TEST(EventPayloadTest, RepeatedFieldsAreArraysEvenWhenEmpty) {
  v1::ClueEventPayload e;
  e.mutable_note()->set_text("已调取执法记录");
  auto j = nlohmann::json::parse(Encode(e)->json);
  EXPECT_EQ(j["attachments"], nlohmann::json::array());
  auto* a = e.mutable_note()->add_attachments();
  a->set_name("笔录.pdf");
  a->set_size_bytes(19);
  j = nlohmann::json::parse(Encode(e)->json);
  ASSERT_EQ(j["attachments"].size(), 1u);
  EXPECT_EQ(j["attachments"][0]["size_bytes"], 19);
  EXPECT_EQ(j["attachments"][0]["name"], "笔录.pdf");
}

TEST(EventPayloadTest, OutcomeSubjectsAreWrittenWithTheirSetIdAndReadBack) {
  v1::ClueEventPayload e;
  auto* c = e.mutable_concluded();
  c->set_form(2);
  c->add_subjects()->set_person_id("p1");
  c->add_subjects()->set_unit_id("u1");
  c->set_source(v1::CLUE_SOURCE_AUDIT);
  c->set_number("XS-2025-000007");
  auto p = Encode(e);
  ASSERT_TRUE(p.ok()) << p.status();
  auto j = nlohmann::json::parse(p->json);
  EXPECT_EQ(j["subjects"], (nlohmann::json::parse(R"([{"person_id":"p1","display_name":""},
                                                       {"unit_id":"u1","display_name":""}])")));
  EXPECT_EQ(j["source"], "CLUE_SOURCE_AUDIT");
  EXPECT_EQ(j["number"], "XS-2025-000007");
  auto back = Decode<v1::ClueEventPayload>(p->type, p->json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), e.SerializeAsString());
}

template <typename Envelope>
void EveryMemberRoundTrips() {
  const auto* d = Envelope::descriptor();
  ASSERT_EQ(d->oneof_decl_count(), 1) << d->full_name();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    Envelope e;
    e.GetReflection()->MutableMessage(&e, f);  // sets the member (empty)
    auto p = Encode(e);
    ASSERT_TRUE(p.ok()) << f->name();
    EXPECT_EQ(p->type, f->name());
    auto back = Decode<Envelope>(p->type, p->json);
    ASSERT_TRUE(back.ok()) << f->name() << ": " << back.status();
    EXPECT_EQ(back->SerializeAsString(), e.SerializeAsString()) << f->name();
  }
}

TEST(EventPayloadTest, EveryMemberRoundTripsUnderItsOwnName) {
  EveryMemberRoundTrips<v1::ClueEventPayload>();
  EveryMemberRoundTrips<v1::AuditEventPayload>();
  EveryMemberRoundTrips<v1::RectificationEventPayload>();
}

TEST(EventPayloadTest, DecodesWhatEarlierWritersStored) {
  // Events written before events.proto: hand-built JSON, enums by name, forms as numbers,
  // and fields the proto does not have (ignored).
  auto e = Decode<v1::ClueEventPayload>(
      "concluded", R"({"form":2,"case_filed":false,"feedback":"给予诫勉","feedback_to_unit_id":"u9","extra":1})");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->concluded().form(), 2);
  EXPECT_EQ(e->concluded().feedback(), "给予诫勉");
  auto s = Decode<v1::ClueEventPayload>("escalated", R"({"deadline_us":"1764547200123456"})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->escalated().deadline_us(), 1764547200123456);
  auto m = Decode<v1::ClueEventPayload>("disposed", R"({"method":3})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->disposed().method(), 3);
}

TEST(EventPayloadTest, UnknownTypeIsNotFoundAndBadDataInvalid) {
  auto u = Decode<v1::ClueEventPayload>("teleported", "{}");
  EXPECT_TRUE(IsUnknownType(u.status())) << u.status();
  // Only oneof members are event types.
  EXPECT_FALSE(IsUnknownType(absl::NotFoundError("clue not found")));
  auto bad = Decode<v1::ClueEventPayload>("offered", R"({"to_unit_id":5})");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  auto garbage = Decode<v1::ClueEventPayload>("offered", "not json");
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kInvalidArgument);
  v1::ClueEventPayload none;
  EXPECT_EQ(Encode(none).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EventPayloadTest, SkippingCountsPerConsumerTypeAndReason) {
  auto unknown = Decode<v1::ClueEventPayload>("teleported", "{}").status();
  auto unreadable = Decode<v1::ClueEventPayload>("offered", "not json").status();
  Skip("test-consumer", "teleported", unknown);
  Skip("test-consumer", "teleported", unknown);
  Skip("test-consumer", "offered", unreadable);
  const std::string text = metrics::Metrics::Global().Render();
  EXPECT_NE(
      text.find(R"(sm_consumer_skipped_total{consumer="test-consumer",reason="unknown_type",type="teleported"} 2)"),
      std::string::npos)
      << text.substr(0, 3000);
  EXPECT_NE(text.find(R"(sm_consumer_skipped_total{consumer="test-consumer",reason="unreadable",type="offered"} 1)"),
            std::string::npos);
}

TEST(EventPayloadTest, AServiceEnvelopeCarriesEverySharedMemberUnderItsName) {
  // Every rectification event (shared rules) is an audit event of the same name and type.
  const auto* shared = v1::RectificationEventPayload::descriptor();
  for (int i = 0; i < shared->field_count(); ++i) {
    const auto* f = shared->field(i);
    const auto* in_audit = v1::AuditEventPayload::descriptor()->FindFieldByName(f->name());
    ASSERT_NE(in_audit, nullptr) << f->name();
    EXPECT_EQ(in_audit->message_type(), f->message_type()) << f->name();
    EXPECT_NE(in_audit->containing_oneof(), nullptr) << f->name();
  }
  v1::RectificationEventPayload r;
  r.mutable_rectification_signed_off()->set_spot_check(true);
  v1::AuditEventPayload a;
  ASSERT_TRUE(Rewrap(r, &a).ok());
  EXPECT_TRUE(a.rectification_signed_off().spot_check());
  EXPECT_EQ(Encode(a)->json, Encode(r)->json);
  EXPECT_EQ(Rewrap(v1::RectificationEventPayload(), &a).code(), absl::StatusCode::kInvalidArgument);
}

TEST(EventPayloadTest, MembersAreSetByNameOnlyWithTheirOwnType) {
  v1::AuditEventPayload a;
  v1::ClueFollowed followed;
  followed.set_clue_seq(3);
  ASSERT_TRUE(SetMember(&a, "clue_disposed", followed).ok());
  EXPECT_EQ(a.clue_disposed().clue_seq(), 3);
  EXPECT_TRUE(IsUnknownType(SetMember(&a, "clue_teleported", followed)));
  EXPECT_EQ(SetMember(&a, "referral_dead", followed).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sm::events
