#version 450

// A video frame from its Y, U and V planes (BT.709, limited range) to RGB, opaque.
//   p0.w opacity

layout(set = 1, binding = 0) uniform sampler2D u_y;
layout(set = 1, binding = 1) uniform sampler2D u_u;
layout(set = 1, binding = 2) uniform sampler2D u_v;

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
    float y = (texture(u_y, v_uv).r * 255.0 - 16.0) / 219.0;
    float cb = (texture(u_u, v_uv).r * 255.0 - 128.0) / 224.0;
    float cr = (texture(u_v, v_uv).r * 255.0 - 128.0) / 224.0;
    vec3 rgb = vec3(y + 1.5748 * cr,
                    y - 0.187324 * cb - 0.468124 * cr,
                    y + 1.8556 * cb);
    o_color = vec4(clamp(rgb, 0.0, 1.0), 1.0) * v_p0.w;
}
