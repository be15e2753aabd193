#version 450

// One glyph from the signed distance field atlas. A text item is drawn in up to three
// passes over all its glyphs: shadow, outline, fill (so no outline covers a neighbour's fill).
//   c0 colour of this pass (premultiplied)
//   p0 = pass (0 fill, 1 outline, 2 shadow), opacity
//   p1 = local px per atlas px, outline width (local px), shadow blur (local px),
//        atlas value step per atlas px

layout(set = 1, binding = 0) uniform sampler2D u_atlas;

layout(location = 0) in vec2 v_local;
layout(location = 1) in vec2 v_uv;
layout(location = 2) flat in vec4 v_c0;
layout(location = 3) flat in vec4 v_c1;
layout(location = 4) flat in vec4 v_c2;
layout(location = 5) flat in vec4 v_p0;
layout(location = 6) flat in vec4 v_p1;
layout(location = 7) flat in vec4 v_box; // w, h, output px per local px
layout(location = 0) out vec4 o_color;

void main()
{
    float v = texture(u_atlas, v_uv).r * 255.0;
    float dist = (v - 128.0) / v_p1.w * v_p1.x; // local px, > 0 inside
    float cov;
    if (v_p0.x < 0.5) {
        cov = clamp(dist * v_box.z + 0.5, 0.0, 1.0);
    } else if (v_p0.x < 1.5) {
        cov = clamp((dist + v_p1.y) * v_box.z + 0.5, 0.0, 1.0);
    } else {
        float b = max(v_p1.z, 1.0 / v_box.z);
        cov = smoothstep(-0.5 * b, 0.5 * b, dist);
    }
    o_color = v_c0 * (cov * v_p0.y);
}
