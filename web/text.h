// text.h: prose, and rows of controls, as the lab lays them out. ImGui's own wrapping breaks a line after
// any '.' or ',' ("CommitLimit 1." / "5 GiB"); here a line breaks only at a
// space, so a figure ("1,017.9 MiB") stays whole, and a no-break space (the
// one nobreak() puts in) holds a label to its value.
#pragma once

#include <initializer_list>
#include <string>

namespace cowlab {

// Like ImGui::TextWrapped: printf-style, wrapped to the content region's width.
void text_wrapped(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void text_wrapped_unformatted(const std::string& text);
// The text with each space a no-break space: "used 6.1 MiB" wraps as one word.
std::string nobreak(const std::string& text);
// Items in a row that wraps like words: the next item, `width` wide, goes on
// the same line as the last one if it fits there, else starts the next line.
void same_line_if_room(float width);
// The width of a button that says the longest of these labels.
float button_width(std::initializer_list<const char*> labels);

}  // namespace cowlab
