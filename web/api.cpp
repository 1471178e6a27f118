// api.cpp: the C functions the page calls (window.cowlab in web/static/).
// Strings returned stay valid until the next call of the same function.
#include <string>

#include "app.h"

extern "C" {

const char* cowlab_version() { return cow::version(); }

const char* cowlab_info_json() {
    static std::string out;
    out = cowlab::app().info_json();
    return out.c_str();
}

int cowlab_frame_count() { return int(cowlab::app().frames_drawn); }

}  // extern "C"
