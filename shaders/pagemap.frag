// pagemap.frag: physical memory, one cell per 4 KiB frame.
//
// u_frames is an R8 texture of u_tex_width columns holding one FrameCode per
// frame (engine/kernel/framemap.h). The colours are not copied here: u_palette
// is that header's kFramePalette, uploaded by web/pagemap.cpp, which also
// prepends COWLAB_FRAME_CODES (kFrameCodeCount) and COWLAB_FRAME_FREE (the code
// of a free frame) after the #version line. The view shows u_cols cells per
// row, starting at frame u_first, with u_cell_px pixels per cell; cells get a
// 1 px gap when they are large enough.
precision highp float;
precision highp int;

uniform sampler2D u_frames;
uniform int u_tex_width;
uniform int u_total;        // frames in the machine
uniform int u_cols;         // cells per row in the view
uniform int u_first;        // frame shown at the top-left cell
uniform vec2 u_view_px;     // size of the view in pixels
uniform float u_cell_px;    // size of one cell in pixels
uniform int u_hover;        // frame under the mouse, or -1
uniform sampler2D u_selection;  // R8 mask: 1 where the selected process maps the frame
uniform int u_has_selection;
uniform vec3 u_palette[COWLAB_FRAME_CODES];   // colour of each FrameCode

in vec2 v_uv;
out vec4 o_color;

void main() {
    vec2 px = v_uv * u_view_px;
    int col = int(floor(px.x / u_cell_px));
    int row = int(floor(px.y / u_cell_px));
    if (col >= u_cols) { o_color = vec4(0.07, 0.07, 0.08, 1.0); return; }
    int frame = u_first + row * u_cols + col;
    if (frame < 0 || frame >= u_total) { o_color = vec4(0.07, 0.07, 0.08, 1.0); return; }
    int code = int(texelFetch(u_frames, ivec2(frame % u_tex_width, frame / u_tex_width), 0).r * 255.0 + 0.5);
    vec3 c = u_palette[clamp(code, 0, COWLAB_FRAME_CODES - 1)];   // an unknown code: the last one's
    vec2 in_cell = fract(px / u_cell_px) * u_cell_px;
    if (u_cell_px >= 4.0 && (in_cell.x < 1.0 || in_cell.y < 1.0)) c *= 0.55;
    if (u_has_selection != 0 && code != COWLAB_FRAME_FREE) {
        float mine = texelFetch(u_selection, ivec2(frame % u_tex_width, frame / u_tex_width), 0).r;
        if (mine < 0.5) c = mix(c, vec3(0.09, 0.10, 0.12), 0.7);   // not the selected process's: dimmed
    }
    if (frame == u_hover) c = mix(c, vec3(1.0), 0.6);
    o_color = vec4(c, 1.0);
}
