// experiment.h: `cowlab experiment`: real experiments beside the engine's prediction.
#pragma once

#include <string>
#include <vector>

namespace cowlab::live {

// Runs the command with its arguments (after "experiment"); returns the exit status.
int experiment_main(const std::vector<std::string>& args);

}  // namespace cowlab::live
