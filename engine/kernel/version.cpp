// version.cpp: the engine's version, set by the build from the project version.
#include "types.h"

namespace cow {
const char* version() { return COWLAB_VERSION; }
}  // namespace cow
