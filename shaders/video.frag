#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

// A video frame from its Y, U and V planes (BT.709, limited range) to RGB, opaque.
//   p0.w opacity

layout(set = 1, binding = 0) uniform sampler2D u_y;
layout(set = 1, binding = 1) uniform sampler2D u_u;
layout(set = 1, binding = 2) uniform sampler2D u_v;

layout(location = 0) in vec2 v_local;
layout(location = 1) in vec2 v_uv;
layout(location = 2) flat in int v_inst;
layout(location = 3) flat in float v_pxscale;
layout(location = 0) out vec4 o_color;

void main()
{
    float y = (texture(u_y, v_uv).r * 255.0 - 16.0) / 219.0;
    float cb = (texture(u_u, v_uv).r * 255.0 - 128.0) / 224.0;
    float cr = (texture(u_v, v_uv).r * 255.0 - 128.0) / 224.0;
    vec3 rgb = vec3(y + 1.5748 * cr,
                    y - 0.187324 * cb - 0.468124 * cr,
                    y + 1.8556 * cb);
    o_color = vec4(clamp(rgb, 0.0, 1.0), 1.0) * insts[v_inst].p0.w;
}
