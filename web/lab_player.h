// lab_player.h: the lab's lesson player: the engine's Player
// (engine/lesson/player.h) over the lessons built into the lab.
#pragma once

#include <vector>

#include "engine.h"
#include "player.h"

namespace cowlab {

// The lessons built into the lab (lessons/*.json, embedded at build time).
const char* lesson_source(const char* file_name);
const char* const* lesson_source_names();
// The same, as a catalogue: {"lessons/fork-basics.json", text}, ...
cow::LessonCatalogue builtin_lessons();
// Their ids, titles, summaries and levels from the index the build writes (scripts/embed_files.cmake):
// listing the lessons parses none of them.
const char* const* lesson_source_index();
std::vector<cow::LessonInfo> builtin_lesson_infos();

using cow::LessonInfo;

class Player : public cow::Player {
public:
    Player() : cow::Player(builtin_lessons()) {}
    static std::vector<LessonInfo> catalogue() { return builtin_lesson_infos(); }
};

}  // namespace cowlab
