// live.h: `cowlab live`: sample real processes' memory figures from /proc.
//
//   cowlab live [-p PID]... [--tree PID] [--name NAME] [--interval MS] [--count N]
//               [--json | --csv] [--record FILE [--pages]] [--proc-root DIR] [--ui]
#pragma once

#include <string>
#include <vector>

namespace cowlab::live {

// Runs the command with its arguments (after "live"); returns the exit status.
int live_main(const std::vector<std::string>& args);

}  // namespace cowlab::live
