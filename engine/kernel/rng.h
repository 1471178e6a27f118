// rng.h: the machine's one random generator. Every random choice of a
// simulation (which page a random write touches, which key a Redis SET
// overwrites, which heap objects a collector tracks) draws from the machine's
// generator, seeded by MachineConfig::seed: the same lesson with the same seed
// makes the same choices, and a copy of the machine (a snapshot) makes them
// again.
//
//   cow::Rng& r = machine.rng();
//   u64 j = r.below(n);          // 0 .. n-1
//   double u = r.uniform();      // [0, 1)
//
// SplitMix64 (Steele, Lea and Flood, 2014): 8 bytes of state, every seed good.
#pragma once

#include "types.h"

namespace cow {

struct Rng {
    u64 state = 0;

    u64 next() {
        u64 z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
    // n > 0. The modulo's bias is below n / 2^64: nothing a lesson can see.
    u64 below(u64 n) { return next() % n; }
};

}  // namespace cow
