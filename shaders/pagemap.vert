// pagemap.vert: one triangle that covers the viewport; the fragment shader
// does the work. No #version line: the app prepends one per target.
out vec2 v_uv;

void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    v_uv = vec2(p.x, 1.0 - p.y);   // (0,0) at the top left of the view
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
