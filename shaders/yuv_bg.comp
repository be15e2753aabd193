#version 450

// The NV12 output's fast path, first pass: the bottom layer is a video frame exactly the
// output's size placed 1:1 (video_bg.comp's case) and the frame is wanted as NV12 only, so the
// background is composited in YUV (BT.709 limited range, code values) straight from the staged
// planes instead of going YUV -> RGBA -> YUV. "Over" is affine in the colour, so it holds in
// YUV: with o = (16, 128, 128) and M the RGB -> YCbCr matrix,
//   out = M f + (1 - f.a) (c - o) + o,   c - o = op (v - o) + (1 - op) M bg
// for the video v at opacity op over the premultiplied background bg, under the folded
// full-frame shape f (premultiplied, the demos' gradient "shade"). f is linear in the
// gradient's t, so M f = k.x + k.y t and 1 - f.a = k.z + k.w t with constants made on the CPU.
// Luma per pixel; chroma per 2x2 block straight from the 4:2:0 source sample, with t averaged
// over the block (what nv12.comp's 2x2 mean does to an RGB frame). No upsampling, no clamping
// in between.
//
// Texel buffers of 16-byte texels for the reasons video_bg.comp gives (lavapipe pays per
// memory access, not per byte): one invocation makes a 32x2 block: 4 Y, 1 U and 1 V texel
// in, 4 Y and 2 CbCr texels out. yuv_over.comp then blends the other items over it.

layout(local_size_x = 8, local_size_y = 8) in;

layout(set = 0, binding = 0) uniform usamplerBuffer u_src;                  // upload buffer
layout(set = 0, binding = 1, rgba32ui) uniform writeonly uimageBuffer u_dst; // the NV12 buffer

layout(push_constant) uniform ck_yuv_bg_push {
    vec4 ky;    // Y: M f = ky.x + ky.y t, 1 - f.a = ky.z + ky.w t
    vec4 kc;    // Cb: M f = kc.x + kc.y t, Cr: kc.z + kc.w t (1 - f.a as for Y)
    vec4 base;  // xyz: (1 - op) M bg, w: op, the video's opacity
    uint y_off; // 16-byte texels into u_src
    uint u_off;
    uint v_off;
    int width;   // px, multiple of 32; also the NV12 strides (bytes)
    int height;  // px, even
    uint uv_off; // 16-byte texels into u_dst: the CbCr plane
    float pad0, pad1;
    vec4 tcoef; // t = clamp(tcoef.x + tcoef.y * x + tcoef.z * y) at pixel (x, y)
} p;

// floor(v + 0.5) clamped to 0..255 (truncation is floor once clamped at 0).
uint to_byte(float v)
{
    return uint(clamp(v + 0.5, 0.0, 255.0));
}

// No arrays or vector components indexed by a variable below: lavapipe keeps those in
// memory, per lane, which costs more than the whole conversion. Bytes are taken out of
// words by shifts instead.

// Four luma px from the word yw; t: the first px's gradient parameter, unclamped.
uint luma4(uint yw, float t)
{
    uint w = 0u;
    for (int b = 0; b < 4; b++) {
        float tb = clamp(t + p.tcoef.y * float(b), 0.0, 1.0);
        float v = p.base.w * (float((yw >> (8 * b)) & 0xffu) - 16.0) + p.base.x;
        w |= to_byte(16.0 + p.ky.x + p.ky.y * tb + (p.ky.z + p.ky.w * tb) * v) << (8 * b);
    }
    return w;
}

uvec4 luma16(uvec4 yt, float t)
{
    float d = 4.0 * p.tcoef.y;
    return uvec4(luma4(yt.x, t), luma4(yt.y, t + d), luma4(yt.z, t + 2.0 * d),
                 luma4(yt.w, t + 3.0 * d));
}

// Two CbCr pairs from chroma samples first, first + 1 of the words uw, vw (4 samples each);
// t0, t1: the parameter at the word's first px in the block's two rows, unclamped.
uint chroma2(uint uw, uint vw, int first, float t0, float t1)
{
    float dt = p.tcoef.y;
    uint w = 0u;
    for (int s = 0; s < 2; s++) {
        int c = first + s;
        float xa = dt * float(2 * c), xb = xa + dt;
        float t = 0.25 * (clamp(t0 + xa, 0.0, 1.0) + clamp(t0 + xb, 0.0, 1.0) +
                          clamp(t1 + xa, 0.0, 1.0) + clamp(t1 + xb, 0.0, 1.0));
        float keep = p.ky.z + p.ky.w * t;
        float cb = p.base.w * (float((uw >> (8 * c)) & 0xffu) - 128.0) + p.base.y;
        float cr = p.base.w * (float((vw >> (8 * c)) & 0xffu) - 128.0) + p.base.z;
        cb = 128.0 + p.kc.x + p.kc.y * t + keep * cb;
        cr = 128.0 + p.kc.z + p.kc.w * t + keep * cr;
        w |= (to_byte(cb) | (to_byte(cr) << 8)) << (16 * s);
    }
    return w;
}

// Eight CbCr pairs (one output texel) from words a, b of the U and V texels.
uvec4 chroma8(uint ua, uint va, uint ub, uint vb, float t0, float t1)
{
    float d = 8.0 * p.tcoef.y; // a word of chroma covers 8 px
    return uvec4(chroma2(ua, va, 0, t0, t1), chroma2(ua, va, 2, t0, t1),
                 chroma2(ub, vb, 0, t0 + d, t1 + d), chroma2(ub, vb, 2, t0 + d, t1 + d));
}

void main()
{
    int bx = int(gl_GlobalInvocationID.x), by = int(gl_GlobalInvocationID.y);
    if (bx * 32 >= p.width || by * 2 >= p.height)
        return;
    int row = p.width / 16;  // texels per luma row
    int crow = p.width / 32; // texels per chroma row (one plane)
    float dt = p.tcoef.y;
    // The parameter at the block's first px of each row, unclamped.
    float t0 = p.tcoef.x + dt * float(bx * 32) + p.tcoef.z * float(by * 2);
    float t1 = t0 + p.tcoef.z;

    uvec4 ut = texelFetch(u_src, int(p.u_off) + by * crow + bx);
    uvec4 vt = texelFetch(u_src, int(p.v_off) + by * crow + bx);
    int uvtex = int(p.uv_off) + by * row + bx * 2;
    imageStore(u_dst, uvtex, chroma8(ut.x, vt.x, ut.y, vt.y, t0, t1));
    imageStore(u_dst, uvtex + 1,
               chroma8(ut.z, vt.z, ut.w, vt.w, t0 + 16.0 * dt, t1 + 16.0 * dt));
    for (int j = 0; j < 2; j++) {
        float tr = j == 0 ? t0 : t1;
        for (int h = 0; h < 2; h++) {
            int at = (by * 2 + j) * row + bx * 2 + h;
            uvec4 yt = texelFetch(u_src, int(p.y_off) + at);
            imageStore(u_dst, at, luma16(yt, tr + 16.0 * dt * float(h)));
        }
    }
}
