// app.h: the lab's state and its windows, one frame at a time. Shared by the
// native and the web build; main.cpp owns the platform loop.
#pragma once

#include <string>

#include "engine.h"
#include "pagemap.h"

namespace cowlab {

struct App {
    cow::Machine machine;
    PageMap page_map;
    std::string error;           // shown on screen; the lab keeps running
    long frames_drawn = 0;
    cow::Pid parent = cow::kNoPid, child = cow::kNoPid;

    // Builds the demo machine (fork of a 64 MiB process; the child writes 10%).
    bool init(std::string* gl_error);
    void draw();                 // all windows of one frame
    std::string info_json() const;
};

App& app();

}  // namespace cowlab
