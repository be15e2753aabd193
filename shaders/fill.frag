#version 450

// The inside of a rounded rectangle, where rect.frag's coverage is exactly 1 and its stroke
// does not reach: only the fill (solid or gradient), with the same arithmetic as rect.frag so
// the pixels come out identical. The CPU splits axis-aligned shapes into this middle and four
// edge bands drawn with rect.frag: on lavapipe the signed distance costs most of a shape's
// time, and large cards and full-frame veils are mostly inside.
//   c0 fill, c1 fill2 (gradient end) (premultiplied)
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

void main()
{
    vec4 fill = v_c0;
    if (v_p0.z > 0.5) {
        vec2 wh = v_box.xy;
        vec2 c = wh * 0.5;
        vec2 dir = v_p1.xy;
        float ext = abs(wh.x * dir.x) + abs(wh.y * dir.y);
        float t = clamp(0.5 + dot(v_local - c, dir) / max(ext, 1e-6), 0.0, 1.0);
        fill = mix(v_c0, v_c1, t);
    }
    o_color = fill * v_p0.w;
}
