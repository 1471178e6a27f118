// experiment.h: `cowlab experiment`: real experiments beside the engine's prediction.
//
// host/experiments/ (the library host-experiments): each experiment runs a
// scenario on the real machine and the same one on the engine, and reports
// both side by side (report.h: a table, --json, --record FILE):
//
//   fork.cpp          a buffer, N children, the writer's pages   (a real fork)
//   redis_bgsave.cpp  BGSAVE under SETs                            (redis-server, through hiredis)
//   python_gc.cpp     a forked CPython child reads or collects     (python3)
//
// Each is split the same way: parse the options, measure the real run, predict
// with the engine, build the report. /proc reading, recordings and cleanup on
// Ctrl-C come from host/proc/.
#pragma once

#include <string>
#include <vector>

namespace cowlab::live {

// Runs the command with its arguments (after "experiment"); returns the exit status.
int experiment_main(const std::vector<std::string>& args);

}  // namespace cowlab::live
