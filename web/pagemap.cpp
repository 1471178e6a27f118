// pagemap.cpp: uploads frame codes to a texture and draws them with
// shaders/pagemap.{vert,frag} inside an ImGui window (a draw callback); the
// colours are the engine's palette (engine/kernel/framemap.h), passed as a uniform.
#include "pagemap.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "imgui.h"

namespace cowlab {

ImVec4 frame_colour(cow::FrameCode c) {
    const cow::Rgba& k = cow::frame_style(c).colour;
    return ImVec4(k.r, k.g, k.b, k.a);
}

namespace {
GLuint compile(GLenum type, const char* name, std::string* error) {
    const char* body = shader_source(name);
    if (!body) {
        *error = std::string("shader ") + name + " is not embedded";
        return 0;
    }
    // After the #version line, what the shaders take from the engine's header.
    const std::string defines = "#define COWLAB_FRAME_CODES " + std::to_string(cow::kFrameCodeCount) +
                                "\n#define COWLAB_FRAME_FREE " + std::to_string(int(cow::FrameCode::free)) + "\n";
    const char* parts[] = {COWLAB_GLSL_VERSION, defines.c_str(), body};
    GLuint s = glCreateShader(type);
    glShaderSource(s, 3, parts, nullptr);
    glCompileShader(s);
    GLint ok = 0;
    glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[2048];
        glGetShaderInfoLog(s, sizeof log, nullptr, log);
        *error = std::string(name) + ": " + log;
        glDeleteShader(s);
        return 0;
    }
    return s;
}
}  // namespace

bool PageMap::init(std::string* error) {
    GLuint vs = compile(GL_VERTEX_SHADER, "pagemap.vert", error);
    GLuint fs = vs ? compile(GL_FRAGMENT_SHADER, "pagemap.frag", error) : 0;
    if (!vs || !fs) return false;
    program_ = glCreateProgram();
    glAttachShader(program_, vs);
    glAttachShader(program_, fs);
    glLinkProgram(program_);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(program_, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[2048];
        glGetProgramInfoLog(program_, sizeof log, nullptr, log);
        *error = std::string("pagemap program: ") + log;
        return false;
    }
    u_frames_ = glGetUniformLocation(program_, "u_frames");
    u_tex_width_ = glGetUniformLocation(program_, "u_tex_width");
    u_total_ = glGetUniformLocation(program_, "u_total");
    u_cols_ = glGetUniformLocation(program_, "u_cols");
    u_first_ = glGetUniformLocation(program_, "u_first");
    u_view_px_ = glGetUniformLocation(program_, "u_view_px");
    u_cell_px_ = glGetUniformLocation(program_, "u_cell_px");
    u_hover_ = glGetUniformLocation(program_, "u_hover");
    u_selection_ = glGetUniformLocation(program_, "u_selection");
    u_has_selection_ = glGetUniformLocation(program_, "u_has_selection");
    u_palette_ = glGetUniformLocation(program_, "u_palette");
    for (int c = 0; c < cow::kFrameCodeCount; ++c) {
        const cow::Rgba& rgba = cow::kFramePalette[c].colour;
        palette_[3 * c] = rgba.r;
        palette_[3 * c + 1] = rgba.g;
        palette_[3 * c + 2] = rgba.b;
    }
    glGenVertexArrays(1, &vao_);
    glGenTextures(1, &texture_);
    glGenTextures(1, &selection_);
    return true;
}

// Only the frames that changed since the last upload are coded again and sent (a
// 49 GiB machine's 12,845,056 frames took tens of ms a refresh while a step worked).
void PageMap::upload(const cow::Machine& m) {
    const bool followed = from_machine_ && long(m.frames().total()) == total_;
    const std::vector<std::pair<cow::u64, cow::u64>>& changed = follower_.refresh(m);
    const std::vector<cow::u8>& codes = follower_.codes();
    if (!followed) {
        upload_codes(codes);
        from_machine_ = true;
        return;
    }
    has_selection_ = false;
    glBindTexture(GL_TEXTURE_2D, texture_);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    const cow::u64 w = cow::u64(tex_width_);
    for (auto [first, last] : changed) {
        std::copy(codes.begin() + long(first), codes.begin() + long(last), codes_.begin() + long(first));
        const cow::u64 row0 = first / w, row1 = (last + w - 1) / w;   // whole rows: codes_ is padded to them
        codes_.resize(size_t(row1 * w), 0);
        glTexSubImage2D(GL_TEXTURE_2D, 0, 0, GLint(row0), tex_width_, GLsizei(row1 - row0), GL_RED, GL_UNSIGNED_BYTE,
                        codes_.data() + row0 * w);
        codes_.resize(size_t(total_));
    }
}

void PageMap::upload_codes(const std::vector<cow::u8>& codes) {
    from_machine_ = false;   // a picture of something else: the next machine is sent whole
    if (&codes != &codes_) codes_ = codes;
    has_selection_ = false;
    total_ = long(codes_.size());
    // 1,024 frames a row, more when the rows would pass GL's largest texture (a
    // 49 GiB machine has 12,845,056 frames: 12,544 rows of 1,024, beyond 8,192).
    GLint max_size = 0;
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_size);
    tex_width_ = 1024;
    while (max_size > 0 && tex_width_ < max_size &&
           (codes_.size() + size_t(tex_width_) - 1) / size_t(tex_width_) > size_t(max_size))
        tex_width_ *= 2;
    tex_height_ = int((codes_.size() + size_t(tex_width_) - 1) / size_t(tex_width_));
    codes_.resize(size_t(tex_width_) * size_t(tex_height_), 0);
    upload_r8(texture_, codes_.data());
    codes_.resize(size_t(total_));
}

void PageMap::upload_selection(const cow::Machine& m, cow::Pid pid) {
    const cow::Mm* mm = pid == cow::kNoPid ? nullptr : m.address_space(pid);
    has_selection_ = mm != nullptr;
    if (!has_selection_ || tex_height_ == 0) return;
    mask_.assign(size_t(tex_width_) * size_t(tex_height_), 0);
    m.mark_frames(pid, mask_, 255);
    upload_r8(selection_, mask_.data());
}

// One byte per texel, tex_width_ x tex_height_, sampled exactly (no filtering).
void PageMap::upload_r8(GLuint texture, const cow::u8* data) {
    glBindTexture(GL_TEXTURE_2D, texture);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, tex_width_, tex_height_, 0, GL_RED, GL_UNSIGNED_BYTE, data);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
}

long PageMap::draw(float height) {
    ImVec2 pos = ImGui::GetCursorScreenPos();
    ImVec2 size(ImGui::GetContentRegionAvail().x, height);
    if (size.x < 8 || size.y < 8 || !program_) {
        ImGui::Dummy(size);
        return -1;
    }
    ImGui::InvisibleButton("##pagemap", size);
    const bool hovered = ImGui::IsItemHovered();
    ImGuiIO& io = ImGui::GetIO();
    if (hovered && io.MouseWheel != 0) {
        cell_px = std::clamp(cell_px * std::pow(1.25f, io.MouseWheel), 1.0f, 48.0f);
    }
    view_cols_ = std::max(1, int(size.x / cell_px));
    if (hovered && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
        long rows = long(-io.MouseDelta.y / cell_px);
        first_frame += rows * view_cols_;
    }
    const long view_rows = std::max(1L, long(size.y / cell_px));
    if (scroll_to_mark && marked >= 0 && marked < total_) {
        if (marked < first_frame || marked >= first_frame + view_rows * view_cols_)
            first_frame = marked - (view_rows / 2) * view_cols_;
        scroll_to_mark = false;
    }
    first_frame = std::clamp(first_frame, 0L, std::max(0L, total_ - 1));
    first_frame -= first_frame % view_cols_;
    hover_ = -1;
    if (hovered) {
        long col = long((io.MousePos.x - pos.x) / cell_px), row = long((io.MousePos.y - pos.y) / cell_px);
        long f = first_frame + row * view_cols_ + col;
        if (col < view_cols_ && f >= 0 && f < total_) hover_ = f;
    }
    clicked = ImGui::IsItemDeactivated() && ImGui::GetMouseDragDelta(ImGuiMouseButton_Left).y == 0 ? hover_ : -1;
    view_w_ = size.x;
    view_h_ = size.y;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->PushClipRect(pos, ImVec2(pos.x + size.x, pos.y + size.y), true);
    dl->AddCallback(&PageMap::render_callback, this);
    dl->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
    // The focused frame, outlined over the shader's cells (a cell of a few pixels needs a ring around it).
    if (marked >= first_frame && marked < total_) {
        const long k = marked - first_frame, row = k / view_cols_, col = k % view_cols_;
        const ImVec2 a(pos.x + float(col) * cell_px, pos.y + float(row) * cell_px);
        if (a.y < pos.y + size.y) {
            const float r = std::max(3.0f, cell_px * 0.5f);
            dl->AddRect(ImVec2(a.x - r, a.y - r), ImVec2(a.x + cell_px + r, a.y + cell_px + r), IM_COL32(255, 255, 255, 255), 0, 0, 2.0f);
        }
    }
    dl->PopClipRect();
    return hover_;
}

void PageMap::render_callback(const ImDrawList* list, const ImDrawCmd* cmd) {
    (void)list;
    const PageMap* self = static_cast<const PageMap*>(cmd->UserCallbackData);
    const ImDrawData* dd = ImGui::GetDrawData();
    const ImVec2 scale = dd->FramebufferScale;
    const ImVec4 clip = cmd->ClipRect;   // display coordinates: x1, y1, x2, y2
    const float fb_h = dd->DisplaySize.y * scale.y;
    const GLint x = GLint((clip.x - dd->DisplayPos.x) * scale.x);
    const GLint y = GLint(fb_h - (clip.w - dd->DisplayPos.y) * scale.y);
    const GLsizei w = GLsizei((clip.z - clip.x) * scale.x), h = GLsizei((clip.w - clip.y) * scale.y);
    if (w <= 0 || h <= 0) return;
    glViewport(x, y, w, h);
    glScissor(x, y, w, h);
    glUseProgram(self->program_);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, self->texture_);
    glUniform1i(self->u_frames_, 0);
    glUniform1i(self->u_tex_width_, self->tex_width_);
    glUniform1i(self->u_total_, int(self->total_));
    glUniform1i(self->u_cols_, self->view_cols_);
    glUniform1i(self->u_first_, int(self->first_frame));
    glUniform2f(self->u_view_px_, float(w), float(h));
    glUniform1f(self->u_cell_px_, self->cell_px * scale.x);
    glUniform1i(self->u_hover_, int(self->hover_));
    glUniform3fv(self->u_palette_, cow::kFrameCodeCount, self->palette_);
    glActiveTexture(GL_TEXTURE1);
    glBindTexture(GL_TEXTURE_2D, self->selection_);
    glUniform1i(self->u_selection_, 1);
    glUniform1i(self->u_has_selection_, self->has_selection_ ? 1 : 0);
    glActiveTexture(GL_TEXTURE0);
    glBindVertexArray(self->vao_);
    glDrawArrays(GL_TRIANGLES, 0, 3);
    glBindVertexArray(0);
}

}  // namespace cowlab
