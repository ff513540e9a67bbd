// The shape every smctl command shares, so that a command file holds only what is its own:
//
//   declare options (CLI11, into an Args struct)  →  resolve names to ids  →  fill the request
//   →  call (deadline, token, request id)  →  print a table, or JSON with -o json  →  exit code
//
// `Commands::Add` ties a subcommand's options to its handler; before the handler runs it checks
// that there is a token and opens a `Client` (client.h) of the handler's service. `Client::Run`
// calls one RPC and prints the reply; `Client::List` pages through a List RPC; `Fail` maps a
// gRPC status to a message and an exit code (context.h). See docs/smctl.md § Adding a command.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tools/smctl/choices.h"
#include "tools/smctl/client.h"
#include "tools/smctl/context.h"

namespace sm::smctl {

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

}  // namespace sm::smctl
