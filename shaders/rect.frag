#version 450

// Rounded rectangle from its signed distance: solid or gradient fill, stroke inside the
// edge (like a CSS border), antialiased over one output pixel.
//   c0 fill, c1 fill2 (gradient end), c2 stroke (all premultiplied)
//   p0 = radius, stroke width, gradient (0/1), opacity;  p1.xy = gradient direction

layout(location = 0) in vec2 v_local;
layout(location = 1) in vec2 v_uv;
layout(location = 2) flat in vec4 v_c0;
layout(location = 3) flat in vec4 v_c1;
layout(location = 4) flat in vec4 v_c2;
layout(location = 5) flat in vec4 v_p0;
layout(location = 6) flat in vec4 v_p1;
layout(location = 7) flat in vec4 v_box; // w, h, output px per local px
layout(location = 0) out vec4 o_color;

float sd_round_box(vec2 p, vec2 half_size, float r)
{
    vec2 q = abs(p) - half_size + r;
    return length(max(q, 0.0)) + min(max(q.x, q.y), 0.0) - r;
}

void main()
{
    vec2 wh = v_box.xy;
    vec2 c = wh * 0.5;
    float r = clamp(v_p0.x, 0.0, min(c.x, c.y));
    float d = sd_round_box(v_local - c, c, r) * v_box.z; // output px, > 0 outside
    float sw = v_p0.y * v_box.z;
    float a_out = clamp(0.5 - d, 0.0, 1.0);
    float a_in = sw > 0.0 ? clamp(0.5 - (d + sw), 0.0, 1.0) : a_out;
    vec4 fill = v_c0;
    if (v_p0.z > 0.5) {
        vec2 dir = v_p1.xy;
        float ext = abs(wh.x * dir.x) + abs(wh.y * dir.y);
        float t = clamp(0.5 + dot(v_local - c, dir) / max(ext, 1e-6), 0.0, 1.0);
        fill = mix(v_c0, v_c1, t);
    }
    o_color = (fill * a_in + v_c2 * (a_out - a_in)) * v_p0.w;
}
