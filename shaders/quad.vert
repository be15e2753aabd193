#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(location = 0) out vec2 v_local;
layout(location = 1) out vec2 v_uv;
layout(location = 2) flat out int v_inst;
layout(location = 3) flat out float v_pxscale;

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
    v_inst = gl_InstanceIndex;
    // Output px per local px (exact for uniform scale and rotation).
    v_pxscale = sqrt(abs(I.xf.x * I.xf.w - I.xf.y * I.xf.z) * pc.scale.x * pc.scale.y);
}
