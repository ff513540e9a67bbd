// The shape every smctl command shares, so that a command file holds only what is its own:
//
//   declare options (CLI11, into an Args struct)  →  resolve names to ids  →  fill the request
//   →  call (deadline, token, request id)  →  print a table, or JSON with -o json  →  exit code
//
// `Commands::Add` ties a subcommand's options to its handler; before the handler runs it checks
// that there is a token and opens a `Client` of the handler's service. `Client::Run` calls one
// RPC and prints the reply; `Client::List` pages through a List RPC; `Fail` maps a gRPC status
// to a message and an exit code (docs/smctl.md § Exit codes). See docs/smctl.md § Adding a command.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <google/protobuf/repeated_field.h>
#include <grpcpp/grpcpp.h>

#include "supervision/v1/audit.grpc.pb.h"
#include "supervision/v1/clue.grpc.pb.h"
#include "supervision/v1/directory.grpc.pb.h"
#include "tools/smctl/choices.h"
#include "tools/smctl/context.h"
#include "tools/smctl/directory_lookup.h"

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

  // Pages through a List RPC from `req` for the item whose number() is `number` (compared in
  // upper case): *found says whether there was one (then in *out).
  template <typename Req, typename Resp, typename Item>
  grpc::Status FindByNumber(Rpc<Req, Resp> rpc, Req req,
                            const google::protobuf::RepeatedPtrField<Item>& (Resp::*items)() const,
                            const std::string& number, Item* out, bool* found) {
    *found = false;
    while (true) {
      Resp page;
      if (grpc::Status st = Call(rpc, req, &page); !st.ok()) return st;
      for (const auto& item : (page.*items)()) {
        if (Upper(item.number()) == Upper(number)) {
          *out = item;
          *found = true;
          return grpc::Status::OK;
        }
      }
      if (page.next_page_token().empty()) return grpc::Status::OK;
      req.set_page_token(page.next_page_token());
    }
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
    while (true) {
      Resp page;
      if (grpc::Status st = Call(rpc, req, &page); !st.ok()) return Fail(st);
      for (auto& item : *(page.*items)()) *(all.*items)()->Add() = std::move(item);
      all.set_next_page_token(page.next_page_token());
      if (!paging.all_pages || page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
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

  Context& ctx;
  Directory dir;

 private:
  std::unique_ptr<Stub> stub_;
};

// Ties subcommands to their handlers. Each Add creates the subcommand and an `Args` it owns
// for the subcommand's options to fill; the one CLI11 picks is run by Run().
class Commands {
 public:
  template <typename Args>
  struct Added {
    CLI::App* cmd;
    Args* args;
  };

  // A command on a service: Run() checks the token (exit 3 without one), opens a `C` (a
  // Client or a class derived from one) and calls handler(client, args).
  template <typename C, typename Args>
  Added<Args> Add(CLI::App* parent, const char* name, const char* help, int (*handler)(C&, const Args&)) {
    return Bind<Args>(parent, name, help, [handler](Context& ctx, const Args& a) {
      if (ctx.Token().empty()) return NeedToken(ctx, C::service());
      C client(ctx);
      return handler(client, a);
    });
  }
  // A command that needs no service first (login, or checks a file before the token).
  template <typename Args>
  Added<Args> Add(CLI::App* parent, const char* name, const char* help, int (*handler)(Context&, const Args&)) {
    return Bind<Args>(parent, name, help, handler);
  }

  // Runs the chosen command; kExitUsage when none was chosen.
  int Run(Context& ctx) const { return chosen_ ? chosen_(ctx) : kExitUsage; }

 private:
  template <typename Args, typename F>
  Added<Args> Bind(CLI::App* parent, const char* name, const char* help, F run) {
    auto args = std::make_shared<Args>();
    owned_.push_back(args);
    CLI::App* cmd = parent->add_subcommand(name, help);
    Args* a = args.get();
    cmd->callback([this, a, run] { chosen_ = [a, run](Context& ctx) { return run(ctx, *a); }; });
    return {cmd, a};
  }

  std::vector<std::shared_ptr<void>> owned_;
  std::function<int(Context&)> chosen_;
};

// For commands without options of their own.
struct NoArgs {};

// The options several commands share, with their help text.
CLI::Option* AddRequestIdOption(CLI::App* cmd, std::string* request_id);
CLI::Option* AddVersionOption(CLI::App* cmd, int64_t* version);  // 0 = read it first
void AddPagingOptions(CLI::App* cmd, Paging* paging, int max_limit);
// A subcommand group such as `smctl clue` or `smctl audit engagement`: one of its
// subcommands is required.
CLI::App* AddGroup(CLI::App* parent, const char* name, const char* help);

// An option taking one of `choices`' spellings (checked by CLI11) into `*out` as its value.
template <typename E>
CLI::Option* AddChoiceOption(CLI::App* cmd, const std::string& name, E* out, const Choices& choices,
                             const std::string& help) {
  return cmd
      ->add_option_function<std::string>(
          name, [out, &choices](const std::string& s) { *out = static_cast<E>(ChoiceValue(choices, s)); }, help)
      ->check(CLI::IsMember(Spellings(choices)));
}
// The same, repeatable.
template <typename E>
CLI::Option* AddChoicesOption(CLI::App* cmd, const std::string& name, std::vector<E>* out, const Choices& choices,
                              const std::string& help) {
  return cmd
      ->add_option_function<std::vector<std::string>>(
          name,
          [out, &choices](const std::vector<std::string>& v) {
            out->clear();
            for (const auto& s : v) out->push_back(static_cast<E>(ChoiceValue(choices, s)));
          },
          help)
      ->check(CLI::IsMember(Spellings(choices)));
}

// A fresh UUID when `given` is empty.
std::string RequestIdOr(const std::string& given);
// The version to expect: `given` (--version) when set, else `current` (as just read).
inline int64_t VersionOr(int64_t given, int64_t current) { return given > 0 ? given : current; }

}  // namespace sm::smctl
