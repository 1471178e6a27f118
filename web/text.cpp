// text.cpp: wrapping at spaces only (text.h).
#include "text.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <vector>

#include "imgui.h"

namespace cowlab {

namespace {

// The text with '\n' where a line must end to fit `width`. A word wider than
// a whole line stays on its own line (ImGui cuts it where it must).
std::string wrap(const std::string& text, float width) {
    std::string out;
    out.reserve(text.size() + 16);
    size_t para = 0;
    while (para <= text.size()) {
        size_t end = text.find('\n', para);
        if (end == std::string::npos) end = text.size();
        size_t line = out.size();   // where the line being filled starts in `out`
        size_t i = para;
        while (i < end) {
            size_t j = text.find(' ', i);
            if (j == std::string::npos || j > end) j = end;
            const bool first = out.size() == line;
            const std::string word = text.substr(i, j - i);
            const std::string with = out.substr(line) + (first ? "" : " ") + word;
            if (!first && ImGui::CalcTextSize(with.c_str()).x > width) {
                out += '\n';
                line = out.size();
                out += word;
            } else {
                out += (first ? "" : " ") + word;
            }
            i = j + 1;
        }
        if (end >= text.size()) break;
        out += '\n';
        para = end + 1;
    }
    return out;
}

}  // namespace

void text_wrapped_unformatted(const std::string& text) {
    const float width = ImGui::GetContentRegionAvail().x;
    ImGui::PushTextWrapPos(0.0f);   // a word wider than the line is still cut rather than clipped
    const std::string lines = wrap(text, width > 3 ? width - 2 : 1);   // a hair inside, so ImGui never wraps it again
    ImGui::TextUnformatted(lines.c_str(), lines.c_str() + lines.size());
    ImGui::PopTextWrapPos();
}

void text_wrapped(const char* fmt, ...) {
    std::va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    char small[1024];
    const int n = std::vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(again);
        return;
    }
    if (size_t(n) < sizeof small) {
        va_end(again);
        text_wrapped_unformatted(small);
        return;
    }
    std::vector<char> big(size_t(n) + 1);
    std::vsnprintf(big.data(), big.size(), fmt, again);
    va_end(again);
    text_wrapped_unformatted(std::string(big.data(), size_t(n)));
}

void same_line_if_room(float width) {
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    const float x = ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x;
    if (x + width <= right) ImGui::SameLine();
}

float button_width(std::initializer_list<const char*> labels) {
    float w = 0;
    for (const char* l : labels) w = std::max(w, ImGui::CalcTextSize(l).x);
    return w + ImGui::GetStyle().FramePadding.x * 2;
}

std::string nobreak(const std::string& text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (char c : text) out += c == ' ' ? std::string("\u00a0") : std::string(1, c);
    return out;
}

}  // namespace cowlab
