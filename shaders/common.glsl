// common.glsl: what every compositor shader shares (included by glslang at build time).
//
// One instance = one quad. The vertex shader builds the quad's corners from gl_VertexIndex
// (a 4-vertex triangle strip) and reads everything else from the instance buffer, which the
// CPU fills per frame (engine/gpu/gpu_render.c, struct gpu_inst: keep the two in sync).

struct ck_inst {
    vec4 xf;   // a b c d of the layer-local -> canvas affine transform
    vec4 tr;   // tx ty, then the layer box w h (local px)
    vec4 rect; // quad corners in local px: x0 y0 x1 y1
    vec4 uv;   // texture coordinates at the corners: u0 v0 u1 v1
    vec4 c0;   // premultiplied colours, meaning per kind
    vec4 c1;
    vec4 c2;
    vec4 p0;   // per kind parameters
    vec4 p1;
};

layout(std430, set = 0, binding = 0) readonly buffer ck_insts {
    ck_inst insts[];
};

layout(push_constant) uniform ck_push {
    vec2 size;  // output px
    vec2 scale; // output px per canvas px
} pc;
