// experiment.cpp: `cowlab experiment KIND ...`: which experiment to run.
#include "experiment.h"

#include <cstdio>

#include "report.h"

namespace cowlab::live {

int experiment_fork(const std::vector<std::string>& args, Output out);
int experiment_redis_bgsave(const std::vector<std::string>& args, Output out);
int experiment_python_gc(const std::vector<std::string>& args, Output out);

int experiment_main(const std::vector<std::string>& a) {
    Output out;
    out.command = "cowlab experiment";
    for (const std::string& s : a) out.command += " " + s;
    if (!a.empty() && a[0] == "fork") return experiment_fork(a, out);
    if (!a.empty() && a[0] == "redis-bgsave") return experiment_redis_bgsave(a, out);
    if (!a.empty() && a[0] == "python-gc") return experiment_python_gc(a, out);
    std::fprintf(stderr,
                 "usage: cowlab experiment fork --size 256M --write 10%% [--pattern seq|random] [--thp on|off]\n"
                 "                              [--children N] [--writer child|parent]\n"
                 "       cowlab experiment redis-bgsave --keys N --value-bytes V --writes-per-s R\n"
                 "       cowlab experiment python-gc --objects N --kind dict|instance --child none|iterate|collect [--freeze]\n"
                 "       each takes --json (machine-readable) and --record FILE (a recording the lab opens)\n");
    return 2;
}

}  // namespace cowlab::live
