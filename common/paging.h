// Keyset pagination tokens: an opaque, URL-safe encoding of the last row's sort key, bound
// to the filters it was issued for (a token reused with other filters is refused).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <google/protobuf/message.h>
#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sm::paging {

// A fingerprint of `request` without its page_size and page_token fields.
std::string FilterFingerprint(const google::protobuf::Message& request);

std::string Encode(const nlohmann::json& position, const std::string& fingerprint);

// nullopt for an empty token. Errors: INVALID_ARGUMENT naming `page_token` when it is not
// one of ours or was issued for other filters.
absl::StatusOr<std::optional<nlohmann::json>> Decode(const std::string& token, const std::string& fingerprint);

// The common keyset position: (timestamp in microseconds, id) of the last row.
using TimeId = std::pair<int64_t, std::string>;
std::string EncodeTimeId(const TimeId& position, const std::string& fingerprint);
// Adds violations naming `page_token` to `errors` when the token is not one of ours.
std::optional<TimeId> DecodeTimeId(const std::string& token, const std::string& fingerprint, FieldErrors& errors);

// Page size: 0 gives `def`, above `max` gives `max`. Errors: INVALID_ARGUMENT naming
// `page_size` when negative.
absl::StatusOr<int> PageSize(int requested, int def, int max);

// The page a List handler answers with: keeps the first `page` of `rows` (read as page + 1:
// the extra row says whether another page exists), hands each kept row to `add` (which may
// move from it), and returns the next page's token, made by `token` from the last kept
// row, or "" on the last page.
template <typename Row, typename Add, typename Token>
std::string TakePage(std::vector<Row>& rows, int page, Add add, Token token) {
  const bool more = static_cast<int>(rows.size()) > page;
  if (more) rows.resize(page);
  std::string next = more && !rows.empty() ? token(rows.back()) : std::string();
  for (auto& r : rows) add(r);
  return next;
}

// A page of one aggregate's history, in event order: the events after `after_seq`, at most
// `size` of them.
struct SeqPage {
  int64_t after_seq = 0;
  int size = 0;
};
// Reads page_size (0: `def`, capped at `max`) and page_token (a position issued for the
// same `request` filters, i.e. the same aggregate), adding violations naming the fields.
SeqPage DecodeSeqPage(const google::protobuf::Message& request, int page_size, const std::string& token, int def,
                      int max, FieldErrors& errors);

// Hands the events after `p.after_seq` to `emit` (which returns whether it showed the event:
// a caller may skip what it may not see) until `p.size` were shown; returns the next page's
// token, or "" when no event is left.
template <typename Event, typename Emit>
std::string TakeSeqPage(const std::vector<Event>& events, const SeqPage& p, const google::protobuf::Message& request,
                        Emit emit) {
  int shown = 0;
  int64_t last = p.after_seq;
  for (const auto& ev : events) {
    if (static_cast<int64_t>(ev.seq) <= p.after_seq) continue;
    if (shown == p.size) return Encode(nlohmann::json(last), FilterFingerprint(request));
    if (emit(ev)) ++shown;
    last = static_cast<int64_t>(ev.seq);
  }
  return "";
}

}  // namespace sm::paging
