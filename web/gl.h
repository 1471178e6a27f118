// gl.h: the one place that knows which OpenGL the lab runs on.
//   web:    WebGL2 through emscripten's GLES3 headers, GLSL "#version 300 es"
//   native: OpenGL 3.3 core through SDL's headers, GLSL "#version 330 core"
#pragma once

#ifdef __EMSCRIPTEN__
#include <GLES3/gl3.h>
#define COWLAB_GLSL_VERSION "#version 300 es\n"
#else
#define GL_GLEXT_PROTOTYPES 1
#include <SDL2/SDL_opengl.h>
#include <SDL2/SDL_opengl_glext.h>
#define COWLAB_GLSL_VERSION "#version 330 core\n"
#endif

namespace cowlab {
// Shader sources embedded from shaders/ at build time (scripts/embed_shaders.cmake).
const char* shader_source(const char* name);
}  // namespace cowlab
