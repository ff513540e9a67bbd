// A prepared conversation with one service for one smctl command: the call with its deadline
// and token, the reply printed as a table or as JSON, List paging, history paging, look-ups by
// UUID or number, and errors that name the service (docs/smctl.md § Adding a command).
// Without CLI11, so the files that only talk to a service do not pay for it.
#pragma once

#include <iostream>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <google/protobuf/repeated_field.h>
#include <grpcpp/grpcpp.h>

#include "supervision/v1/directory.grpc.pb.h"
#include "tools/smctl/context.h"
#include "tools/smctl/directory_lookup.h"

namespace supervision::v1 {
class ClueService;
class AuditService;
class InspectionService;
class RiskService;
}  // namespace supervision::v1

namespace sm::smctl {

// The Service of a generated gRPC service class (specialised in command.cc).
template <typename Grpc>
const Service& ServiceOf();
template <>
const Service& ServiceOf<::supervision::v1::DirectoryService>();
template <>
const Service& ServiceOf<::supervision::v1::ClueService>();
template <>
const Service& ServiceOf<::supervision::v1::AuditService>();
template <>
const Service& ServiceOf<::supervision::v1::InspectionService>();
template <>
const Service& ServiceOf<::supervision::v1::RiskService>();

// Page options of a List command.
struct Paging {
  int limit = 50;
  std::string page_token;
  bool all_pages = false;
};

// A prepared conversation with one service (`Grpc`, e.g. v1::ClueService) for one command:
// its stub, the directory look-ups (unit codes and badge numbers) and the error messages that
// name the service.
template <typename Grpc>
class Client {
 public:
  using Stub = typename Grpc::Stub;
  template <typename Req, typename Resp>
  using Rpc = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

  explicit Client(Context& c) : ctx(c), dir(c), stub_(Grpc::NewStub(c.Channel(c.options().*service().addr))) {}

  static const Service& service() { return ServiceOf<Grpc>(); }
  Lang lang() const { return ctx.lang(); }

  // One unary call with the deadline, the token and a request id.
  template <typename Req, typename Resp>
  grpc::Status Call(Rpc<Req, Resp> rpc, const Req& req, Resp* resp) {
    grpc::ClientContext cc;
    ctx.Prepare(&cc);
    return ((*stub_).*rpc)(&cc, req, resp);
  }

  // Prints why `status` failed; returns the exit code.
  int Fail(const grpc::Status& status) const { return ::sm::smctl::Fail(ctx, service(), status); }

  // `msg` as JSON with -o json (kExitOk), else through `print`: its exit code when it returns
  // one, kExitOk when it returns nothing.
  template <typename Msg, typename Print>
  int Show(const Msg& msg, Print&& print) {
    if (ctx.json()) {
      ctx.PrintJson(msg);
      return kExitOk;
    }
    if constexpr (std::is_void_v<std::invoke_result_t<Print, const Msg&>>) {
      print(msg);
      return kExitOk;
    } else {
      return print(msg);
    }
  }

  // Calls `rpc` and shows the reply (see Show); a failure is printed and its code returned.
  template <typename Req, typename Resp, typename Print>
  int Run(Rpc<Req, Resp> rpc, const Req& req, Print&& print) {
    Resp resp;
    if (grpc::Status st = Call(rpc, req, &resp); !st.ok()) return Fail(st);
    return Show(resp, std::forward<Print>(print));
  }

  // An item named by its UUID `id`: with !fetch only its id is filled (no call), else it is
  // read with `get(req)`. Returns an exit code (a failure printed).
  template <typename Req, typename Item>
  int ReadById(Rpc<Req, Item> get, const Req& req, const std::string& id, bool fetch, Item* out) {
    if (!fetch) {
      out->set_id(id);
      return kExitOk;
    }
    grpc::Status st = Call(get, req, out);
    return st.ok() ? kExitOk : Fail(st);
  }

  // "未找到<zh> KEY（或无权查看）" / "<en> KEY not found (or not visible to you)": exit 5.
  int NotVisible(const char* zh, const char* en, const std::string& key) const {
    return ctx.FailLocal(kExitNotFound, std::string("未找到") + zh + " " + key + "（或无权查看）",
                         std::string(en) + " " + key + " not found (or not visible to you)");
  }

  // Pages through a List RPC from `req`, handing each item to `visit` until it returns true
  // (found: no more pages are read). A failed call's status is returned.
  template <typename Req, typename Resp, typename Item, typename Visit>
  grpc::Status EachListed(Rpc<Req, Resp> rpc, Req req,
                          const google::protobuf::RepeatedPtrField<Item>& (Resp::*items)() const, Visit visit) {
    while (true) {
      Resp page;
      if (grpc::Status st = Call(rpc, req, &page); !st.ok()) return st;
      for (const auto& item : (page.*items)()) {
        if (visit(item)) return grpc::Status::OK;
      }
      if (page.next_page_token().empty()) return grpc::Status::OK;
      req.set_page_token(page.next_page_token());
    }
  }

  // Pages through a List RPC from `req` for the item whose number() is `number` (compared in
  // upper case): *found says whether there was one (then in *out).
  template <typename Req, typename Resp, typename Item>
  grpc::Status FindByNumber(Rpc<Req, Resp> rpc, Req req,
                            const google::protobuf::RepeatedPtrField<Item>& (Resp::*items)() const,
                            const std::string& number, Item* out, bool* found) {
    *found = false;
    return EachListed(rpc, std::move(req), items, [&](const Item& item) {
      if (Upper(item.number()) != Upper(number)) return false;
      *out = item;
      *found = true;
      return true;
    });
  }

  // A history RPC: every page (see AllHistoryPages), shown as one reply (see Show).
  template <typename Req, typename Resp, typename Print>
  int History(Rpc<Req, Resp> rpc, const Req& req, Print&& print) {
    Resp all;
    grpc::Status st = AllHistoryPages(req, &all, [&](const Req& r, Resp* page) { return Call(rpc, r, page); });
    if (!st.ok()) return Fail(st);
    return Show(all, std::forward<Print>(print));
  }

  // A List RPC: one page (--limit, --page-token) or with --all-pages every page, gathered into
  // one reply. With -o json prints it; else `none` when it has no items, or `print`s the items
  // and then the next page token when there is one.
  template <typename Req, typename Resp, typename Item, typename Print>
  int List(Rpc<Req, Resp> rpc, Req req, const Paging& paging,
           google::protobuf::RepeatedPtrField<Item>* (Resp::*items)(), const std::string& none, Print&& print) {
    req.set_page_size(paging.limit);
    req.set_page_token(paging.page_token);
    Resp all;
    if (grpc::Status st = Gather(rpc, req, paging.all_pages, items, &all); !st.ok()) return Fail(st);
    if (ctx.json()) {
      ctx.PrintJson(all);
      return kExitOk;
    }
    const auto& list = *(all.*items)();
    if (list.empty() && !none.empty()) {
      std::cout << none;
      return kExitOk;
    }
    print(list);
    PrintMoreResults(lang(), all.next_page_token());
    return kExitOk;
  }

  // The pages of a List RPC from `req` gathered into `*all`: only the first with !all_pages.
  // `all`'s next_page_token is the last page's.
  template <typename Req, typename Resp, typename Item>
  grpc::Status Gather(Rpc<Req, Resp> rpc, Req req, bool all_pages,
                      google::protobuf::RepeatedPtrField<Item>* (Resp::*items)(), Resp* all) {
    while (true) {
      Resp page;
      if (grpc::Status st = Call(rpc, req, &page); !st.ok()) return st;
      for (auto& item : *(page.*items)()) *((*all).*items)()->Add() = std::move(item);
      all->set_next_page_token(page.next_page_token());
      if (!all_pages || page.next_page_token().empty()) return grpc::Status::OK;
      req.set_page_token(page.next_page_token());
    }
  }

  Context& ctx;
  Directory dir;

 private:
  std::unique_ptr<Stub> stub_;
};

// A fresh UUID when `given` is empty.
std::string RequestIdOr(const std::string& given);
// The version to expect: `given` (--version) when set, else `current` (as just read).
inline int64_t VersionOr(int64_t given, int64_t current) { return given > 0 ? given : current; }

}  // namespace sm::smctl
