#version 450

// The composited frame (RGBA8, premultiplied over an opaque background) to NV12, BT.709
// limited range. One invocation converts a 4x2 block: two words of Y (one per row) and one
// word of interleaved CbCr (two chroma samples, each the average of a 2x2 block).
// engine/gpu/gpu_render.c has the CPU reference the tests compare against.

layout(local_size_x = 8, local_size_y = 8) in;

layout(set = 0, binding = 0) uniform sampler2D u_src;
layout(std430, set = 0, binding = 1) writeonly buffer ck_nv12 {
    uint words[];
};

layout(push_constant) uniform ck_nv12_push {
    ivec2 size;     // px, even
    uint y_stride;  // bytes, multiple of 4
    uint uv_offset; // bytes
    uint uv_stride; // bytes
} p;

const vec3 K = vec3(0.2126, 0.7152, 0.0722);

uint to_byte(float v)
{
    return uint(clamp(floor(v + 0.5), 0.0, 255.0));
}

void main()
{
    ivec2 b = ivec2(gl_GlobalInvocationID.xy);
    int x0 = b.x * 4, y0 = b.y * 2;
    if (x0 >= p.size.x || y0 >= p.size.y)
        return;
    uint yw0 = 0u, yw1 = 0u, uvw = 0u;
    for (int j = 0; j < 2; j++) {
        vec3 sum = vec3(0.0);
        for (int i = 0; i < 2; i++) {
            int x = min(x0 + j * 2 + i, p.size.x - 1);
            vec3 a = texelFetch(u_src, ivec2(x, y0), 0).rgb;
            vec3 c = texelFetch(u_src, ivec2(x, y0 + 1), 0).rgb;
            sum += a + c;
            uint sh = uint(j * 2 + i) * 8u;
            yw0 |= to_byte(16.0 + 219.0 * dot(a, K)) << sh;
            yw1 |= to_byte(16.0 + 219.0 * dot(c, K)) << sh;
        }
        vec3 m = sum * 0.25;
        float l = dot(m, K);
        uvw |= to_byte(128.0 + 224.0 * (m.b - l) / 1.8556) << (uint(j) * 16u);
        uvw |= to_byte(128.0 + 224.0 * (m.r - l) / 1.5748) << (uint(j) * 16u + 8u);
    }
    words[(uint(y0) * p.y_stride) / 4u + uint(b.x)] = yw0;
    words[(uint(y0 + 1) * p.y_stride) / 4u + uint(b.x)] = yw1;
    words[(p.uv_offset + uint(y0 / 2) * p.uv_stride) / 4u + uint(b.x)] = uvw;
}
