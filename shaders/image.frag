#version 450

// An image texture (premultiplied, mipmapped, trilinear) stretched over the box.
//   p0.w opacity

layout(set = 1, binding = 0) uniform sampler2D u_tex;

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
    o_color = texture(u_tex, v_uv) * v_p0.w;
}
