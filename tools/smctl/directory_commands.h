// smctl commands for login and the directory: login, logout, directory import, units,
// people, posts (docs/smctl.md).
#pragma once

#include "tools/smctl/command.h"

namespace sm::smctl {

// Adds login, logout, directory, units, people and posts to `app`.
void AddDirectoryCommands(CLI::App& app, Commands& commands);

}  // namespace sm::smctl
