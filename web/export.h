// export.h: the lab's figures and pictures out: metrics as CSV or JSON, the
// window as a PNG. In the browser they download; natively they are files in
// the current directory.
#pragma once

#include <string>

#include "lab_player.h"

namespace cowlab {

// One row per step run and named process, with the machine's figures.
std::string metrics_csv(const Player& p);
// The lesson's state, the current metrics and the history.
std::string metrics_json(const Player& p);
// Hands text to the user: a download in the browser, a file natively. Returns what it did.
std::string save_text(const std::string& filename, const std::string& mime, const std::string& text);
// Reads the frame just rendered (call after rendering, before swapping) and saves it as PNG.
std::string save_framebuffer_png(int fb_width, int fb_height, const std::string& filename);

}  // namespace cowlab
