// lab_player.cpp: the lessons built into the lab, as the Player's catalogue.
#include "lab_player.h"

namespace cowlab {

cow::LessonCatalogue builtin_lessons() {
    cow::LessonCatalogue out;
    for (const char* const* n = lesson_source_names(); *n; ++n) out.push_back({std::string("lessons/") + *n, lesson_source(*n)});
    return out;
}

}  // namespace cowlab
