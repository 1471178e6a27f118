// calibrate.cpp: (being written)
#include "calibrate.h"

#include <cstdio>

namespace cowlab::live {

int calibrate_main(const std::vector<std::string>&) {
    std::fprintf(stderr, "cowlab calibrate: not available yet\n");
    return 2;
}

}  // namespace cowlab::live
