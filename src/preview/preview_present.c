/* preview_present.c: puts the preview's CPU picture on screen through a Vulkan swapchain.
 *
 * Why its own instance: ck_gpu is headless by design (the server has no window system), so
 * the compositor never sees a surface. The presenter only needs a queue that can present and
 * copy: each frame the picture goes into a host-visible buffer and one vkCmdCopyBufferToImage
 * writes it into the swapchain image. Copies do not convert colour, so the bytes shown are
 * the compositor's bytes (UNORM or SRGB swapchain alike). One frame in flight: the preview
 * is paced by the compositor, not by presentation. */
#include "preview.h"

#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>

#include <stdlib.h>
#include <string.h>

#define PV_MAX_IMAGES 8

struct pv_present {
    GLFWwindow *win;
    VkInstance instance;
    VkSurfaceKHR surface;
    VkPhysicalDevice phys;
    VkDevice dev;
    uint32_t qfam;
    VkQueue queue;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkSemaphore acquired;
    VkSemaphore done[PV_MAX_IMAGES]; /* per image: a present may still wait on it */
    VkSwapchainKHR swapchain;
    VkFormat format;
    bool bgra; /* swapchain bytes are B,G,R,A: swizzle while copying */
    VkExtent2D extent;
    VkImage images[PV_MAX_IMAGES];
    uint32_t image_count;
    VkBuffer staging;
    VkDeviceMemory staging_mem;
    VkDeviceSize staging_size;
    void *staging_map;
    bool stale; /* the swapchain must be rebuilt before the next frame */
};

static ck_status vk_fail(ck_error *err, const char *call, VkResult r)
{
    return ck_error_set(err, CK_ERR_GPU, NULL, 0, 0, "preview window: %s failed (VkResult %d)",
                        call, (int)r);
}
#define PV_VK(call, err)                                                                           \
    do {                                                                                           \
        VkResult r_ = (call);                                                                      \
        if (r_ != VK_SUCCESS)                                                                      \
            return vk_fail(err, #call, r_);                                                        \
    } while (0)

static ck_status make_instance(pv_present *p, ck_error *err)
{
    uint32_t n = 0;
    const char **exts = glfwGetRequiredInstanceExtensions(&n);
    if (!exts)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                            "preview window: GLFW finds no Vulkan surface support");
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "ciak preview",
                             .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                .pApplicationInfo = &app,
                                .enabledExtensionCount = n,
                                .ppEnabledExtensionNames = exts};
    PV_VK(vkCreateInstance(&ici, NULL, &p->instance), err);
    PV_VK(glfwCreateWindowSurface(p->instance, p->win, NULL, &p->surface), err);
    return CK_OK;
}

/* The first device with a queue family that presents to the window (any queue copies). */
static ck_status pick_device(pv_present *p, ck_error *err)
{
    VkPhysicalDevice devs[16];
    uint32_t n = CK_ARRAY_LEN(devs);
    VkResult r = vkEnumeratePhysicalDevices(p->instance, &n, devs);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return vk_fail(err, "vkEnumeratePhysicalDevices", r);
    for (uint32_t d = 0; d < n; d++) {
        VkQueueFamilyProperties fams[16];
        uint32_t nf = CK_ARRAY_LEN(fams);
        vkGetPhysicalDeviceQueueFamilyProperties(devs[d], &nf, fams);
        for (uint32_t f = 0; f < nf; f++) {
            VkBool32 ok = VK_FALSE;
            if (!(fams[f].queueFlags & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_TRANSFER_BIT)))
                continue;
            vkGetPhysicalDeviceSurfaceSupportKHR(devs[d], f, p->surface, &ok);
            if (ok) {
                p->phys = devs[d];
                p->qfam = f;
                return CK_OK;
            }
        }
    }
    return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                        "preview window: no Vulkan device can present to this window");
}

static ck_status make_device(pv_present *p, ck_error *err)
{
    float prio = 1;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = p->qfam,
                                   .queueCount = 1,
                                   .pQueuePriorities = &prio};
    const char *ext = VK_KHR_SWAPCHAIN_EXTENSION_NAME;
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci,
                              .enabledExtensionCount = 1,
                              .ppEnabledExtensionNames = &ext};
    PV_VK(vkCreateDevice(p->phys, &dci, NULL, &p->dev), err);
    vkGetDeviceQueue(p->dev, p->qfam, 0, &p->queue);
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = p->qfam};
    PV_VK(vkCreateCommandPool(p->dev, &pci, NULL, &p->pool), err);
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = p->pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    PV_VK(vkAllocateCommandBuffers(p->dev, &cai, &p->cmd), err);
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO,
                             .flags = VK_FENCE_CREATE_SIGNALED_BIT};
    PV_VK(vkCreateFence(p->dev, &fci, NULL, &p->fence), err);
    VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    PV_VK(vkCreateSemaphore(p->dev, &sci, NULL, &p->acquired), err);
    for (int i = 0; i < PV_MAX_IMAGES; i++)
        PV_VK(vkCreateSemaphore(p->dev, &sci, NULL, &p->done[i]), err);
    return CK_OK;
}

/* 8-bit RGBA or BGRA, UNORM preferred; the copy moves bytes, so SRGB shows the same. */
static bool pick_format(pv_present *p, VkSurfaceFormatKHR *out)
{
    VkSurfaceFormatKHR fmts[64];
    uint32_t n = CK_ARRAY_LEN(fmts);
    VkResult r = vkGetPhysicalDeviceSurfaceFormatsKHR(p->phys, p->surface, &n, fmts);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return false;
    static const VkFormat want[] = {VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM,
                                    VK_FORMAT_B8G8R8A8_SRGB, VK_FORMAT_R8G8B8A8_SRGB};
    for (size_t w = 0; w < CK_ARRAY_LEN(want); w++)
        for (uint32_t i = 0; i < n; i++)
            if (fmts[i].format == want[w]) {
                *out = fmts[i];
                return true;
            }
    return false;
}

static void destroy_swapchain(pv_present *p)
{
    if (p->swapchain)
        vkDestroySwapchainKHR(p->dev, p->swapchain, NULL);
    p->swapchain = VK_NULL_HANDLE;
    p->image_count = 0;
}

static ck_status make_swapchain(pv_present *p, int want_w, int want_h, ck_error *err)
{
    VkSurfaceCapabilitiesKHR caps;
    PV_VK(vkGetPhysicalDeviceSurfaceCapabilitiesKHR(p->phys, p->surface, &caps), err);
    if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT))
        return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                            "preview window: swapchain images cannot be copied into");
    VkSurfaceFormatKHR fmt;
    if (!pick_format(p, &fmt))
        return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                            "preview window: no 8-bit RGBA/BGRA swapchain format");
    VkExtent2D ext = caps.currentExtent;
    if (ext.width == UINT32_MAX) {
        ext.width = (uint32_t)want_w;
        ext.height = (uint32_t)want_h;
    }
    if (ext.width < caps.minImageExtent.width)
        ext.width = caps.minImageExtent.width;
    if (ext.height < caps.minImageExtent.height)
        ext.height = caps.minImageExtent.height;
    if (ext.width > caps.maxImageExtent.width)
        ext.width = caps.maxImageExtent.width;
    if (ext.height > caps.maxImageExtent.height)
        ext.height = caps.maxImageExtent.height;
    if (ext.width == 0 || ext.height == 0)
        return CK_OK; /* minimised: no swapchain until the window comes back */
    uint32_t count = caps.minImageCount + 1;
    if (caps.maxImageCount && count > caps.maxImageCount)
        count = caps.maxImageCount;
    if (count > PV_MAX_IMAGES)
        count = PV_MAX_IMAGES;
    VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
    if (!(caps.supportedCompositeAlpha & alpha))
        alpha = VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR;
    VkSwapchainKHR old = p->swapchain;
    VkSwapchainCreateInfoKHR sci = {.sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
                                    .surface = p->surface,
                                    .minImageCount = count,
                                    .imageFormat = fmt.format,
                                    .imageColorSpace = fmt.colorSpace,
                                    .imageExtent = ext,
                                    .imageArrayLayers = 1,
                                    .imageUsage = VK_IMAGE_USAGE_TRANSFER_DST_BIT,
                                    .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
                                    .preTransform = caps.currentTransform,
                                    .compositeAlpha = alpha,
                                    .presentMode = VK_PRESENT_MODE_FIFO_KHR, /* always supported */
                                    .clipped = VK_TRUE,
                                    .oldSwapchain = old};
    VkResult r = vkCreateSwapchainKHR(p->dev, &sci, NULL, &p->swapchain);
    if (old)
        vkDestroySwapchainKHR(p->dev, old, NULL);
    if (r != VK_SUCCESS) {
        p->swapchain = VK_NULL_HANDLE;
        return vk_fail(err, "vkCreateSwapchainKHR", r);
    }
    p->format = fmt.format;
    p->bgra = fmt.format == VK_FORMAT_B8G8R8A8_UNORM || fmt.format == VK_FORMAT_B8G8R8A8_SRGB;
    p->extent = ext;
    p->image_count = PV_MAX_IMAGES;
    r = vkGetSwapchainImagesKHR(p->dev, p->swapchain, &p->image_count, p->images);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE)
        return vk_fail(err, "vkGetSwapchainImagesKHR", r);
    p->stale = false;
    return CK_OK;
}

static ck_status ensure_staging(pv_present *p, VkDeviceSize size, ck_error *err)
{
    if (p->staging_size >= size)
        return CK_OK;
    if (p->staging) {
        vkDestroyBuffer(p->dev, p->staging, NULL);
        vkFreeMemory(p->dev, p->staging_mem, NULL);
        p->staging = VK_NULL_HANDLE;
        p->staging_mem = VK_NULL_HANDLE;
        p->staging_size = 0;
    }
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .size = size,
                              .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                              .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    PV_VK(vkCreateBuffer(p->dev, &bci, NULL, &p->staging), err);
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(p->dev, p->staging, &req);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(p->phys, &mp);
    const VkMemoryPropertyFlags want =
        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
        if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
            type = i;
    if (type == UINT32_MAX)
        return ck_error_set(err, CK_ERR_GPU, NULL, 0, 0,
                            "preview window: no host-visible memory for the staging buffer");
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = req.size,
                                .memoryTypeIndex = type};
    PV_VK(vkAllocateMemory(p->dev, &mai, NULL, &p->staging_mem), err);
    PV_VK(vkBindBufferMemory(p->dev, p->staging, p->staging_mem, 0), err);
    PV_VK(vkMapMemory(p->dev, p->staging_mem, 0, VK_WHOLE_SIZE, 0, &p->staging_map), err);
    p->staging_size = size;
    return CK_OK;
}

pv_present *pv_present_create(GLFWwindow *win, ck_error *err)
{
    pv_present *p = calloc(1, sizeof *p);
    if (!p) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    p->win = win;
    int w, h;
    glfwGetFramebufferSize(win, &w, &h);
    if (make_instance(p, err) != CK_OK || pick_device(p, err) != CK_OK ||
        make_device(p, err) != CK_OK || make_swapchain(p, w, h, err) != CK_OK) {
        pv_present_destroy(&p);
        return NULL;
    }
    return p;
}

void pv_present_destroy(pv_present **pp)
{
    pv_present *p = *pp;
    if (!p)
        return;
    if (p->dev) {
        vkDeviceWaitIdle(p->dev);
        destroy_swapchain(p);
        if (p->staging)
            vkDestroyBuffer(p->dev, p->staging, NULL);
        if (p->staging_mem)
            vkFreeMemory(p->dev, p->staging_mem, NULL);
        for (int i = 0; i < PV_MAX_IMAGES; i++)
            if (p->done[i])
                vkDestroySemaphore(p->dev, p->done[i], NULL);
        if (p->acquired)
            vkDestroySemaphore(p->dev, p->acquired, NULL);
        if (p->fence)
            vkDestroyFence(p->dev, p->fence, NULL);
        if (p->pool)
            vkDestroyCommandPool(p->dev, p->pool, NULL);
        vkDestroyDevice(p->dev, NULL);
    }
    if (p->surface)
        vkDestroySurfaceKHR(p->instance, p->surface, NULL);
    if (p->instance)
        vkDestroyInstance(p->instance, NULL);
    free(p);
    *pp = NULL;
}

/* Writes `im` into the staging buffer laid out for the swapchain extent; a size mismatch
 * (the window changed between drawing and presenting) leaves the rest black. */
static void fill_staging(pv_present *p, const pv_image *im)
{
    uint32_t w = p->extent.width, h = p->extent.height;
    uint8_t *dst = p->staging_map;
    uint32_t cw = (uint32_t)im->w < w ? (uint32_t)im->w : w;
    uint32_t ch = (uint32_t)im->h < h ? (uint32_t)im->h : h;
    if (cw != w || ch != h)
        memset(dst, 0, (size_t)w * h * 4);
    for (uint32_t y = 0; y < ch; y++) {
        const uint8_t *s = im->px + (size_t)y * im->w * 4;
        uint8_t *d = dst + (size_t)y * w * 4;
        if (!p->bgra) {
            memcpy(d, s, (size_t)cw * 4);
            continue;
        }
        for (uint32_t x = 0; x < cw; x++, s += 4, d += 4) {
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
            d[3] = 255;
        }
    }
}

static void record_copy(pv_present *p, VkImage image)
{
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    vkBeginCommandBuffer(p->cmd, &bi);
    VkImageMemoryBarrier b = {.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
                              .srcAccessMask = 0,
                              .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                              .oldLayout = VK_IMAGE_LAYOUT_UNDEFINED,
                              .newLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                              .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
                              .image = image,
                              .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1}};
    vkCmdPipelineBarrier(p->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
                         0, NULL, 0, NULL, 1, &b);
    VkBufferImageCopy region = {.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {p->extent.width, p->extent.height, 1}};
    vkCmdCopyBufferToImage(p->cmd, p->staging, image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                           &region);
    b.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    b.dstAccessMask = 0;
    b.oldLayout = VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL;
    b.newLayout = VK_IMAGE_LAYOUT_PRESENT_SRC_KHR;
    vkCmdPipelineBarrier(p->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, 0, 0, NULL, 0, NULL, 1, &b);
    vkEndCommandBuffer(p->cmd);
}

ck_status pv_present_frame(pv_present *p, const pv_image *im, ck_error *err)
{
    if (im->w <= 0 || im->h <= 0)
        return CK_OK; /* minimised */
    /* The previous copy must be done before its staging buffer and semaphore are reused. */
    PV_VK(vkWaitForFences(p->dev, 1, &p->fence, VK_TRUE, UINT64_MAX), err);
    if (p->stale || !p->swapchain || p->extent.width != (uint32_t)im->w ||
        p->extent.height != (uint32_t)im->h) {
        vkDeviceWaitIdle(p->dev);
        ck_status s = make_swapchain(p, im->w, im->h, err);
        if (s != CK_OK)
            return s;
        if (!p->swapchain)
            return CK_OK;
    }
    uint32_t idx;
    VkResult r =
        vkAcquireNextImageKHR(p->dev, p->swapchain, UINT64_MAX, p->acquired, VK_NULL_HANDLE, &idx);
    if (r == VK_ERROR_OUT_OF_DATE_KHR) {
        p->stale = true;
        return CK_OK; /* the next frame rebuilds it */
    }
    if (r != VK_SUCCESS && r != VK_SUBOPTIMAL_KHR)
        return vk_fail(err, "vkAcquireNextImageKHR", r);
    ck_status s = ensure_staging(p, (VkDeviceSize)p->extent.width * p->extent.height * 4, err);
    if (s != CK_OK)
        return s;
    fill_staging(p, im);
    PV_VK(vkResetFences(p->dev, 1, &p->fence), err);
    PV_VK(vkResetCommandBuffer(p->cmd, 0), err);
    record_copy(p, p->images[idx]);
    VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                       .waitSemaphoreCount = 1,
                       .pWaitSemaphores = &p->acquired,
                       .pWaitDstStageMask = &wait_stage,
                       .commandBufferCount = 1,
                       .pCommandBuffers = &p->cmd,
                       .signalSemaphoreCount = 1,
                       .pSignalSemaphores = &p->done[idx]};
    PV_VK(vkQueueSubmit(p->queue, 1, &si, p->fence), err);
    VkPresentInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR,
                           .waitSemaphoreCount = 1,
                           .pWaitSemaphores = &p->done[idx],
                           .swapchainCount = 1,
                           .pSwapchains = &p->swapchain,
                           .pImageIndices = &idx};
    r = vkQueuePresentKHR(p->queue, &pi);
    if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR)
        p->stale = true;
    else if (r != VK_SUCCESS)
        return vk_fail(err, "vkQueuePresentKHR", r);
    return CK_OK;
}
