#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

// One glyph from the signed distance field atlas. A text item is drawn in up to three
// passes over all its glyphs: shadow, outline, fill (so no outline covers a neighbour's fill).
//   c0 colour of this pass (premultiplied)
//   p0 = pass (0 fill, 1 outline, 2 shadow), opacity
//   p1 = local px per atlas px, outline width (local px), shadow blur (local px),
//        atlas value step per atlas px

layout(set = 1, binding = 0) uniform sampler2D u_atlas;

layout(location = 0) in vec2 v_local;
layout(location = 1) in vec2 v_uv;
layout(location = 2) flat in int v_inst;
layout(location = 3) flat in float v_pxscale;
layout(location = 0) out vec4 o_color;

void main()
{
    ck_inst I = insts[v_inst];
    float v = texture(u_atlas, v_uv).r * 255.0;
    float dist = (v - 128.0) / I.p1.w * I.p1.x; // local px, > 0 inside
    float cov;
    if (I.p0.x < 0.5) {
        cov = clamp(dist * v_pxscale + 0.5, 0.0, 1.0);
    } else if (I.p0.x < 1.5) {
        cov = clamp((dist + I.p1.y) * v_pxscale + 0.5, 0.0, 1.0);
    } else {
        float b = max(I.p1.z, 1.0 / v_pxscale);
        cov = smoothstep(-0.5 * b, 0.5 * b, dist);
    }
    o_color = I.c0 * (cov * I.p0.y);
}
