#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

// An image texture (premultiplied, mipmapped, trilinear) stretched over the box.
//   p0.w opacity

layout(set = 1, binding = 0) uniform sampler2D u_tex;

layout(location = 0) in vec2 v_local;
layout(location = 1) in vec2 v_uv;
layout(location = 2) flat in int v_inst;
layout(location = 3) flat in float v_pxscale;
layout(location = 0) out vec4 o_color;

void main()
{
    o_color = texture(u_tex, v_uv) * insts[v_inst].p0.w;
}
