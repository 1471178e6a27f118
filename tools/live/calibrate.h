// calibrate.h: `cowlab calibrate`: measure the cost model's constants on this machine.
#pragma once

#include <string>
#include <vector>

namespace cowlab::live {

// Runs the command with its arguments (after "calibrate"); returns the exit status.
int calibrate_main(const std::vector<std::string>& args);

}  // namespace cowlab::live
