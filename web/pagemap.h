// pagemap.h: the physical-memory picture: a shader draws one cell per frame
// from a byte-per-frame texture that the engine fills, in the colours of the
// engine's palette (both in engine/kernel/framemap.h).
//
//   PageMap map;                      // once a GL context exists: map.init()
//   map.upload(machine);              // after the machine changed
//   map.draw(height);                 // inside an ImGui window; zoom with the wheel
#pragma once

#include <string>
#include <vector>

#include "engine.h"
#include "gl.h"

struct ImDrawList;
struct ImDrawCmd;
struct ImVec4;

namespace cowlab {

// A code's colour in the engine's palette, for ImGui (legends, small pictures).
ImVec4 frame_colour(cow::FrameCode c);

class PageMap {
public:
    bool init(std::string* error);
    void upload(const cow::Machine& m);
    // Any picture in the same codes (engine/kernel/framemap.h): one byte per cell.
    void upload_codes(const std::vector<cow::u8>& codes);
    // Frames the selected process maps are drawn bright, the others dimmed; none selected: all bright.
    void upload_selection(const cow::Machine& m, cow::Pid pid);
    // Draws the map filling `height` pixels of the current window. Returns the
    // frame under the mouse, or -1.
    long draw(float height);
    const std::vector<cow::u8>& codes() const { return codes_; }

    float cell_px = 6.0f;     // zoom
    long first_frame = 0;     // pan (rows scroll by whole rows)
    long marked = -1;         // a frame outlined (the lab's focus), -1: none
    bool scroll_to_mark = false;   // on the next draw, pan so that `marked` is in view
    long clicked = -1;        // set by draw(): the frame clicked (not dragged) on this frame, else -1

private:
    static void render_callback(const ImDrawList* list, const ImDrawCmd* cmd);
    void upload_r8(GLuint texture, const cow::u8* data);

    GLuint program_ = 0, vao_ = 0, texture_ = 0, selection_ = 0;
    GLint u_selection_ = -1, u_has_selection_ = -1;
    bool has_selection_ = false;
    std::vector<cow::u8> mask_;
    GLint u_frames_ = -1, u_tex_width_ = -1, u_total_ = -1, u_cols_ = -1, u_first_ = -1;
    GLint u_view_px_ = -1, u_cell_px_ = -1, u_hover_ = -1, u_palette_ = -1;
    float palette_[3 * cow::kFrameCodeCount] = {};   // RGB of each code, from cow::kFramePalette
    int tex_width_ = 1024, tex_height_ = 0;
    std::vector<cow::u8> codes_;
    long total_ = 0;
    cow::FrameMapFollower follower_;   // what upload() sends: the frames that changed
    bool from_machine_ = false;        // the texture holds the follower's codes
    // Set by draw(), read by the callback while ImGui renders.
    int view_cols_ = 1;
    float view_w_ = 0, view_h_ = 0;
    long hover_ = -1;
};

}  // namespace cowlab
