#version 450

// The bottom layer of a frame when it is a video frame exactly the output's size, placed 1:1
// (the common background): YUV 4:2:0 (BT.709 limited range) -> premultiplied RGBA "over" the
// background, read from the planes as staged in the slot's upload buffer and written to a
// buffer that is then copied into the colour target. That replaces the render pass' clear
// and a full-frame video.frag pass, which costs ~14 ms per 720p frame on lavapipe.
//
// Why texel buffers of 16-byte texels: on lavapipe every load or store of a storage buffer
// or image costs about 2 ns per invocation and component (a branch per SIMD lane), whatever
// its width; a texel buffer fetch or store moves 16 bytes (16 Y samples, 4 RGBA pixels) at
// that price. So one invocation converts a 32x2 block of pixels: 4 Y texels, 3 chroma rows
// of 18 samples per plane, 16 stores.
//
// Same result as video.frag drawn 1:1: luma texel for texel, chroma bilinear at the luma
// pixel's centre (weights 1/4, 3/4 along each axis, edges clamped), as its sampler does.

layout(local_size_x = 8, local_size_y = 8) in;

layout(set = 0, binding = 0) uniform usamplerBuffer u_src;                  // upload buffer
layout(set = 0, binding = 1, rgba32ui) uniform writeonly uimageBuffer u_dst; // RGBA8 x4

layout(push_constant) uniform ck_bg_push {
    vec4 bg;       // premultiplied background
    uint y_off;    // 16-byte texels into u_src
    uint u_off;
    uint v_off;
    int width;     // px, multiple of 32 (chroma rows are whole texels)
    int height;    // px, even
    float opacity; // the layer's
    vec4 over0;    // OVERLAY: the folded shape's premultiplied colours (times its opacity) at
    vec4 over1;    // t = 0 and 1,
    vec4 tcoef;    // t = clamp(tcoef.x + tcoef.y * x + tcoef.z * y) at pixel (x, y)
} p;

float byte_of(uvec4 t, int b)
{
    return float((t[b >> 2] >> (8 * (b & 3))) & 0xffu);
}

// One chroma row (clamped to the plane), columns 16bx-1 .. 16bx+16 (clamped).
void chroma_row(uint base, int bx, int row, out float c[18])
{
    int texels = p.width / 32;
    int at = int(base) + clamp(row, 0, p.height / 2 - 1) * texels + bx;
    uvec4 t = texelFetch(u_src, at);
    c[0] = bx > 0 ? byte_of(texelFetch(u_src, at - 1), 15) : byte_of(t, 0);
    for (int i = 0; i < 16; i++)
        c[i + 1] = byte_of(t, i);
    c[17] = bx < texels - 1 ? byte_of(texelFetch(u_src, at + 1), 0) : byte_of(t, 15);
}

// Specialisation constants, not branches: lavapipe runs both sides of a branch.
// OPAQUE: the video is fully opaque (the usual case), no blend with the background.
// OVERLAY: a shape covering the whole output right above the video (the demos' gradient
// "shade") is folded in here rather than costing a full-frame fragment pass of its own.
layout(constant_id = 0) const bool OPAQUE = false;
layout(constant_id = 1) const bool OVERLAY = false;

uint convert(float yb, float ub, float vb, int x, int y_px)
{
    float y = (yb - 16.0) / 219.0;
    float cb = (ub - 128.0) / 224.0;
    float cr = (vb - 128.0) / 224.0;
    vec3 rgb = clamp(vec3(y + 1.5748 * cr, y - 0.187324 * cb - 0.468124 * cr, y + 1.8556 * cb),
                     0.0, 1.0);
    if (OPAQUE && !OVERLAY) {
        uvec3 b = uvec3(rgb * 255.0 + 0.5); // packUnorm4x8 without the clamps and alpha
        return b.r | (b.g << 8) | (b.b << 16) | 0xff000000u;
    }
    vec4 c = vec4(rgb, 1.0);
    if (!OPAQUE) {
        c *= p.opacity;
        c += p.bg * (1.0 - c.a);
    }
    if (OVERLAY) {
        float t = clamp(p.tcoef.x + p.tcoef.y * float(x) + p.tcoef.z * float(y_px), 0.0, 1.0);
        vec4 f = mix(p.over0, p.over1, t);
        c = f + c * (1.0 - f.a);
    }
    return packUnorm4x8(c);
}

void main()
{
    int bx = int(gl_GlobalInvocationID.x), by = int(gl_GlobalInvocationID.y);
    if (bx * 32 >= p.width || by * 2 >= p.height)
        return;
    float u0[18], u1[18], u2[18], v0[18], v1[18], v2[18];
    chroma_row(p.u_off, bx, by - 1, u0);
    chroma_row(p.u_off, bx, by, u1);
    chroma_row(p.u_off, bx, by + 1, u2);
    chroma_row(p.v_off, bx, by - 1, v0);
    chroma_row(p.v_off, bx, by, v1);
    chroma_row(p.v_off, bx, by + 1, v2);
    for (int j = 0; j < 2; j++) {
        // Row 2by takes 1/4 of the chroma row above, row 2by+1 1/4 of the one below.
        float uc[18], vc[18];
        for (int c = 0; c < 18; c++) {
            uc[c] = j == 0 ? 0.25 * u0[c] + 0.75 * u1[c] : 0.75 * u1[c] + 0.25 * u2[c];
            vc[c] = j == 0 ? 0.25 * v0[c] + 0.75 * v1[c] : 0.75 * v1[c] + 0.25 * v2[c];
        }
        int y = by * 2 + j;
        int ytex = int(p.y_off) + y * (p.width / 16) + bx * 2;
        int otex = y * (p.width / 4) + bx * 8;
        for (int h = 0; h < 2; h++) {
            uvec4 yt = texelFetch(u_src, ytex + h);
            for (int q = 0; q < 4; q++) {
                uvec4 o;
                for (int k = 0; k < 4; k++) {
                    int i = h * 16 + q * 4 + k; // column in the block
                    int c = i / 2 + 1;          // its chroma sample in uc/vc
                    // Even columns take 1/4 of the chroma sample to the left, odd ones 1/4
                    // of the one to the right.
                    int n = (i & 1) == 0 ? c - 1 : c + 1;
                    o[k] = convert(byte_of(yt, q * 4 + k), 0.75 * uc[c] + 0.25 * uc[n],
                                   0.75 * vc[c] + 0.25 * vc[n], bx * 32 + i, y);
                }
                imageStore(u_dst, otex + h * 4 + q, o);
            }
        }
    }
}
