#version 450

// The NV12 output's fast path, second pass: the items above the background (text, shapes,
// images), drawn by the render pass into a colour target cleared to transparent and copied
// (only their bounding box) into a buffer, are blended "over" the NV12 frame yuv_bg.comp
// wrote, in YUV (BT.709 limited range, code values, o = (16, 128, 128)):
//   Y  = 16 + 219 K.c + (1 - a) (Y - 16)                      per pixel
//   Cb = 128 + M_cb mean(c) + (1 - mean(a)) (Cb - 128)        per 2x2 block, likewise Cr
// for the premultiplied overlay colour c and alpha a. Where nothing is drawn (c = a = 0) the
// frame comes back unchanged, exactly.
//
// 16-byte texels as in video_bg.comp: one invocation blends a 32x2 block of the box: 16 RGBA
// texels (4 px each), 4 Y and 2 CbCr texels in, 4 Y and 2 CbCr texels out.

layout(local_size_x = 8, local_size_y = 8) in;

layout(set = 0, binding = 0) uniform usamplerBuffer u_over;      // the box, RGBA8, packed
layout(set = 0, binding = 1, rgba32ui) uniform uimageBuffer u_dst; // the NV12 buffer

layout(push_constant) uniform ck_yuv_over_push {
    int x0, y0;  // the box in px: x0 and w multiples of 32, y0 and h even
    int w, h;
    int width;   // output px, multiple of 32; also the NV12 strides (bytes)
    uint uv_off; // 16-byte texels into u_dst: the CbCr plane
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

void main()
{
    int bx = int(gl_GlobalInvocationID.x), by = int(gl_GlobalInvocationID.y);
    if (bx * 32 >= p.w || by * 2 >= p.h)
        return;
    int row = p.width / 16; // NV12 texels per row
    int orow = p.w / 4;     // overlay texels per row
    int ytex = (p.y0 + by * 2) * row + (p.x0 / 16) + bx * 2;
    int uvtex = int(p.uv_off) + (p.y0 / 2 + by) * row + p.x0 / 16 + bx * 2;
    // Per chroma sample: the sums of the overlay's colour and alpha over its 2x2 block.
    vec4 csum[16];
    for (int c = 0; c < 16; c++)
        csum[c] = vec4(0.0);
    for (int j = 0; j < 2; j++) {
        int otex = (by * 2 + j) * orow + bx * 8;
        for (int h = 0; h < 2; h++) {
            uvec4 yt = imageLoad(u_dst, ytex + j * row + h);
            uvec4 o;
            for (int q = 0; q < 4; q++) {
                uvec4 ov = texelFetch(u_over, otex + h * 4 + q);
                uint w = 0u;
                for (int k = 0; k < 4; k++) {
                    int i = h * 16 + q * 4 + k; // column in the block
                    vec4 c = unpackUnorm4x8(ov[k]);
                    csum[i / 2] += c;
                    float y = byte_of(yt, q * 4 + k);
                    w |= to_byte(16.0 + 219.0 * dot(c.rgb, K) + (1.0 - c.a) * (y - 16.0))
                         << (8 * k);
                }
                o[q] = w;
            }
            imageStore(u_dst, ytex + j * row + h, o);
        }
    }
    for (int h = 0; h < 2; h++) {
        uvec4 t = imageLoad(u_dst, uvtex + h);
        uvec4 o;
        for (int k = 0; k < 4; k++) {
            uint w = 0u;
            for (int s = 0; s < 2; s++) {
                int c = h * 8 + k * 2 + s;
                vec4 m = 0.25 * csum[c];
                float l = dot(m.rgb, K);
                float cb = byte_of(t, k * 4 + s * 2), cr = byte_of(t, k * 4 + s * 2 + 1);
                cb = 128.0 + 224.0 * (m.b - l) / 1.8556 + (1.0 - m.a) * (cb - 128.0);
                cr = 128.0 + 224.0 * (m.r - l) / 1.5748 + (1.0 - m.a) * (cr - 128.0);
                w |= (to_byte(cb) | (to_byte(cr) << 8)) << (16 * s);
            }
            o[k] = w;
        }
        imageStore(u_dst, uvtex + h, o);
    }
}
