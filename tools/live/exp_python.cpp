// exp_python.cpp: (being written)
#include <cstdio>

#include "exp_common.h"

namespace cowlab::live {

int experiment_python_gc(const std::vector<std::string>&, Output) {
    std::fprintf(stderr, "cowlab experiment: not available yet\n");
    return 2;
}

}  // namespace cowlab::live
