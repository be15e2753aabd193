#version 450

// The NV12 output's fast path, first pass: the bottom layer is a video frame exactly the
// output's size placed 1:1 (video_bg.comp's case) and the frame is wanted as NV12 only, so the
// background is composited in YUV (BT.709 limited range) straight from the staged planes
// instead of going YUV -> RGBA -> YUV. "Over" is affine in the colour, so it holds in YUV:
// with o = (16, 128, 128) and M the RGB -> YCbCr matrix (code values),
//   out = M f + (1 - f.a) (c - o) + o,   c - o = op (v - o) + (1 - op) M bg
// for the video v at opacity op over the premultiplied background bg, under the folded
// full-frame shape f (premultiplied, the demos' gradient "shade"). Luma per pixel; chroma per
// 2x2 block straight from the 4:2:0 source sample, with f and f.a averaged over the block
// (what nv12.comp's 2x2 mean does to an RGB frame). No upsampling, no clamping in between.
//
// Texel buffers of 16-byte texels for the reasons video_bg.comp gives (lavapipe pays per
// memory access, not per byte): one invocation makes a 32x2 block: 4 Y, 1 U and 1 V texel
// in, 4 Y and 2 CbCr texels out. yuv_over.comp then blends the other items over it.

layout(local_size_x = 8, local_size_y = 8) in;

layout(set = 0, binding = 0) uniform usamplerBuffer u_src;                  // upload buffer
layout(set = 0, binding = 1, rgba32ui) uniform writeonly uimageBuffer u_dst; // the NV12 buffer

layout(push_constant) uniform ck_yuv_bg_push {
    vec4 base;     // xyz: (1 - op) M bg (offset YCbCr codes), w: op, the video's opacity
    uint y_off;    // 16-byte texels into u_src
    uint u_off;
    uint v_off;
    int width;     // px, multiple of 32; also the NV12 strides (bytes)
    int height;    // px, even
    uint uv_off;   // 16-byte texels into u_dst: the CbCr plane
    float pad0, pad1;
    vec4 over0;    // the folded shape's premultiplied colours (times its opacity) at t = 0
    vec4 over1;    // and 1 (zero when none),
    vec4 tcoef;    // t = clamp(tcoef.x + tcoef.y * x + tcoef.z * y) at pixel (x, y)
} p;

const vec3 K = vec3(0.2126, 0.7152, 0.0722);

float byte_of(uvec4 t, int b)
{
    return float((t[b >> 2] >> (8 * (b & 3))) & 0xffu);
}

uint to_byte(float v)
{
    return uint(clamp(floor(v + 0.5), 0.0, 255.0));
}

vec4 shade(int x, int y)
{
    float t = clamp(p.tcoef.x + p.tcoef.y * float(x) + p.tcoef.z * float(y), 0.0, 1.0);
    return mix(p.over0, p.over1, t);
}

void main()
{
    int bx = int(gl_GlobalInvocationID.x), by = int(gl_GlobalInvocationID.y);
    if (bx * 32 >= p.width || by * 2 >= p.height)
        return;
    int row = p.width / 16; // texels per luma row
    int crow = p.width / 32; // texels per chroma row (one plane)
    uvec4 ut = texelFetch(u_src, int(p.u_off) + by * crow + bx);
    uvec4 vt = texelFetch(u_src, int(p.v_off) + by * crow + bx);
    float op = p.base.w;
    // Chroma: 16 samples, each over a 2x2 block (the shape averaged over the block).
    uvec4 uvo[2];
    for (int h = 0; h < 2; h++) {
        for (int k = 0; k < 4; k++) {
            uint w = 0u;
            for (int s = 0; s < 2; s++) {
                int c = h * 8 + k * 2 + s; // chroma sample in the block
                int x = bx * 32 + c * 2, y = by * 2;
                vec4 f = 0.25 * (shade(x, y) + shade(x + 1, y) + shade(x, y + 1) +
                                 shade(x + 1, y + 1));
                float l = dot(f.rgb, K);
                float cb = op * (byte_of(ut, c) - 128.0) + p.base.y;
                float cr = op * (byte_of(vt, c) - 128.0) + p.base.z;
                cb = 128.0 + 224.0 * (f.b - l) / 1.8556 + (1.0 - f.a) * cb;
                cr = 128.0 + 224.0 * (f.r - l) / 1.5748 + (1.0 - f.a) * cr;
                w |= (to_byte(cb) | (to_byte(cr) << 8)) << (16 * s);
            }
            uvo[h][k] = w;
        }
    }
    int uvtex = int(p.uv_off) + by * row + bx * 2;
    imageStore(u_dst, uvtex, uvo[0]);
    imageStore(u_dst, uvtex + 1, uvo[1]);
    // Luma: 2 rows of 2 texels.
    for (int j = 0; j < 2; j++) {
        int y = by * 2 + j;
        for (int h = 0; h < 2; h++) {
            int at = y * row + bx * 2 + h;
            uvec4 yt = texelFetch(u_src, int(p.y_off) + at);
            uvec4 o;
            for (int k = 0; k < 4; k++) {
                uint w = 0u;
                for (int b = 0; b < 4; b++) {
                    int i = k * 4 + b;
                    vec4 f = shade(bx * 32 + h * 16 + i, y);
                    float v = op * (byte_of(yt, i) - 16.0) + p.base.x;
                    w |= to_byte(16.0 + 219.0 * dot(f.rgb, K) + (1.0 - f.a) * v) << (8 * b);
                }
                o[k] = w;
            }
            imageStore(u_dst, at, o);
        }
    }
}
