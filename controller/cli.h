// The `shakedown` command line: subcommands, their options and exit codes.
#pragma once

namespace shakedown::controller {

// Exit codes, as the README and `shakedown --help` state them.
enum ExitCode : int {
  kSuccess = 0,
  kExpectationFailed = 1,
  kBadInput = 2,  // a malformed file, a nonsense parameter, a usage error
  kRunFailed = 3,
};

int cli_main(int argc, char** argv);

}  // namespace shakedown::controller
