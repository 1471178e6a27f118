// lab_player.cpp: the lessons built into the lab, as the Player's catalogue.
#include "lab_player.h"

#include <cstdlib>

namespace cowlab {

cow::LessonCatalogue builtin_lessons() {
    cow::LessonCatalogue out;
    for (const char* const* n = lesson_source_names(); *n; ++n) out.push_back({std::string("lessons/") + *n, lesson_source(*n)});
    return out;
}

std::vector<cow::LessonInfo> builtin_lesson_infos() {
    std::vector<cow::LessonInfo> out;
    for (const char* const* f = lesson_source_index(); *f; f += 6) out.push_back({f[1], f[2], f[3], f[4], std::atoi(f[5])});
    cow::in_course_order(out);
    return out;
}

}  // namespace cowlab
