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

using cow::LessonInfo;

class Player : public cow::Player {
public:
    Player() : cow::Player(builtin_lessons()) {}
    static std::vector<LessonInfo> catalogue() { return cow::lesson_infos(builtin_lessons()); }
};

}  // namespace cowlab
