#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

// Everything per instance goes to the fragment shader as flat varyings: reading the
// instance buffer per fragment costs a gather per pixel on software rasterisers (lavapipe).

layout(location = 0) out vec2 v_local;
layout(location = 1) out vec2 v_uv;
layout(location = 2) flat out vec4 v_c0;
layout(location = 3) flat out vec4 v_c1;
layout(location = 4) flat out vec4 v_c2;
layout(location = 5) flat out vec4 v_p0;
layout(location = 6) flat out vec4 v_p1;
layout(location = 7) flat out vec4 v_box; // w, h, output px per local px, 0

void main()
{
    ck_inst I = insts[gl_InstanceIndex];
    vec2 corner = vec2(float(gl_VertexIndex & 1), float((gl_VertexIndex >> 1) & 1));
    vec2 local = mix(I.rect.xy, I.rect.zw, corner);
    vec2 canvas = vec2(I.xf.x * local.x + I.xf.z * local.y + I.tr.x,
                       I.xf.y * local.x + I.xf.w * local.y + I.tr.y);
    vec2 outp = canvas * pc.scale;
    gl_Position = vec4(outp / pc.size * 2.0 - 1.0, 0.0, 1.0);
    v_local = local;
    v_uv = mix(I.uv.xy, I.uv.zw, corner);
    v_c0 = I.c0;
    v_c1 = I.c1;
    v_c2 = I.c2;
    v_p0 = I.p0;
    v_p1 = I.p1;
    // Output px per local px (exact for uniform scale and rotation).
    v_box = vec4(I.tr.zw, sqrt(abs(I.xf.x * I.xf.w - I.xf.y * I.xf.z) * pc.scale.x * pc.scale.y),
                 0.0);
}
