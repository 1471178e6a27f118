// events.cpp: the names and descriptions of the event kinds, from the one list in events.h.
#include "events.h"

namespace cow {

const char* to_string(EventKind k) {
    switch (k) {
#define X(name, text) case EventKind::name: return #name;
        COW_EVENT_KINDS(X)
#undef X
    }
    return "?";
}

const char* describe(EventKind k) {
    switch (k) {
#define X(name, text) case EventKind::name: return text;
        COW_EVENT_KINDS(X)
#undef X
    }
    return "?";
}

}  // namespace cow
