# Turns shaders/*.vert|frag into a C++ table: cowlab::shader_source("pagemap.frag").
# Usage: cmake -DOUT=<file.cpp> -P embed_shaders.cmake <shader files...>
set(body "")
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 0 ${last})
  set(arg "${CMAKE_ARGV${i}}")
  if(arg MATCHES "\\.(vert|frag)$")
    get_filename_component(name "${arg}" NAME)
    file(READ "${arg}" text)
    string(APPEND body "    {\"${name}\", R\"glsl(${text})glsl\"},\n")
  endif()
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from shaders/ by scripts/embed_shaders.cmake. Do not edit.\n#include <cstring>\nnamespace cowlab {\nstruct ShaderFile { const char* name; const char* text; };\nstatic const ShaderFile kShaders[] = {\n${body}    {nullptr, nullptr}};\nconst char* shader_source(const char* name) {\n    for (const ShaderFile* s = kShaders; s->name; ++s)\n        if (std::strcmp(s->name, name) == 0) return s->text;\n    return nullptr;\n}\n}  // namespace cowlab\n")
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${OUT}.tmp" "${OUT}")
