#version 450

// The NV12 output's fast path, second pass: the items above the background (text, shapes,
// images), drawn by the render pass into a colour target cleared to transparent, are blended
// "over" the NV12 frame yuv_bg.comp wrote, in YUV (BT.709 limited range, code values,
// o = (16, 128, 128)):
//   Y  = 16 + 219 K.c + (1 - a) (Y - 16)                      per pixel
//   Cb = 128 + M_cb mean(c) + (1 - mean(a)) (Cb - 128)        per 2x2 block, likewise Cr
// for the premultiplied overlay colour c and alpha a. Where nothing is drawn (c = a = 0) the
// frame comes back unchanged, exactly.
//
// Only the 64x16 px tiles the items touch: the CPU lists them (tx | ty << 16) after the tiles'
// pixels, which were copied out of the colour target packed, 4 KiB per tile; one workgroup per
// listed tile. 16-byte texels as in video_bg.comp: one invocation blends a 32x2 block: 16 RGBA
// texels (4 px each), 4 Y and 2 CbCr texels in, 4 Y and 2 CbCr texels out.
// Each CbCr word (two samples) covers 4 px in two rows: one overlay texel of each row.

layout(local_size_x = 2, local_size_y = 8) in;

layout(set = 0, binding = 0) uniform usamplerBuffer u_over;      // tiles, RGBA8, then the list
layout(set = 0, binding = 1, rgba32ui) uniform uimageBuffer u_dst; // the NV12 buffer

layout(push_constant) uniform ck_yuv_over_push {
    int width;     // output px, multiple of 32; also the NV12 strides (bytes)
    int height;    // px, even
    uint uv_off;   // 16-byte texels into u_dst: the CbCr plane
    uint list_off; // 16-byte texels into u_over: the tile list
} p;

const vec3 K = vec3(0.2126, 0.7152, 0.0722);

// floor(v + 0.5) clamped to 0..255 (truncation is floor once clamped at 0).
uint to_byte(float v)
{
    return uint(clamp(v + 0.5, 0.0, 255.0));
}

// No arrays or vector components indexed by a variable below (lavapipe keeps those in
// memory, per lane); bytes come out of words by shifts.

uint luma1(vec4 c, uint yw, int b)
{
    float y = float((yw >> (8 * b)) & 0xffu);
    return to_byte(16.0 + 219.0 * dot(c.rgb, K) + (1.0 - c.a) * (y - 16.0)) << (8 * b);
}

uint chroma1(vec4 m, uint uvw, int s)
{
    float l = dot(m.rgb, K);
    float cb = float((uvw >> (16 * s)) & 0xffu), cr = float((uvw >> (16 * s + 8)) & 0xffu);
    cb = 128.0 + 224.0 * (m.b - l) / 1.8556 + (1.0 - m.a) * (cb - 128.0);
    cr = 128.0 + 224.0 * (m.r - l) / 1.5748 + (1.0 - m.a) * (cr - 128.0);
    return (to_byte(cb) | (to_byte(cr) << 8)) << (16 * s);
}

// Four px wide, two rows: overlay texels o0, o1 (4 px each) over the luma words y0, y1 and
// the CbCr word uv (two samples): the three new words.
uvec3 blend(uvec4 o0, uvec4 o1, uint y0, uint y1, uint uv)
{
    vec4 a0 = unpackUnorm4x8(o0.x), a1 = unpackUnorm4x8(o0.y), a2 = unpackUnorm4x8(o0.z),
         a3 = unpackUnorm4x8(o0.w);
    vec4 b0 = unpackUnorm4x8(o1.x), b1 = unpackUnorm4x8(o1.y), b2 = unpackUnorm4x8(o1.z),
         b3 = unpackUnorm4x8(o1.w);
    return uvec3(luma1(a0, y0, 0) | luma1(a1, y0, 1) | luma1(a2, y0, 2) | luma1(a3, y0, 3),
                 luma1(b0, y1, 0) | luma1(b1, y1, 1) | luma1(b2, y1, 2) | luma1(b3, y1, 3),
                 chroma1(0.25 * (a0 + a1 + b0 + b1), uv, 0) |
                     chroma1(0.25 * (a2 + a3 + b2 + b3), uv, 1));
}

void main()
{
    uint wg = gl_WorkGroupID.x;
    uvec4 lt = texelFetch(u_over, int(p.list_off + wg / 4u));
    uint sel = wg % 4u;
    uint tile = sel == 0u ? lt.x : sel == 1u ? lt.y : sel == 2u ? lt.z : lt.w;
    int lx = int(gl_LocalInvocationID.x), ly = int(gl_LocalInvocationID.y);
    int x = int(tile & 0xffffu) * 64 + lx * 32, y = int(tile >> 16) * 16 + ly * 2;
    if (x >= p.width || y >= p.height)
        return;
    int row = p.width / 16; // NV12 texels per row
    int ot = int(wg) * 256 + ly * 32 + lx * 8; // the tile's px: 16 texels a row
    for (int h = 0; h < 2; h++) {
        int yt = y * row + x / 16 + h;
        int ct = int(p.uv_off) + (y / 2) * row + x / 16 + h;
        uvec4 y0 = imageLoad(u_dst, yt), y1 = imageLoad(u_dst, yt + row);
        uvec4 uv = imageLoad(u_dst, ct);
        int o = ot + h * 4;
        uvec3 r0 = blend(texelFetch(u_over, o), texelFetch(u_over, o + 16), y0.x, y1.x, uv.x);
        uvec3 r1 =
            blend(texelFetch(u_over, o + 1), texelFetch(u_over, o + 17), y0.y, y1.y, uv.y);
        uvec3 r2 =
            blend(texelFetch(u_over, o + 2), texelFetch(u_over, o + 18), y0.z, y1.z, uv.z);
        uvec3 r3 =
            blend(texelFetch(u_over, o + 3), texelFetch(u_over, o + 19), y0.w, y1.w, uv.w);
        imageStore(u_dst, yt, uvec4(r0.x, r1.x, r2.x, r3.x));
        imageStore(u_dst, yt + row, uvec4(r0.y, r1.y, r2.y, r3.y));
        imageStore(u_dst, ct, uvec4(r0.z, r1.z, r2.z, r3.z));
    }
}
