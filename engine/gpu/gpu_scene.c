/* gpu_scene.c: a scene's GPU resources, made once: render pass, pipelines, sampler, the glyph
 * atlas, image textures (decoded, premultiplied, mipmapped on the CPU, uploaded once), video
 * texture slots, the fonts for glyph rasterisation, and the ring of frame slots. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ck_gpu_shaders.h"
#include "gpu_internal.h"

/* ---- pipelines ---- */
static ck_status make_shader(ck_gpu *gpu, const uint32_t *code, size_t size, VkShaderModule *out,
                             ck_error *err)
{
    ck_status st = CK_OK;
    VkShaderModuleCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = size,
        .pCode = code,
    };
    VK_TRY(vkCreateShaderModule(gpu->device, &ci, NULL, out));
    return CK_OK;
error:
    return st;
}

static ck_status make_layouts(ck_gpu_scene *sg, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    VkDescriptorSetLayoutBinding inst = {0, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                         VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT,
                                         NULL};
    VkDescriptorSetLayoutCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 1,
        .pBindings = &inst,
    };
    VK_TRY(vkCreateDescriptorSetLayout(gpu->device, &ci, NULL, &sg->inst_layout));
    GPU_CREATED(gpu);

    VkDescriptorSetLayoutBinding tex[3];
    for (uint32_t i = 0; i < 3; i++)
        tex[i] = (VkDescriptorSetLayoutBinding){i, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1,
                                                VK_SHADER_STAGE_FRAGMENT_BIT, NULL};
    ci.bindingCount = 3;
    ci.pBindings = tex;
    VK_TRY(vkCreateDescriptorSetLayout(gpu->device, &ci, NULL, &sg->tex_layout));
    GPU_CREATED(gpu);

    VkDescriptorSetLayoutBinding nv[2] = {
        {0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {1, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
    };
    ci.bindingCount = 2;
    ci.pBindings = nv;
    VK_TRY(vkCreateDescriptorSetLayout(gpu->device, &ci, NULL, &sg->nv12_layout));
    GPU_CREATED(gpu);

    VkDescriptorSetLayoutBinding bg[2] = {
        {0, VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {1, VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
    };
    ci.bindingCount = 2;
    ci.pBindings = bg;
    VK_TRY(vkCreateDescriptorSetLayout(gpu->device, &ci, NULL, &sg->bg_layout));
    GPU_CREATED(gpu);

    VkDescriptorSetLayout sets[2] = {sg->inst_layout, sg->tex_layout};
    VkPushConstantRange pcr = {VK_SHADER_STAGE_VERTEX_BIT, 0, 16};
    VkPipelineLayoutCreateInfo pli = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 2,
        .pSetLayouts = sets,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pcr,
    };
    VK_TRY(vkCreatePipelineLayout(gpu->device, &pli, NULL, &sg->layout));
    GPU_CREATED(gpu);

    VkPushConstantRange cpcr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, 20};
    pli.setLayoutCount = 1;
    pli.pSetLayouts = &sg->nv12_layout;
    pli.pPushConstantRanges = &cpcr;
    VK_TRY(vkCreatePipelineLayout(gpu->device, &pli, NULL, &sg->nv12_playout));
    GPU_CREATED(gpu);

    VkPushConstantRange bpcr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, 96};
    pli.pSetLayouts = &sg->bg_layout;
    pli.pPushConstantRanges = &bpcr;
    VK_TRY(vkCreatePipelineLayout(gpu->device, &pli, NULL, &sg->bg_playout));
    GPU_CREATED(gpu);
    return CK_OK;
error:
    return st;
}

static ck_status make_render_pass(ck_gpu_scene *sg, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    VkAttachmentDescription att = {
        .format = VK_FORMAT_R8G8B8A8_UNORM,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR,
        .storeOp = VK_ATTACHMENT_STORE_OP_STORE,
        .stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE,
        .stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
        /* GENERAL: the NV12 shader samples it and the RGBA readback copies it, no more
         * transitions needed. */
        .finalLayout = VK_IMAGE_LAYOUT_GENERAL,
    };
    VkAttachmentReference ref = {0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
    VkSubpassDescription sub = {
        .pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS,
        .colorAttachmentCount = 1,
        .pColorAttachments = &ref,
    };
    VkSubpassDependency deps[2] = {
        {
            /* Previous users of the image (last frame's compute / copy in this slot), the
             * uploads recorded before the pass (glyphs, video planes) and, for pass_load,
             * the copy of video_bg.comp's frame into it. One set of dependencies for both
             * passes: compatible render passes must have identical ones. */
            .srcSubpass = VK_SUBPASS_EXTERNAL,
            .dstSubpass = 0,
            .srcStageMask = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT |
                            VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
            .dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask =
                VK_ACCESS_COLOR_ATTACHMENT_READ_BIT | VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
        },
        {
            .srcSubpass = 0,
            .dstSubpass = VK_SUBPASS_EXTERNAL,
            .srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT,
            .dstStageMask = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            .srcAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT,
        },
    };
    VkRenderPassCreateInfo rci = {
        .sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO,
        .attachmentCount = 1,
        .pAttachments = &att,
        .subpassCount = 1,
        .pSubpasses = &sub,
        .dependencyCount = 2,
        .pDependencies = deps,
    };
    VK_TRY(vkCreateRenderPass(gpu->device, &rci, NULL, &sg->pass));
    GPU_CREATED(gpu);

    /* The same pass over a colour target that already holds the bottom layer (copied from
     * video_bg.comp's output, GENERAL): load it instead of clearing. Only load op and layouts
     * differ, so the two are compatible and share pipelines and framebuffers. */
    att.loadOp = VK_ATTACHMENT_LOAD_OP_LOAD;
    att.initialLayout = VK_IMAGE_LAYOUT_GENERAL;
    VK_TRY(vkCreateRenderPass(gpu->device, &rci, NULL, &sg->pass_load));
    GPU_CREATED(gpu);
    return CK_OK;
error:
    return st;
}

/* Every shader: its source name in shaders/ and its built-in SPIR-V. */
typedef struct shader_src {
    const char *name;
    const uint32_t *code;
    const size_t *size;
} shader_src;

enum {
    SH_QUAD,
    SH_RECT,
    SH_IMAGE,
    SH_VIDEO,
    SH_TEXT,
    SH_FILL,
    SH_NV12,
    SH_VIDEO_BG,
    SH_YUV_BG,
    SH_YUV_OVER,
    SH_COUNT
};

static const shader_src shaders[SH_COUNT] = {
    [SH_QUAD] = {"quad.vert", ck_spv_quad_vert, &ck_spv_quad_vert_size},
    [SH_RECT] = {"rect.frag", ck_spv_rect_frag, &ck_spv_rect_frag_size},
    [SH_IMAGE] = {"image.frag", ck_spv_image_frag, &ck_spv_image_frag_size},
    [SH_VIDEO] = {"video.frag", ck_spv_video_frag, &ck_spv_video_frag_size},
    [SH_TEXT] = {"text.frag", ck_spv_text_frag, &ck_spv_text_frag_size},
    [SH_FILL] = {"fill.frag", ck_spv_fill_frag, &ck_spv_fill_frag_size},
    [SH_NV12] = {"nv12.comp", ck_spv_nv12_comp, &ck_spv_nv12_comp_size},
    [SH_VIDEO_BG] = {"video_bg.comp", ck_spv_video_bg_comp, &ck_spv_video_bg_comp_size},
    [SH_YUV_BG] = {"yuv_bg.comp", ck_spv_yuv_bg_comp, &ck_spv_yuv_bg_comp_size},
    [SH_YUV_OVER] = {"yuv_over.comp", ck_spv_yuv_over_comp, &ck_spv_yuv_over_comp_size},
};

const char *const *ck_gpu_shader_sources(size_t *count)
{
    static const char *names[SH_COUNT];
    for (int i = 0; i < SH_COUNT; i++)
        names[i] = shaders[i].name;
    *count = SH_COUNT;
    return names;
}

/* Makes shader `which` from the built-in SPIR-V, or from <dir>/<name>.spv when dir is set. */
static ck_status load_shader(ck_gpu *gpu, const char *dir, int which, VkShaderModule *out,
                             ck_error *err)
{
    const shader_src *sh = &shaders[which];
    if (!dir)
        return make_shader(gpu, sh->code, *sh->size, out, err);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.spv", dir, sh->name);
    char *code = NULL;
    size_t len = 0;
    ck_status st = ck_read_file(path, 16u << 20, &code, &len, err);
    if (st != CK_OK)
        return st;
    uint32_t magic = 0;
    if (len >= 4)
        memcpy(&magic, code, 4);
    if (len < 20 || len % 4 || magic != 0x07230203u) {
        free(code);
        return ck_error_set(err, CK_ERR_INVALID, path, 0, 0, "not a SPIR-V module");
    }
    /* ck_read_file's buffer comes from malloc, so it is aligned for uint32_t. */
    st = make_shader(gpu, (const uint32_t *)(void *)code, len, out, err);
    free(code);
    return st;
}

static ck_status make_pipelines(ck_gpu_scene *sg, const char *shader_dir, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    enum { FRAG_RECT, FRAG_IMAGE, FRAG_VIDEO, FRAG_TEXT, FRAG_FILL, FRAG_COUNT };
    static const int frag_of[PIPE_COUNT] = {FRAG_RECT, FRAG_IMAGE, FRAG_VIDEO, FRAG_TEXT,
                                            FRAG_FILL, FRAG_FILL,  FRAG_VIDEO};
    VkShaderModule vert = VK_NULL_HANDLE, frag[FRAG_COUNT] = {0}, comp = VK_NULL_HANDLE,
                   bg = VK_NULL_HANDLE, ybg = VK_NULL_HANDLE, yover = VK_NULL_HANDLE;
    if ((st = load_shader(gpu, shader_dir, SH_QUAD, &vert, err)) ||
        (st = load_shader(gpu, shader_dir, SH_RECT, &frag[FRAG_RECT], err)) ||
        (st = load_shader(gpu, shader_dir, SH_IMAGE, &frag[FRAG_IMAGE], err)) ||
        (st = load_shader(gpu, shader_dir, SH_VIDEO, &frag[FRAG_VIDEO], err)) ||
        (st = load_shader(gpu, shader_dir, SH_TEXT, &frag[FRAG_TEXT], err)) ||
        (st = load_shader(gpu, shader_dir, SH_FILL, &frag[FRAG_FILL], err)) ||
        (st = load_shader(gpu, shader_dir, SH_NV12, &comp, err)) ||
        (st = load_shader(gpu, shader_dir, SH_VIDEO_BG, &bg, err)) ||
        (sg->yuv_fast && ((st = load_shader(gpu, shader_dir, SH_YUV_BG, &ybg, err)) ||
                          (st = load_shader(gpu, shader_dir, SH_YUV_OVER, &yover, err)))))
        goto error;

    VkPipelineVertexInputStateCreateInfo vi = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
    VkPipelineInputAssemblyStateCreateInfo ia = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO,
        .topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_STRIP,
    };
    VkViewport vp = {0, 0, (float)sg->width, (float)sg->height, 0, 1};
    VkRect2D sc = {{0, 0}, {(uint32_t)sg->width, (uint32_t)sg->height}};
    VkPipelineViewportStateCreateInfo vps = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO,
        .viewportCount = 1,
        .pViewports = &vp,
        .scissorCount = 1,
        .pScissors = &sc,
    };
    VkPipelineRasterizationStateCreateInfo rs = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO,
        .polygonMode = VK_POLYGON_MODE_FILL,
        .cullMode = VK_CULL_MODE_NONE,
        .frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE,
        .lineWidth = 1.0f,
    };
    VkPipelineMultisampleStateCreateInfo ms = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO,
        .rasterizationSamples = VK_SAMPLE_COUNT_1_BIT,
    };
    /* Premultiplied alpha "over". */
    VkPipelineColorBlendAttachmentState blend = {
        .blendEnable = VK_TRUE,
        .srcColorBlendFactor = VK_BLEND_FACTOR_ONE,
        .dstColorBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
        .colorBlendOp = VK_BLEND_OP_ADD,
        .srcAlphaBlendFactor = VK_BLEND_FACTOR_ONE,
        .dstAlphaBlendFactor = VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA,
        .alphaBlendOp = VK_BLEND_OP_ADD,
        .colorWriteMask = 0xf,
    };
    VkPipelineColorBlendStateCreateInfo cb = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO,
        .attachmentCount = 1,
        .pAttachments = &blend,
    };
    /* The scissor is set per frame: the whole output, or on the YUV path the overlays' box
     * (the render area) so nothing is drawn outside it. */
    VkDynamicState dyn_states[1] = {VK_DYNAMIC_STATE_SCISSOR};
    VkPipelineDynamicStateCreateInfo dyn = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO,
        .dynamicStateCount = 1,
        .pDynamicStates = dyn_states,
    };
    for (int i = 0; i < PIPE_COUNT; i++) {
        blend.blendEnable = i == PIPE_FILL_OPAQUE || i == PIPE_VIDEO_OPAQUE ? VK_FALSE : VK_TRUE;
        VkPipelineShaderStageCreateInfo stages[2] = {
            {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
             .stage = VK_SHADER_STAGE_VERTEX_BIT,
             .module = vert,
             .pName = "main"},
            {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
             .stage = VK_SHADER_STAGE_FRAGMENT_BIT,
             .module = frag[frag_of[i]],
             .pName = "main"},
        };
        VkGraphicsPipelineCreateInfo gp = {
            .sType = VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO,
            .stageCount = 2,
            .pStages = stages,
            .pVertexInputState = &vi,
            .pInputAssemblyState = &ia,
            .pViewportState = &vps,
            .pRasterizationState = &rs,
            .pMultisampleState = &ms,
            .pColorBlendState = &cb,
            .pDynamicState = &dyn,
            .layout = sg->layout,
            .renderPass = sg->pass,
            .subpass = 0,
        };
        VK_TRY(vkCreateGraphicsPipelines(gpu->device, VK_NULL_HANDLE, 1, &gp, NULL, &sg->pipes[i]));
        GPU_CREATED(gpu);
    }
    /* The compute modules stay for gpu_compute_pipe: made here on the GPU path, on first use
     * on the CPU path. */
    sg->cmod[0] = comp;
    sg->cmod[1] = bg;
    sg->cmod[2] = ybg;
    sg->cmod[3] = yover;
    comp = bg = ybg = yover = VK_NULL_HANDLE;
    for (int i = 0; i < GPU_CP_COUNT && !sg->cpu_path && st == CK_OK; i++)
        if (sg->yuv_fast || i < GPU_CP_YUV_BG)
            st = gpu_compute_pipe(sg, i, err);
error:
    /* Modules are only needed while making pipelines. */
    if (vert)
        vkDestroyShaderModule(gpu->device, vert, NULL);
    for (int i = 0; i < FRAG_COUNT; i++)
        if (frag[i])
            vkDestroyShaderModule(gpu->device, frag[i], NULL);
    if (comp)
        vkDestroyShaderModule(gpu->device, comp, NULL);
    if (bg)
        vkDestroyShaderModule(gpu->device, bg, NULL);
    if (ybg)
        vkDestroyShaderModule(gpu->device, ybg, NULL);
    if (yover)
        vkDestroyShaderModule(gpu->device, yover, NULL);
    return st;
}

ck_status gpu_compute_pipe(ck_gpu_scene *sg, int which, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    VkPipeline *out = which == GPU_CP_NV12       ? &sg->nv12_pipe
                      : which == GPU_CP_YUV_BG   ? &sg->yuv_bg_pipe
                      : which == GPU_CP_YUV_OVER ? &sg->yuv_over_pipe
                                                 : &sg->bg_pipes[which - GPU_CP_BG];
    if (*out)
        return CK_OK;
    int mod = which == GPU_CP_NV12 ? 0 : which < GPU_CP_YUV_BG ? 1 : which == GPU_CP_YUV_BG ? 2 : 3;
    int variant = which - GPU_CP_BG;
    VkBool32 flags[2] = {(VkBool32)(variant & 1), (VkBool32)(variant >> 1)}; /* OPAQUE, OVERLAY */
    VkSpecializationMapEntry me[2] = {{0, 0, sizeof(VkBool32)},
                                      {1, sizeof(VkBool32), sizeof(VkBool32)}};
    VkSpecializationInfo si = {2, me, sizeof flags, flags};
    /* The YUV path's two passes share video_bg.comp's layouts (a texel buffer in, a storage
     * texel buffer out, 96 bytes of push constants). */
    VkComputePipelineCreateInfo cp = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = sg->cmod[mod],
                  .pName = "main",
                  .pSpecializationInfo = mod == 1 ? &si : NULL},
        .layout = which == GPU_CP_NV12 ? sg->nv12_playout : sg->bg_playout,
    };
    if (!cp.stage.module)
        return ck_error_set(err, CK_ERR_GPU, NULL, 0, 0, "compute pipeline %d: no shader", which);
    VK_TRY(vkCreateComputePipelines(gpu->device, VK_NULL_HANDLE, 1, &cp, NULL, out));
    GPU_CREATED(gpu);
    return CK_OK;
error:
    return st;
}

/* ---- descriptor sets ---- */
static ck_status alloc_set(ck_gpu_scene *sg, VkDescriptorSetLayout layout, VkDescriptorSet *out,
                           ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = sg->dpool,
        .descriptorSetCount = 1,
        .pSetLayouts = &layout,
    };
    VK_TRY(vkAllocateDescriptorSets(gpu->device, &ai, out));
    return CK_OK;
error:
    return st;
}

void gpu_texture_write_set(ck_gpu_scene *sg, gpu_texture *t, int planes)
{
    VkDescriptorImageInfo ii[3];
    VkWriteDescriptorSet w[3];
    for (int i = 0; i < 3; i++) {
        /* Images and the atlas bind their one image to all three slots. */
        const gpu_image *im = &t->img[planes == 3 ? i : 0];
        ii[i] = (VkDescriptorImageInfo){sg->sampler, im->view,
                                        VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = t->set,
            .dstBinding = (uint32_t)i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
            .pImageInfo = &ii[i],
        };
    }
    vkUpdateDescriptorSets(sg->gpu->device, 3, w, 0, NULL);
}

/* ---- fonts ---- */
static ck_status load_fonts(ck_gpu_scene *sg, const ck_fontset *fonts, ck_error *err)
{
    const ck_scene *s = sg->scene;
    for (int i = 0; i < s->asset_count; i++) {
        const ck_asset *a = &s->assets[i];
        if (a->kind != CK_ASSET_FONT)
            continue;
        gpu_font *f = &sg->fonts[i];
        const uint8_t *data = NULL;
        size_t size = 0;
        if (fonts && i < fonts->count && fonts->fonts[i])
            data = ck_font_data(fonts->fonts[i], &size);
        if (!data) {
            char *buf = NULL;
            ck_error e;
            if (ck_read_file(a->path, 64u << 20, &buf, &size, &e) != CK_OK)
                return ck_error_set(err, CK_ERR_IO, s->file, a->pos.line, a->pos.col,
                                    "font asset \"%s\": cannot read \"%s\": %s", a->id, a->path,
                                    e.msg);
            f->owned = (uint8_t *)buf;
            data = f->owned;
        }
        const char *reason = "";
        f->ttf = gpu_ttf_open(data, size, &f->glyph_count, &reason);
        if (!f->ttf)
            return ck_error_set(err, CK_ERR_PARSE, s->file, a->pos.line, a->pos.col,
                                "font asset \"%s\" (%s): %s", a->id, a->path, reason);
    }
    return CK_OK;
}

/* ---- images ---- */
static int mip_levels(int w, int h)
{
    int n = 1;
    while ((w > 1 || h > 1) && n < 16) {
        w = w > 1 ? w / 2 : 1;
        h = h > 1 ? h / 2 : 1;
        n++;
    }
    return n;
}

/* Premultiplied 2x2 box filter from one level to the next (odd edges repeat the last texel). */
static void downsample(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh)
{
    for (int y = 0; y < dh; y++) {
        int y0 = y * 2 < sh ? y * 2 : sh - 1, y1 = y * 2 + 1 < sh ? y * 2 + 1 : sh - 1;
        for (int x = 0; x < dw; x++) {
            int x0 = x * 2 < sw ? x * 2 : sw - 1, x1 = x * 2 + 1 < sw ? x * 2 + 1 : sw - 1;
            for (int c = 0; c < 4; c++) {
                int v = src[((size_t)y0 * sw + x0) * 4 + c] + src[((size_t)y0 * sw + x1) * 4 + c] +
                        src[((size_t)y1 * sw + x0) * 4 + c] + src[((size_t)y1 * sw + x1) * 4 + c];
                dst[((size_t)y * dw + x) * 4 + c] = (uint8_t)((v + 2) / 4);
            }
        }
    }
}

static ck_status load_image(ck_gpu_scene *sg, int asset, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    const ck_scene *s = sg->scene;
    const ck_asset *a = &s->assets[asset];
    gpu_texture *t = &sg->textures[asset];
    ck_status st = CK_OK;
    char *file = NULL;
    size_t len = 0;
    uint8_t *px = NULL;
    gpu_buffer staging = {0};
    ck_error e;

    if (ck_read_file(a->path, 256u << 20, &file, &len, &e) != CK_OK)
        return ck_error_set(err, CK_ERR_IO, s->file, a->pos.line, a->pos.col,
                            "image asset \"%s\": cannot read \"%s\": %s", a->id, a->path, e.msg);
    int w = 0, h = 0;
    const char *reason = NULL;
    px = gpu_stb_decode((const uint8_t *)file, len, &w, &h, &reason);
    free(file);
    if (!px)
        return ck_error_set(err, CK_ERR_PARSE, s->file, a->pos.line, a->pos.col,
                            "image asset \"%s\" (%s): cannot decode: %s (PNG and JPEG only)", a->id,
                            a->path, reason ? reason : "unknown format");

    int levels = mip_levels(w, h);
    size_t total = 0;
    for (int l = 0, lw = w, lh = h;
         l<levels; l++, lw = lw> 1 ? lw / 2 : 1, lh = lh > 1 ? lh / 2 : 1)
        total += (size_t)lw * lh * 4;
    if ((st = gpu_buffer_create(gpu, total, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true, &staging, err)))
        goto error;
    uint8_t *dst = staging.map;
    /* Level 0, premultiplied (rounded). */
    for (size_t i = 0; i < (size_t)w * h; i++) {
        unsigned al = px[i * 4 + 3];
        for (int c = 0; c < 3; c++)
            dst[i * 4 + c] = (uint8_t)((px[i * 4 + c] * al + 127) / 255);
        dst[i * 4 + 3] = (uint8_t)al;
    }
    gpu_stb_free(px);
    px = NULL;
    VkBufferImageCopy regions[16];
    size_t off = 0;
    for (int l = 0, lw = w, lh = h; l < levels; l++) {
        regions[l] = (VkBufferImageCopy){
            .bufferOffset = off,
            .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, (uint32_t)l, 0, 1},
            .imageExtent = {(uint32_t)lw, (uint32_t)lh, 1},
        };
        int nw = lw > 1 ? lw / 2 : 1, nh = lh > 1 ? lh / 2 : 1;
        if (l + 1 < levels)
            downsample(dst + off, lw, lh, dst + off + (size_t)lw * lh * 4, nw, nh);
        off += (size_t)lw * lh * 4;
        lw = nw;
        lh = nh;
    }
    if (!staging.coherent) {
        VkMappedMemoryRange r = {VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE, NULL, staging.mem, 0,
                                 VK_WHOLE_SIZE};
        VK_TRY(vkFlushMappedMemoryRanges(gpu->device, 1, &r));
    }

    if ((st = gpu_image_create(gpu, w, h, levels, VK_FORMAT_R8G8B8A8_UNORM,
                               VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                               &t->img[0], err))) {
        ck_error_set(err, st, s->file, a->pos.line, a->pos.col, "image asset \"%s\" (%s): %s",
                     a->id, a->path, err ? err->msg : "");
        goto error;
    }
    VkCommandBuffer cb;
    if ((st = gpu_oneshot_begin(gpu, &cb, err)))
        goto error;
    gpu_image_barrier(cb, t->img[0].image, levels, VK_IMAGE_LAYOUT_UNDEFINED,
                      VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
    vkCmdCopyBufferToImage(cb, staging.buf, t->img[0].image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                           (uint32_t)levels, regions);
    gpu_image_barrier(cb, t->img[0].image, levels, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                      VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_ACCESS_SHADER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT);
    if ((st = gpu_oneshot_end(gpu, cb, err)))
        goto error;
    if ((st = alloc_set(sg, sg->tex_layout, &t->set, err)))
        goto error;
    gpu_texture_write_set(sg, t, 1);
    t->ready = true;
    ck_log(CK_LOG_DEBUG, "gpu: image \"%s\" %dx%d, %d levels", a->id, w, h, levels);
error:
    gpu_stb_free(px);
    gpu_buffer_destroy(gpu, &staging);
    return st;
}

static ck_status make_atlas(ck_gpu_scene *sg, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    if ((st = gpu_image_create(gpu, GPU_ATLAS_SIZE, GPU_ATLAS_SIZE, 1, VK_FORMAT_R8_UNORM,
                               VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                               &sg->atlas.img[0], err)))
        return st;
    VkCommandBuffer cb;
    if ((st = gpu_oneshot_begin(gpu, &cb, err)))
        return st;
    gpu_image_barrier(cb, sg->atlas.img[0].image, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                      VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
    VkClearColorValue zero = {{0, 0, 0, 0}};
    VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    vkCmdClearColorImage(cb, sg->atlas.img[0].image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &zero, 1,
                         &range);
    gpu_image_barrier(cb, sg->atlas.img[0].image, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                      VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
                      VK_ACCESS_SHADER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_PIPELINE_STAGE_FRAGMENT_SHADER_BIT);
    if ((st = gpu_oneshot_end(gpu, cb, err)))
        return st;
    if ((st = alloc_set(sg, sg->tex_layout, &sg->atlas.set, err)))
        return st;
    gpu_texture_write_set(sg, &sg->atlas, 1);
    sg->atlas.ready = true;
    sg->glyph_cap = 4096;
    sg->glyphs = calloc(sg->glyph_cap, sizeof *sg->glyphs);
    sg->sdf_cap = 4096;
    sg->sdfs = calloc(sg->sdf_cap, sizeof *sg->sdfs);
    if (!sg->glyphs || !sg->sdfs)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    return CK_OK;
}

/* ---- frame slots ---- */
void gpu_slot_write_inst_set(ck_gpu_scene *sg, gpu_slot *sl)
{
    VkDescriptorBufferInfo bi = {sl->inst.buf, 0, VK_WHOLE_SIZE};
    VkWriteDescriptorSet w = {
        .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
        .dstSet = sl->inst_set,
        .dstBinding = 0,
        .descriptorCount = 1,
        .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .pBufferInfo = &bi,
    };
    vkUpdateDescriptorSets(sg->gpu->device, 1, &w, 0, NULL);
}

static ck_status make_view(ck_gpu *gpu, const gpu_buffer *b, VkBufferView *out, ck_error *err)
{
    ck_status st = CK_OK;
    VkBufferViewCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = b->buf,
        .format = VK_FORMAT_R32G32B32A32_UINT, /* 16 bytes per fetch / store */
        .range = b->size / 16 * 16,
    };
    VK_TRY(vkCreateBufferView(gpu->device, &ci, NULL, out));
    GPU_CREATED(gpu);
    return CK_OK;
error:
    return st;
}

static void destroy_view(ck_gpu *gpu, VkBufferView *v)
{
    if (*v) {
        vkDestroyBufferView(gpu->device, *v, NULL);
        GPU_DESTROYED(gpu);
        *v = VK_NULL_HANDLE;
    }
}

ck_status gpu_slot_write_bg_set(ck_gpu_scene *sg, gpu_slot *sl, ck_error *err)
{
    ck_status st;
    destroy_view(sg->gpu, &sl->upload_view);
    if (!sl->bg_view && (st = make_view(sg->gpu, &sl->bg_rgba, &sl->bg_view, err)))
        return st;
    if ((st = make_view(sg->gpu, &sl->upload, &sl->upload_view, err)))
        return st;
    /* Set, binding 0 (read), binding 1 (written). */
    const struct {
        VkDescriptorSet set;
        VkBufferView *in, *out;
    } sets[3] = {
        {sl->bg_set, &sl->upload_view, &sl->bg_view},
        {sl->yuv_bg_set, &sl->upload_view, &sl->nv12_view},
        {sl->yuv_over_set, &sl->bg_view, &sl->nv12_view},
    };
    VkWriteDescriptorSet w[6];
    uint32_t n = 0;
    for (int s = 0; s < 3; s++)
        for (uint32_t i = 0; i < 2 && sets[s].set; i++)
            w[n++] = (VkWriteDescriptorSet){
                .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                .dstSet = sets[s].set,
                .dstBinding = i,
                .descriptorCount = 1,
                .descriptorType = i ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER
                                    : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
                .pTexelBufferView = i ? sets[s].out : sets[s].in,
            };
    vkUpdateDescriptorSets(sg->gpu->device, n, w, 0, NULL);
    return CK_OK;
}

/* ---- where NV12 frames go ---- */
static VkExternalMemoryHandleTypeFlagBits export_handle(ck_gpu_export e)
{
    return e == CK_GPU_EXPORT_DMA_BUF ? VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT
                                      : VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
}

/* The NV12 buffer's usage: storage for the shaders, texel views on the YUV path, and the
 * source of the one readback copy on the GPU path. */
static VkBufferUsageFlags nv12_usage(const ck_gpu_scene *sg)
{
    VkBufferUsageFlags use = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
    if (sg->yuv_fast)
        use |= VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT; /* yuv_bg.comp, yuv_over.comp */
    return use;
}

/* Whether the scene hands its NV12 frames over in device memory, and how: asked for, on the
 * GPU path (a CPU device's memory is host memory already), NV12 the only output, the device
 * able to export, and not turned off with CIAK_GPU_EXPORT=0. Otherwise NONE: read back. */
static ck_gpu_export device_frames(ck_gpu_scene *sg, ck_gpu_export want)
{
    if (want == CK_GPU_EXPORT_NONE)
        return CK_GPU_EXPORT_NONE;
    const char *why = NULL;
    const char *env = getenv("CIAK_GPU_EXPORT");
    if (env && strcmp(env, "0") == 0)
        why = "CIAK_GPU_EXPORT=0";
    else if (sg->cpu_path)
        why = "the CPU path";
    else if (sg->outputs != CK_GPU_OUT_NV12)
        why = "RGBA asked for too";
    else if (!gpu_export_supported(sg->gpu, nv12_usage(sg), export_handle(want)))
        why = want == CK_GPU_EXPORT_DMA_BUF ? "the device cannot export a DMA-BUF"
                                            : "the device cannot export an opaque fd";
    if (why) {
        ck_log(CK_LOG_INFO, "gpu: frames read back to host memory (device frames: %s)", why);
        return CK_GPU_EXPORT_NONE;
    }
    ck_log(CK_LOG_INFO, "gpu: frames stay on the device (%s)",
           want == CK_GPU_EXPORT_DMA_BUF ? "DMA-BUF" : "opaque fd");
    return want;
}

/* A slot's NV12 buffer(s). The CPU path: one host-visible buffer the shaders (and the host)
 * write and the host reads. The GPU path: the shaders write device memory; the frame then
 * leaves the GPU once, copied into a host-visible buffer (pass_outputs), or not at all when
 * it is exported to an encoder on the same device. */
static ck_status make_nv12(ck_gpu_scene *sg, gpu_slot *sl, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st;
    if (sg->cpu_path)
        return gpu_buffer_create(gpu, sg->nv12_bytes, nv12_usage(sg), true, &sl->nv12, err);
    if (sg->exports)
        return gpu_buffer_create_exported(gpu, sg->nv12_bytes, nv12_usage(sg),
                                          export_handle(sg->exports), &sl->nv12, &sl->nv12_fd, err);
    if ((st = gpu_buffer_create(gpu, sg->nv12_bytes, nv12_usage(sg), false, &sl->nv12, err)))
        return st;
    return gpu_buffer_create(gpu, sg->nv12_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true,
                             &sl->nv12_host, err);
}

ck_gpu_path ck_gpu_scene_path(const ck_gpu_scene *sg)
{
    return !sg ? CK_GPU_PATH_AUTO : sg->cpu_path ? CK_GPU_PATH_CPU : CK_GPU_PATH_GPU;
}

ck_gpu_export ck_gpu_scene_exports(const ck_gpu_scene *sg)
{
    return sg ? sg->exports : CK_GPU_EXPORT_NONE;
}

/* The slot's colour target and its framebuffer. On the CPU path every slot after the first
 * borrows slot 0's: a CPU device runs the submitted frames one after the other on its one
 * queue, and every use of the target in a frame (the render pass, nv12.comp, the copies in
 * and out) comes after a dependency on the COMPUTE and TRANSFER stages of the commands
 * submitted before it (the render pass' external dependency, the barriers before the copies),
 * so no frame can overlap another's use of it; the pixels a frame reads are the ones it drew.
 * That keeps 3.6 MB per slot at 720p out of memory (each target ends up resident wherever the
 * overlays' box ever reached). A real GPU overlaps frames: one target each there. */
static ck_status make_color(ck_gpu_scene *sg, gpu_slot *sl, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    if (sg->cpu_path && sl != &sg->slots[0]) {
        sl->color = sg->slots[0].color;
        sl->fb = sg->slots[0].fb;
        sl->color_borrowed = true;
        return CK_OK;
    }
    if ((st =
             gpu_image_create(gpu, sg->width, sg->height, 1, VK_FORMAT_R8G8B8A8_UNORM,
                              VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_SAMPLED_BIT |
                                  VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                              &sl->color, err)))
        return st;
    VkFramebufferCreateInfo fbi = {
        .sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO,
        .renderPass = sg->pass,
        .attachmentCount = 1,
        .pAttachments = &sl->color.view,
        .width = (uint32_t)sg->width,
        .height = (uint32_t)sg->height,
        .layers = 1,
    };
    VK_TRY(vkCreateFramebuffer(gpu->device, &fbi, NULL, &sl->fb));
    GPU_CREATED(gpu);
    return CK_OK;
error:
    return st;
}

static ck_status make_slot(ck_gpu_scene *sg, gpu_slot *sl, ck_error *err)
{
    ck_gpu *gpu = sg->gpu;
    ck_status st = CK_OK;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = sg->cpool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VK_TRY(vkAllocateCommandBuffers(gpu->device, &ai, &sl->cb));
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_TRY(vkCreateFence(gpu->device, &fci, NULL, &sl->fence));
    GPU_CREATED(gpu);
    if ((st = make_color(sg, sl, err)))
        return st;
    if ((st = gpu_buffer_create(gpu, 64 * 1024, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, true, &sl->inst,
                                err)))
        return st;
    if ((st = alloc_set(sg, sg->inst_layout, &sl->inst_set, err)))
        return st;
    gpu_slot_write_inst_set(sg, sl);
    if (sg->outputs & CK_GPU_OUT_RGBA) {
        if ((st = gpu_buffer_create(gpu, (VkDeviceSize)sg->width * sg->height * 4,
                                    VK_BUFFER_USAGE_TRANSFER_DST_BIT, true, &sl->rgba, err)))
            return st;
    }
    if (sg->outputs & CK_GPU_OUT_NV12) {
        if ((st = make_nv12(sg, sl, err)))
            return st;
        if (sg->yuv_fast && (st = make_view(gpu, &sl->nv12, &sl->nv12_view, err)))
            return st;
        if ((st = alloc_set(sg, sg->nv12_layout, &sl->nv12_set, err)))
            return st;
        VkDescriptorImageInfo ii = {sg->sampler, sl->color.view, VK_IMAGE_LAYOUT_GENERAL};
        VkDescriptorBufferInfo bi = {sl->nv12.buf, 0, VK_WHOLE_SIZE};
        VkWriteDescriptorSet w[2] = {
            {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
             .dstSet = sl->nv12_set,
             .dstBinding = 0,
             .descriptorCount = 1,
             .descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER,
             .pImageInfo = &ii},
            {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
             .dstSet = sl->nv12_set,
             .dstBinding = 1,
             .descriptorCount = 1,
             .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
             .pBufferInfo = &bi},
        };
        vkUpdateDescriptorSets(gpu->device, 2, w, 0, NULL);
    }
    if (sg->has_video) {
        /* On the YUV path bg_rgba also takes the overlays' box from `color` and is read by
         * yuv_over.comp through the same view. */
        VkBufferUsageFlags use =
            VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
        if (sg->yuv_fast)
            use |= VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT;
        VkDeviceSize bytes = (VkDeviceSize)sg->width * sg->height * 4;
        if (sg->yuv_fast) {
            size_t tiles = (size_t)sg->tiles_x * sg->tiles_y;
            bytes = tiles * GPU_TILE_W * GPU_TILE_H * 4 + ((tiles * 4 + 15) & ~(size_t)15);
        }
        if ((st = gpu_buffer_create(gpu, bytes, use, sg->host_bg, &sl->bg_rgba, err)))
            return st;
        /* The upload buffer grows on demand: make one now so the set is always complete. */
        if ((st = gpu_buffer_create(gpu, 64 * 1024,
                                    VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                        VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT,
                                    true, &sl->upload, err)))
            return st;
        if ((st = alloc_set(sg, sg->bg_layout, &sl->bg_set, err)))
            return st;
        if (sg->yuv_fast && ((st = alloc_set(sg, sg->bg_layout, &sl->yuv_bg_set, err)) ||
                             (st = alloc_set(sg, sg->bg_layout, &sl->yuv_over_set, err))))
            return st;
        if ((st = gpu_slot_write_bg_set(sg, sl, err)))
            return st;
    }
    sl->state = SLOT_FREE;
    return CK_OK;
error:
    return st;
}

/* The host_bg scene's tiles kept across frames (gpu_reuse): ~6.3 KiB a tile with its plan
 * (5.7 MB at 720p).
 * CIAK_GPU_TILE_REUSE=0 renders every tile every frame (the reference the tests compare with). */
static bool make_tile_store(ck_gpu_scene *sg, size_t tiles)
{
    const char *env = getenv("CIAK_GPU_TILE_REUSE");
    sg->reuse.off = env && strcmp(env, "0") == 0;
    sg->reuse.key = calloc(tiles * 2, sizeof *sg->reuse.key);
    sg->reuse.acc = calloc(tiles * 2, sizeof *sg->reuse.acc);
    sg->reuse.store = malloc(tiles * GPU_TILE_BYTES);
    sg->reuse.plans = malloc(tiles * sizeof *sg->reuse.plans);
    sg->reuse.lists = calloc((size_t)sg->slot_count * 2 * tiles, sizeof *sg->reuse.lists);
    return sg->reuse.key && sg->reuse.acc && sg->reuse.store && sg->reuse.plans && sg->reuse.lists;
}

/* ---- create / destroy ---- */
ck_gpu_scene *ck_gpu_scene_create(ck_gpu *gpu, const ck_scene *scene, const ck_fontset *fonts,
                                  const ck_gpu_scene_params *params, ck_error *err)
{
    ck_status st = CK_OK;
    if (!gpu || !scene) {
        ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "ck_gpu_scene_create: no device or scene");
        return NULL;
    }
    if (gpu->lost) {
        ck_error_set(err, CK_ERR_GPU, NULL, 0, 0, "the Vulkan device was lost");
        return NULL;
    }
    ck_gpu_scene_params p = {0};
    if (params)
        p = *params;
    if (!p.width)
        p.width = scene->width;
    if (!p.height)
        p.height = scene->height;
    if (!p.outputs)
        p.outputs = CK_GPU_OUT_RGBA | CK_GPU_OUT_NV12;
    if (!p.frames_in_flight)
        p.frames_in_flight = 2;
    if (p.width <= 0 || p.height <= 0 || p.width > 8192 || p.height > 8192 ||
        p.frames_in_flight < 1 || p.frames_in_flight > GPU_MAX_SLOTS - 1 ||
        (p.outputs & ~(unsigned)(CK_GPU_OUT_RGBA | CK_GPU_OUT_NV12)) ||
        (unsigned)p.path > CK_GPU_PATH_CPU || (unsigned)p.device_frames > CK_GPU_EXPORT_DMA_BUF) {
        ck_error_set(err, CK_ERR_INVALID, scene->file, 0, 0,
                     "invalid GPU scene parameters (%dx%d, outputs %u, %d in flight)", p.width,
                     p.height, p.outputs, p.frames_in_flight);
        return NULL;
    }
    if ((p.outputs & CK_GPU_OUT_NV12) && (p.width % 2 || p.height % 2)) {
        ck_error_set(err, CK_ERR_UNSUPPORTED, scene->file, 0, 0,
                     "NV12 output needs an even width and height, not %dx%d", p.width, p.height);
        return NULL;
    }

    ck_gpu_scene *sg = calloc(1, sizeof *sg);
    if (!sg) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    sg->gpu = gpu;
    gpu->scenes++;
    for (int i = 0; i < GPU_MAX_SLOTS; i++)
        sg->slots[i].nv12_fd = -1;
    sg->scene = scene;
    sg->width = p.width;
    sg->height = p.height;
    sg->outputs = p.outputs;
    sg->in_flight = p.frames_in_flight;
    sg->slot_count = p.frames_in_flight + 1;
    sg->y_stride = ((size_t)p.width + 3) & ~(size_t)3;
    sg->uv_stride = sg->y_stride;
    sg->nv12_bytes = sg->y_stride * (size_t)p.height + sg->uv_stride * (size_t)(p.height / 2);

    int n = scene->asset_count > 0 ? scene->asset_count : 1;
    sg->fonts = calloc((size_t)n, sizeof *sg->fonts);
    sg->textures = calloc((size_t)n, sizeof *sg->textures);
    if (!sg->fonts || !sg->textures) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    if ((st = load_fonts(sg, fonts, err)))
        goto fail;

    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = gpu->queue_family,
    };
    VK_TRY(vkCreateCommandPool(gpu->device, &pci, NULL, &sg->cpool));
    GPU_CREATED(gpu);
    VkSamplerCreateInfo sci = {
        .sType = VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO,
        .magFilter = VK_FILTER_LINEAR,
        .minFilter = VK_FILTER_LINEAR,
        .mipmapMode = VK_SAMPLER_MIPMAP_MODE_LINEAR,
        .addressModeU = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
        .addressModeV = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
        .addressModeW = VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE,
        .maxLod = VK_LOD_CLAMP_NONE,
    };
    VK_TRY(vkCreateSampler(gpu->device, &sci, NULL, &sg->sampler));
    GPU_CREATED(gpu);

    uint32_t tex_sets = (uint32_t)n + 1, slots = (uint32_t)sg->slot_count;
    VkDescriptorPoolSize sizes[4] = {
        {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, slots * 2},
        {VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, tex_sets * 3 + slots},
        {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, slots * 3},
        {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, slots * 3},
    };
    VkDescriptorPoolCreateInfo dpi = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = tex_sets + slots * 5,
        .poolSizeCount = 4,
        .pPoolSizes = sizes,
    };
    VK_TRY(vkCreateDescriptorPool(gpu->device, &dpi, NULL, &sg->dpool));
    GPU_CREATED(gpu);

    for (int i = 0; i < scene->asset_count; i++)
        sg->has_video |= scene->assets[i].kind == CK_ASSET_VIDEO;
    sg->yuv_fast = sg->has_video && sg->outputs == CK_GPU_OUT_NV12 && sg->width % 32 == 0;
    sg->cpu_path = (p.path ? p.path : gpu->path) == CK_GPU_PATH_CPU;
    sg->host_bg = sg->yuv_fast && !p.shader_background && sg->cpu_path;
    sg->exports = device_frames(sg, p.device_frames);
    if (sg->yuv_fast) {
        sg->tiles_x = (sg->width + GPU_TILE_W - 1) / GPU_TILE_W;
        sg->tiles_y = (sg->height + GPU_TILE_H - 1) / GPU_TILE_H;
        size_t tiles = (size_t)sg->tiles_x * sg->tiles_y;
        sg->tile_mask = calloc(tiles, 1);
        sg->tile_list = calloc(tiles, sizeof *sg->tile_list);
        sg->tile_copies = calloc(tiles, sizeof *sg->tile_copies);
        if (!sg->tile_mask || !sg->tile_list || !sg->tile_copies ||
            (sg->host_bg && !make_tile_store(sg, tiles))) {
            ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
            goto fail;
        }
    }
    if ((st = make_layouts(sg, err)) || (st = make_render_pass(sg, err)) ||
        (st = make_pipelines(sg, p.shader_dir, err)) || (st = make_atlas(sg, err)))
        goto fail;
    for (int i = 0; i < scene->asset_count; i++) {
        if (scene->assets[i].kind == CK_ASSET_IMAGE) {
            if ((st = load_image(sg, i, err)))
                goto fail;
        } else if (scene->assets[i].kind == CK_ASSET_VIDEO) {
            if ((st = alloc_set(sg, sg->tex_layout, &sg->textures[i].set, err)))
                goto fail;
        }
    }
    for (int i = 0; i < sg->slot_count; i++)
        if ((st = make_slot(sg, &sg->slots[i], err)))
            goto fail;
    ck_log(CK_LOG_DEBUG, "gpu: scene \"%s\" ready, %dx%d output, %d frames in flight",
           scene->id ? scene->id : "", sg->width, sg->height, sg->in_flight);
    return sg;

error:
fail:
    (void)st;
    ck_gpu_scene_destroy(&sg);
    return NULL;
}

void ck_gpu_scene_size(const ck_gpu_scene *sg, int *width, int *height)
{
    if (width)
        *width = sg ? sg->width : 0;
    if (height)
        *height = sg ? sg->height : 0;
}

static void destroy_texture(ck_gpu *gpu, gpu_texture *t)
{
    for (int i = 0; i < 3; i++)
        gpu_image_destroy(gpu, &t->img[i]);
}

void ck_gpu_scene_destroy(ck_gpu_scene **psg)
{
    if (!psg || !*psg)
        return;
    ck_gpu_scene *sg = *psg;
    ck_gpu *gpu = sg->gpu;
    VkDevice dev = gpu->device;
    /* Wait for our frames only; other scenes may keep rendering. */
    for (int i = 0; i < sg->slot_count; i++)
        if (sg->slots[i].fence && sg->slots[i].state == SLOT_PENDING)
            vkWaitForFences(dev, 1, &sg->slots[i].fence, VK_TRUE, UINT64_MAX);
    for (int i = 0; i < GPU_MAX_SLOTS; i++) {
        gpu_slot *sl = &sg->slots[i];
        if (sl->fence) {
            vkDestroyFence(dev, sl->fence, NULL);
            GPU_DESTROYED(gpu);
        }
        if (sl->color_borrowed) { /* slot 0's: destroyed with it */
            sl->fb = VK_NULL_HANDLE;
            memset(&sl->color, 0, sizeof sl->color);
        }
        if (sl->fb) {
            vkDestroyFramebuffer(dev, sl->fb, NULL);
            GPU_DESTROYED(gpu);
        }
        gpu_image_destroy(gpu, &sl->color);
        gpu_buffer_destroy(gpu, &sl->inst);
        gpu_buffer_destroy(gpu, &sl->upload);
        gpu_buffer_destroy(gpu, &sl->rgba);
        gpu_buffer_destroy(gpu, &sl->nv12);
        gpu_buffer_destroy(gpu, &sl->nv12_host);
        if (sl->nv12_fd >= 0)
            close(sl->nv12_fd);
        sl->nv12_fd = -1;
        destroy_view(gpu, &sl->upload_view);
        destroy_view(gpu, &sl->bg_view);
        destroy_view(gpu, &sl->nv12_view);
        gpu_buffer_destroy(gpu, &sl->bg_rgba);
    }
    if (sg->textures && sg->scene)
        for (int i = 0; i < sg->scene->asset_count; i++)
            destroy_texture(gpu, &sg->textures[i]);
    destroy_texture(gpu, &sg->atlas);
    for (int i = 0; i < PIPE_COUNT; i++)
        if (sg->pipes[i]) {
            vkDestroyPipeline(dev, sg->pipes[i], NULL);
            GPU_DESTROYED(gpu);
        }
#define DESTROY(fn, h)                                                                             \
    if (h) {                                                                                       \
        fn(dev, h, NULL);                                                                          \
        GPU_DESTROYED(gpu);                                                                        \
    }
    DESTROY(vkDestroyPipeline, sg->nv12_pipe)
    for (int i = 0; i < 4; i++)
        DESTROY(vkDestroyPipeline, sg->bg_pipes[i])
    DESTROY(vkDestroyPipeline, sg->yuv_bg_pipe)
    DESTROY(vkDestroyPipeline, sg->yuv_over_pipe)
    for (int i = 0; i < 4; i++)
        if (sg->cmod[i])
            vkDestroyShaderModule(dev, sg->cmod[i], NULL);
    DESTROY(vkDestroyPipelineLayout, sg->layout)
    DESTROY(vkDestroyPipelineLayout, sg->nv12_playout)
    DESTROY(vkDestroyPipelineLayout, sg->bg_playout)
    DESTROY(vkDestroyDescriptorSetLayout, sg->inst_layout)
    DESTROY(vkDestroyDescriptorSetLayout, sg->tex_layout)
    DESTROY(vkDestroyDescriptorSetLayout, sg->nv12_layout)
    DESTROY(vkDestroyDescriptorSetLayout, sg->bg_layout)
    DESTROY(vkDestroyRenderPass, sg->pass)
    DESTROY(vkDestroyRenderPass, sg->pass_load)
    DESTROY(vkDestroySampler, sg->sampler)
    /* Destroying the pools frees their sets and command buffers. */
    DESTROY(vkDestroyDescriptorPool, sg->dpool)
    DESTROY(vkDestroyCommandPool, sg->cpool)
#undef DESTROY
    if (sg->fonts && sg->scene)
        for (int i = 0; i < sg->scene->asset_count; i++) {
            gpu_ttf_close(sg->fonts[i].ttf);
            free(sg->fonts[i].owned);
        }
    for (size_t i = 0; i < sg->up_count; i++)
        if (sg->ups[i].owned)
            gpu_ttf_sdf_free(sg->ups[i].px);
    free(sg->ups);
    for (size_t i = 0; sg->sdfs && i < sg->sdf_cap; i++)
        gpu_ttf_sdf_free(sg->sdfs[i].px);
    free(sg->sdfs);
    free(sg->ops);
    free(sg->tile_mask);
    free(sg->tile_list);
    free(sg->reuse.key);
    free(sg->reuse.acc);
    free(sg->reuse.store);
    free(sg->reuse.plans);
    free(sg->reuse.lists);
    gpu_host_tables_free(&sg->host_tables);
    free(sg->tile_copies);
    free(sg->glyphs);
    free(sg->fonts);
    free(sg->textures);
    gpu->scenes--;
    free(sg);
    *psg = NULL;
}
