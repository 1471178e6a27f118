// exp_redis.cpp: (being written)
#include <cstdio>

#include "exp_common.h"

namespace cowlab::live {

int experiment_redis_bgsave(const std::vector<std::string>&, Output) {
    std::fprintf(stderr, "cowlab experiment: not available yet\n");
    return 2;
}

}  // namespace cowlab::live
