// What the clue commands share beyond command.h: finding a clue by id or number, the version
// to expect, and printing a changed clue or a list of clues.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "supervision/v1/clue.grpc.pb.h"
#include "tools/smctl/client.h"

namespace sm::smctl {

class ClueClient : public Client<::supervision::v1::ClueService> {
 public:
  using Client::Client;

  // CLUE (a UUID or a number such as XS-2026-000123) to the clue. With a UUID and !fetch
  // only the id is filled. A number is found by paging through ListClues. Returns an exit
  // code (a failure printed).
  int Find(const std::string& key, bool fetch, ::supervision::v1::Clue* clue);

  // The clue's id and the version to expect: `version` (--version) when set, else the
  // version read now.
  int Target(const std::string& key, int64_t version, std::string* id, int64_t* expected);

  // Calls a step RPC that answers with a ClueReply and prints the changed clue's number,
  // state, version and deadline (`zh`/`en` say what was done).
  template <typename Req>
  int Step(Rpc<Req, ::supervision::v1::ClueReply> rpc, const Req& req, const char* zh, const char* en) {
    return Run(rpc, req, [&](const ::supervision::v1::ClueReply& r) { PrintDone(r, zh, en); });
  }
  void PrintDone(const ::supervision::v1::ClueReply& r, const char* zh, const char* en);

  // Clues as a table: number, state, summary, holding unit, deadline, overdue.
  void PrintClues(const google::protobuf::RepeatedPtrField<::supervision::v1::Clue>& clues);

  // A user id as a person's name when it is a directory id.
  std::string UserName(const std::string& user);
};

}  // namespace sm::smctl
