#include "tools/smctl/command.h"

namespace sm::smctl {

CLI::Option* AddRequestIdOption(CLI::App* cmd, std::string* request_id) {
  return cmd->add_option("--request-id", *request_id, "幂等键 idempotency key (default: a new UUID)");
}

CLI::Option* AddVersionOption(CLI::App* cmd, int64_t* version) {
  return cmd->add_option("--version", *version, "预期版本（默认先读取） expected version (default: read it first)")
      ->check(CLI::PositiveNumber);
}

void AddPagingOptions(CLI::App* cmd, Paging* paging, int max_limit) {
  cmd->add_option("--limit", paging->limit, "每页条数 page size")->check(CLI::Range(1, max_limit));
  cmd->add_option("--page-token", paging->page_token, "下一页令牌 next page token");
  cmd->add_flag("--all-pages", paging->all_pages, "取回全部页 fetch every page");
}

CLI::App* AddGroup(CLI::App* parent, const char* name, const char* help) {
  CLI::App* group = parent->add_subcommand(name, help);
  group->require_subcommand(1);
  return group;
}

}  // namespace sm::smctl
