// smctl commands for login and the directory (units, people, posts).
#pragma once

#include <string>
#include <vector>

#include "tools/smctl/context.h"

namespace sm::smctl {

struct LoginArgs {
  bool dev = false;
  std::string user;
  std::string unit;  // unit code or id; a code is resolved through the directory
  std::vector<std::string> roles;
  int clearance = 0;
  int ttl_hours = 8;
  std::string secret;  // HS256 secret; default: the development secret
  std::string secret_file;  // read into `secret` when set (a local identity provider's)
};
int Login(Context& ctx, const LoginArgs& args);
int Logout(Context& ctx);

int DirectoryImport(Context& ctx, const std::string& file, bool dry_run, std::string request_id);

struct UnitsListArgs {
  bool tree = false;
  std::string root;  // code or id
  int depth = 0;
  bool all = false;  // include inactive
};
int UnitsList(Context& ctx, const UnitsListArgs& args);
int UnitsShow(Context& ctx, const std::string& key);

struct PeopleSearchArgs {
  std::string unit;  // code or id
  bool subunits = false;
  std::string name;
  std::string badge;
  bool leaders = false;
  bool non_leaders = false;
  std::string category;  // police | auxiliary | civilian
  bool all = false;
  int limit = 50;
  std::string page_token;
  bool all_pages = false;
};
int PeopleSearch(Context& ctx, const PeopleSearchArgs& args);
int PeopleShow(Context& ctx, const std::string& key);

int PostsList(Context& ctx, bool all);

}  // namespace sm::smctl
