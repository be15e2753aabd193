/* gpu_device.c: the Vulkan instance and device, the checking macro's reporter, and the small
 * buffer / image / one-shot helpers the rest of engine/gpu builds on. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "gpu_internal.h"

const char *gpu_vk_result_str(VkResult r)
{
    switch (r) {
#define R(x)                                                                                       \
    case x:                                                                                        \
        return #x;
        R(VK_SUCCESS)
        R(VK_NOT_READY)
        R(VK_TIMEOUT)
        R(VK_EVENT_SET)
        R(VK_EVENT_RESET)
        R(VK_INCOMPLETE)
        R(VK_ERROR_OUT_OF_HOST_MEMORY)
        R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        R(VK_ERROR_INITIALIZATION_FAILED)
        R(VK_ERROR_DEVICE_LOST)
        R(VK_ERROR_MEMORY_MAP_FAILED)
        R(VK_ERROR_LAYER_NOT_PRESENT)
        R(VK_ERROR_EXTENSION_NOT_PRESENT)
        R(VK_ERROR_FEATURE_NOT_PRESENT)
        R(VK_ERROR_INCOMPATIBLE_DRIVER)
        R(VK_ERROR_TOO_MANY_OBJECTS)
        R(VK_ERROR_FORMAT_NOT_SUPPORTED)
        R(VK_ERROR_FRAGMENTED_POOL)
        R(VK_ERROR_UNKNOWN)
        R(VK_ERROR_OUT_OF_POOL_MEMORY)
        R(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        R(VK_ERROR_FRAGMENTATION)
        R(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
#undef R
    default:
        return "VK_RESULT_UNKNOWN";
    }
}

ck_status gpu_vk_fail(ck_gpu *gpu, ck_error *err, VkResult r, const char *call, const char *file,
                      int line)
{
    ck_status st = CK_ERR_GPU;
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        st = CK_ERR_NOMEM;
    if (r == VK_ERROR_DEVICE_LOST && gpu)
        gpu->lost = true;
    /* The call text can be long; the first line is enough to find it. */
    char c[160];
    snprintf(c, sizeof c, "%s", call);
    char *paren = strchr(c, '(');
    if (paren)
        *paren = '\0';
    ck_log(CK_LOG_ERROR, "vulkan: %s failed: %s (%s:%d)", c, gpu_vk_result_str(r), file, line);
    ck_error_set(err, st, NULL, 0, 0, "Vulkan call %s failed: %s (%s:%d)", c, gpu_vk_result_str(r),
                 file, line);
    return st;
}

/* ---- validation messages ---- */
static VKAPI_ATTR VkBool32 VKAPI_CALL debug_cb(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                               VkDebugUtilsMessageTypeFlagsEXT type,
                                               const VkDebugUtilsMessengerCallbackDataEXT *data,
                                               void *user)
{
    (void)type;
    ck_gpu *gpu = user;
    if (sev & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
               VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) {
        gpu->validation_messages++;
        ck_log(CK_LOG_ERROR, "vulkan validation: %s",
               data && data->pMessage ? data->pMessage : "?");
    }
    return VK_FALSE;
}

static bool env_true(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] && strcmp(v, "0") != 0;
}

static bool has_layer(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkLayerProperties *p = calloc(n, sizeof *p);
    bool found = false;
    if (p && vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(p[i].layerName, name) == 0;
    free(p);
    return found;
}

static bool has_instance_ext(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    bool found = false;
    if (p && vkEnumerateInstanceExtensionProperties(NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(p[i].extensionName, name) == 0;
    free(p);
    return found;
}

static bool icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

static const char *type_str(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return "cpu";
    default:
        return "other";
    }
}

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
        return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
        return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
        return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
        return 1;
    default:
        return 0;
    }
}

/* A queue family with graphics and compute (every 1.2 device with graphics has one). */
static int find_queue(VkPhysicalDevice pd)
{
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32)
        n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    for (uint32_t i = 0; i < n; i++)
        if ((q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) && (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) &&
            q[i].queueCount > 0)
            return (int)i;
    return -1;
}

static ck_status pick_device(ck_gpu *gpu, const char *want, ck_error *err)
{
    ck_status st = CK_OK;
    uint32_t n = 0;
    VkPhysicalDevice *devs = NULL;
    VK_TRY(vkEnumeratePhysicalDevices(gpu->instance, &n, NULL));
    if (n == 0)
        return ck_error_set(err, CK_ERR_NOT_FOUND, NULL, 0, 0, "no Vulkan device found");
    devs = calloc(n, sizeof *devs);
    if (!devs)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    VK_TRY(vkEnumeratePhysicalDevices(gpu->instance, &n, devs));

    bool by_index = want && want[0];
    for (const char *c = want; by_index && *c; c++)
        by_index = isdigit((unsigned char)*c) != 0;
    int best = -1, best_rank = -1;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(devs[i], &p);
        bool ok = p.apiVersion >= VK_API_VERSION_1_2 && find_queue(devs[i]) >= 0;
        ck_log(CK_LOG_DEBUG, "gpu: device %u: %s (%s, Vulkan %u.%u)%s", i, p.deviceName,
               type_str(p.deviceType), VK_API_VERSION_MAJOR(p.apiVersion),
               VK_API_VERSION_MINOR(p.apiVersion), ok ? "" : " - unusable");
        if (want && want[0]) {
            bool match = by_index ? (uint32_t)atoi(want) == i : icontains(p.deviceName, want);
            if (match && !ok) {
                free(devs);
                return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                                    "Vulkan device \"%s\" (%s) lacks Vulkan 1.2 graphics+compute",
                                    want, p.deviceName);
            }
            if (match && best < 0)
                best = (int)i;
            continue;
        }
        if (ok && type_rank(p.deviceType) > best_rank) {
            best = (int)i;
            best_rank = type_rank(p.deviceType);
        }
    }
    if (best < 0) {
        free(devs);
        if (want && want[0])
            return ck_error_set(err, CK_ERR_NOT_FOUND, NULL, 0, 0,
                                "no Vulkan device matches CIAK_VK_DEVICE \"%s\" (%u device(s))",
                                want, n);
        return ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                            "no Vulkan 1.2 device with graphics and compute (%u device(s))", n);
    }
    gpu->phys = devs[best];
    gpu->queue_family = (uint32_t)find_queue(gpu->phys);
    vkGetPhysicalDeviceProperties(gpu->phys, &gpu->props);
    vkGetPhysicalDeviceMemoryProperties(gpu->phys, &gpu->mem);
    ck_log(CK_LOG_INFO, "gpu: using device %d: %s (%s, Vulkan %u.%u)", best, gpu->props.deviceName,
           type_str(gpu->props.deviceType), VK_API_VERSION_MAJOR(gpu->props.apiVersion),
           VK_API_VERSION_MINOR(gpu->props.apiVersion));
    free(devs);
    return CK_OK;
error:
    free(devs);
    return st;
}

/* CIAK_GPU_PATH: "gpu", "cpu", or unset / empty / "auto" (by the device type). */
static ck_status env_path(ck_gpu_path *out, ck_error *err)
{
    const char *v = getenv("CIAK_GPU_PATH");
    *out = CK_GPU_PATH_AUTO;
    if (!v || !v[0] || strcmp(v, "auto") == 0)
        return CK_OK;
    if (strcmp(v, "gpu") == 0)
        *out = CK_GPU_PATH_GPU;
    else if (strcmp(v, "cpu") == 0)
        *out = CK_GPU_PATH_CPU;
    else
        return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0,
                            "CIAK_GPU_PATH=\"%s\": expected gpu, cpu or auto", v);
    return CK_OK;
}

static bool has_device_ext(VkPhysicalDevice pd, const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    bool found = false;
    if (p && vkEnumerateDeviceExtensionProperties(pd, NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(p[i].extensionName, name) == 0;
    free(p);
    return found;
}

ck_gpu *ck_gpu_create(const ck_gpu_params *params, ck_error *err)
{
    ck_gpu_params p = {0};
    if (params)
        p = *params;
    if (!p.device)
        p.device = getenv("CIAK_VK_DEVICE");
    if (env_true("CIAK_VK_VALIDATION"))
        p.validation = true;

    ck_status st = CK_OK;
    if (p.path == CK_GPU_PATH_AUTO && (st = env_path(&p.path, err)))
        return NULL;
    ck_gpu *gpu = calloc(1, sizeof *gpu);
    if (!gpu) {
        ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }

    uint32_t loader_version = 0;
    if (vkEnumerateInstanceVersion(&loader_version) != VK_SUCCESS ||
        loader_version < VK_API_VERSION_1_2) {
        ck_error_set(err, CK_ERR_UNSUPPORTED, NULL, 0, 0,
                     "the Vulkan loader is older than 1.2 (install libvulkan1)");
        goto fail;
    }

    const char *layers[1];
    uint32_t layer_count = 0;
    const char *exts[1];
    uint32_t ext_count = 0;
    bool debug_utils = false;
    if (p.validation) {
        if (has_layer("VK_LAYER_KHRONOS_validation"))
            layers[layer_count++] = "VK_LAYER_KHRONOS_validation";
        else
            ck_log(CK_LOG_WARN, "gpu: validation requested but VK_LAYER_KHRONOS_validation is "
                                "not installed (vulkan-validationlayers)");
        if (has_instance_ext(VK_EXT_DEBUG_UTILS_EXTENSION_NAME)) {
            exts[ext_count++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
            debug_utils = true;
        }
    }

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "ciak",
        .applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0),
        .pEngineName = "ciak",
        .apiVersion = VK_API_VERSION_1_2,
    };
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = debug_cb,
        .pUserData = gpu,
    };
    /* Synchronisation validation too: missing barriers are the bugs lavapipe would hide. */
    VkValidationFeatureEnableEXT enables[] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .pNext = debug_utils ? &dbg : NULL,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        /* Chained so instance creation and destruction are checked too. */
        .pNext = layer_count   ? (void *)&features
                 : debug_utils ? (void *)&dbg
                               : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = layer_count,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = ext_count,
        .ppEnabledExtensionNames = exts,
    };
    VK_TRY(vkCreateInstance(&ici, NULL, &gpu->instance));
    if (debug_utils) {
        PFN_vkCreateDebugUtilsMessengerEXT create_messenger =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                gpu->instance, "vkCreateDebugUtilsMessengerEXT");
        if (create_messenger)
            VK_TRY(create_messenger(gpu->instance, &dbg, NULL, &gpu->messenger));
    }

    gpu->validation_active = layer_count && gpu->messenger;
    if (layer_count)
        ck_log(CK_LOG_INFO, "gpu: Vulkan validation on (core and synchronisation)");
    if ((st = pick_device(gpu, p.device, err)) != CK_OK)
        goto fail;
    gpu->path = p.path != CK_GPU_PATH_AUTO                             ? p.path
                : gpu->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? CK_GPU_PATH_CPU
                                                                       : CK_GPU_PATH_GPU;
    if (p.path != CK_GPU_PATH_AUTO)
        ck_log(CK_LOG_INFO, "gpu: the %s path, forced",
               gpu->path == CK_GPU_PATH_CPU ? "CPU" : "GPU");

    /* Device frames for an encoder on the same GPU: enabled where the device has them (core
     * 1.1 has VK_KHR_external_memory; the fd export is an extension). */
    const char *dev_exts[2];
    uint32_t dev_ext_count = 0;
    if (has_device_ext(gpu->phys, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME)) {
        dev_exts[dev_ext_count++] = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
        gpu->ext_memory_fd = true;
        if (has_device_ext(gpu->phys, VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME)) {
            dev_exts[dev_ext_count++] = VK_EXT_EXTERNAL_MEMORY_DMA_BUF_EXTENSION_NAME;
            gpu->ext_dma_buf = true;
        }
    }

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = gpu->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = dev_ext_count,
        .ppEnabledExtensionNames = dev_exts,
    };
    VK_TRY(vkCreateDevice(gpu->phys, &dci, NULL, &gpu->device));
    if (gpu->ext_memory_fd)
        gpu->get_memory_fd =
            (PFN_vkGetMemoryFdKHR)vkGetDeviceProcAddr(gpu->device, "vkGetMemoryFdKHR");
    vkGetDeviceQueue(gpu->device, gpu->queue_family, 0, &gpu->queue);

    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = gpu->queue_family,
    };
    VK_TRY(vkCreateCommandPool(gpu->device, &pci, NULL, &gpu->pool));
    return gpu;

error:
fail:
    (void)st;
    ck_gpu_destroy(&gpu);
    return NULL;
}

void ck_gpu_destroy(ck_gpu **pgpu)
{
    if (!pgpu || !*pgpu)
        return;
    ck_gpu *gpu = *pgpu;
    if (gpu->scenes > 0)
        ck_log(CK_LOG_WARN, "gpu: destroyed with %d scene(s) still alive", gpu->scenes);
    if (gpu->device) {
        vkDeviceWaitIdle(gpu->device);
        if (gpu->pool)
            vkDestroyCommandPool(gpu->device, gpu->pool, NULL);
        vkDestroyDevice(gpu->device, NULL);
    }
    if (gpu->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
                gpu->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy_messenger)
            destroy_messenger(gpu->instance, gpu->messenger, NULL);
    }
    if (gpu->instance)
        vkDestroyInstance(gpu->instance, NULL);
    free(gpu);
    *pgpu = NULL;
}

const char *ck_gpu_device_name(const ck_gpu *gpu)
{
    return gpu ? gpu->props.deviceName : "";
}

/* lavapipe compiles every shader with LLVM (pipeline creation, then variants per render state
 * on draws, some first needed seconds into a render) and runs none of it in between, yet the
 * ~47 MB of libLLVM's code it ran stay mapped into the process, counted in its RSS: a fifth
 * of a 720p render's peak. The code is a private, read-only file mapping that nothing writes
 * (r-xp; the relocated data lives in other, writable or RELRO, mappings, never touched here),
 * so MADV_DONTNEED only unmaps its pages: the page cache keeps them, shared by every process,
 * and a later compile faults what it runs back in (minor faults, no I/O). Nothing changes but
 * where the pages are counted. The ranges are found once per process (the library stays
 * loaded). CIAK_GPU_KEEP_CODE=1 keeps them. */
#define CODE_RANGES 4
static struct {
    uintptr_t lo[CODE_RANGES], hi[CODE_RANGES];
    int n;
    bool keep;
} code;
static pthread_once_t code_once = PTHREAD_ONCE_INIT;

static void find_code(void)
{
    const char *keep = getenv("CIAK_GPU_KEEP_CODE");
    code.keep = keep && strcmp(keep, "1") == 0;
    FILE *f = code.keep ? NULL : fopen("/proc/self/maps", "r");
    char line[4096];
    while (f && code.n < CODE_RANGES && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3 || strcmp(perms, "r-xp") != 0)
            continue;
        const char *path = strchr(line, '/');
        const char *base = path ? strrchr(path, '/') + 1 : NULL;
        if (base && strncmp(base, "libLLVM", 7) == 0) {
            code.lo[code.n] = lo;
            code.hi[code.n++] = hi;
        }
    }
    if (f)
        fclose(f);
}

size_t gpu_release_compiler_code(ck_gpu *gpu)
{
    if (!gpu || !ck_gpu_is_cpu(gpu))
        return 0;
    pthread_once(&code_once, find_code);
    size_t released = 0;
    for (int i = 0; i < code.n; i++)
        if (madvise((void *)code.lo[i], code.hi[i] - code.lo[i], MADV_DONTNEED) == 0)
            released += code.hi[i] - code.lo[i];
    gpu->code_released += released;
    return released;
}

bool ck_gpu_is_cpu(const ck_gpu *gpu)
{
    return gpu->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
}

ck_gpu_path ck_gpu_default_path(const ck_gpu *gpu)
{
    return gpu ? gpu->path : CK_GPU_PATH_AUTO;
}

void ck_gpu_get_stats(const ck_gpu *gpu, ck_gpu_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!gpu)
        return;
    out->validation_messages = gpu->validation_messages;
    out->code_released = gpu->code_released;
    out->live_objects = gpu->live_objects;
    out->device_bytes = gpu->device_bytes;
    out->frames = gpu->frames;
    out->yuv_frames = gpu->yuv_frames;
    out->host_bg_frames = gpu->host_bg_frames;
    out->reused_tile_frames = gpu->reused_tile_frames;
    out->reused_tiles = gpu->reused_tiles;
    out->readback_bytes = gpu->readback_bytes;
    out->device_frames = gpu->device_frames;
    out->validation_active = gpu->validation_active;
}

/* ---- memory, buffers, images ---- */
static int find_memory(ck_gpu *gpu, uint32_t bits, VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < gpu->mem.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (gpu->mem.memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

/* What the device can do with a buffer of `usage` exported as `handle`. */
static VkExternalMemoryFeatureFlags export_features(ck_gpu *gpu, VkBufferUsageFlags usage,
                                                    VkExternalMemoryHandleTypeFlagBits handle)
{
    VkPhysicalDeviceExternalBufferInfo info = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
        .usage = usage,
        .handleType = handle,
    };
    VkExternalBufferProperties props = {.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES};
    vkGetPhysicalDeviceExternalBufferProperties(gpu->phys, &info, &props);
    return props.externalMemoryProperties.externalMemoryFeatures;
}

bool gpu_export_supported(ck_gpu *gpu, VkBufferUsageFlags usage,
                          VkExternalMemoryHandleTypeFlagBits handle)
{
    if (!gpu->get_memory_fd ||
        (handle == VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT && !gpu->ext_dma_buf))
        return false;
    return (export_features(gpu, usage, handle) & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT) != 0;
}

static ck_status buffer_create(ck_gpu *gpu, VkDeviceSize size, VkBufferUsageFlags usage, bool host,
                               VkExternalMemoryHandleTypeFlagBits handle, gpu_buffer *out,
                               ck_error *err);

ck_status gpu_buffer_create(ck_gpu *gpu, VkDeviceSize size, VkBufferUsageFlags usage, bool host,
                            gpu_buffer *out, ck_error *err)
{
    return buffer_create(gpu, size, usage, host, 0, out, err);
}

ck_status gpu_buffer_create_exported(ck_gpu *gpu, VkDeviceSize size, VkBufferUsageFlags usage,
                                     VkExternalMemoryHandleTypeFlagBits handle, gpu_buffer *out,
                                     int *fd, ck_error *err)
{
    ck_status st = CK_OK;
    *fd = -1;
    if ((st = buffer_create(gpu, size, usage, false, handle, out, err)))
        return st;
    VkMemoryGetFdInfoKHR gi = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
        .memory = out->mem,
        .handleType = handle,
    };
    VK_TRY(gpu->get_memory_fd(gpu->device, &gi, fd));
    return CK_OK;
error:
    gpu_buffer_destroy(gpu, out);
    return st;
}

static ck_status buffer_create(ck_gpu *gpu, VkDeviceSize size, VkBufferUsageFlags usage, bool host,
                               VkExternalMemoryHandleTypeFlagBits handle, gpu_buffer *out,
                               ck_error *err)
{
    ck_status st = CK_OK;
    memset(out, 0, sizeof *out);
    VkExternalMemoryBufferCreateInfo ebi = {
        .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
        .handleTypes = (VkExternalMemoryHandleTypeFlags)handle,
    };
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .pNext = handle ? &ebi : NULL,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VK_TRY(vkCreateBuffer(gpu->device, &bci, NULL, &out->buf));
    GPU_CREATED(gpu);
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(gpu->device, out->buf, &req);
    int type = -1;
    if (host) {
        /* Readback wants cached memory (fast CPU reads); take coherent too when there is. */
        type =
            find_memory(gpu, req.memoryTypeBits,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT |
                            VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        if (type < 0)
            type = find_memory(gpu, req.memoryTypeBits,
                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        if (type < 0)
            type = find_memory(gpu, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    } else {
        type = find_memory(gpu, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
        if (type < 0)
            type = find_memory(gpu, req.memoryTypeBits, 0);
    }
    if (type < 0) {
        st = ck_error_set(err, CK_ERR_GPU, NULL, 0, 0, "no suitable memory type for a buffer");
        goto error;
    }
    out->coherent =
        (gpu->mem.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
    VkMemoryDedicatedAllocateInfo ded = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
        .buffer = out->buf,
    };
    VkExportMemoryAllocateInfo exp = {
        .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
        /* Some drivers export only dedicated allocations. */
        .pNext = handle && (export_features(gpu, usage, handle) &
                            VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT)
                     ? &ded
                     : NULL,
        .handleTypes = (VkExternalMemoryHandleTypeFlags)handle,
    };
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = handle ? &exp : NULL,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VK_TRY(vkAllocateMemory(gpu->device, &mai, NULL, &out->mem));
    GPU_CREATED(gpu);
    gpu->device_bytes += req.size;
    out->alloc = req.size;
    out->size = size;
    VK_TRY(vkBindBufferMemory(gpu->device, out->buf, out->mem, 0));
    if (host)
        VK_TRY(vkMapMemory(gpu->device, out->mem, 0, VK_WHOLE_SIZE, 0, &out->map));
    return CK_OK;
error:
    gpu_buffer_destroy(gpu, out);
    return st;
}

void gpu_buffer_destroy(ck_gpu *gpu, gpu_buffer *b)
{
    if (b->buf) {
        vkDestroyBuffer(gpu->device, b->buf, NULL);
        GPU_DESTROYED(gpu);
    }
    if (b->mem) {
        vkFreeMemory(gpu->device, b->mem, NULL);
        GPU_DESTROYED(gpu);
        gpu->device_bytes -= b->alloc;
    }
    memset(b, 0, sizeof *b);
}

ck_status gpu_image_create(ck_gpu *gpu, int w, int h, int levels, VkFormat format,
                           VkImageUsageFlags usage, gpu_image *out, ck_error *err)
{
    ck_status st = CK_OK;
    memset(out, 0, sizeof *out);
    if (w <= 0 || h <= 0 || (uint32_t)w > gpu->props.limits.maxImageDimension2D ||
        (uint32_t)h > gpu->props.limits.maxImageDimension2D)
        return ck_error_set(err, CK_ERR_LIMIT, NULL, 0, 0,
                            "image of %dx%d px exceeds the device limit of %u px", w, h,
                            gpu->props.limits.maxImageDimension2D);
    VkImageCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
        .imageType = VK_IMAGE_TYPE_2D,
        .format = format,
        .extent = {(uint32_t)w, (uint32_t)h, 1},
        .mipLevels = (uint32_t)levels,
        .arrayLayers = 1,
        .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    VK_TRY(vkCreateImage(gpu->device, &ici, NULL, &out->image));
    GPU_CREATED(gpu);
    VkMemoryRequirements req;
    vkGetImageMemoryRequirements(gpu->device, out->image, &req);
    int type = find_memory(gpu, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0)
        type = find_memory(gpu, req.memoryTypeBits, 0);
    if (type < 0) {
        st = ck_error_set(err, CK_ERR_GPU, NULL, 0, 0, "no suitable memory type for an image");
        goto error;
    }
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VK_TRY(vkAllocateMemory(gpu->device, &mai, NULL, &out->mem));
    GPU_CREATED(gpu);
    out->bytes = req.size;
    gpu->device_bytes += req.size;
    VK_TRY(vkBindImageMemory(gpu->device, out->image, out->mem, 0));
    VkImageViewCreateInfo vci = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
        .image = out->image,
        .viewType = VK_IMAGE_VIEW_TYPE_2D,
        .format = format,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, (uint32_t)levels, 0, 1},
    };
    VK_TRY(vkCreateImageView(gpu->device, &vci, NULL, &out->view));
    GPU_CREATED(gpu);
    out->width = w;
    out->height = h;
    out->levels = levels;
    out->format = format;
    return CK_OK;
error:
    gpu_image_destroy(gpu, out);
    return st;
}

void gpu_image_destroy(ck_gpu *gpu, gpu_image *im)
{
    if (im->view) {
        vkDestroyImageView(gpu->device, im->view, NULL);
        GPU_DESTROYED(gpu);
    }
    if (im->image) {
        vkDestroyImage(gpu->device, im->image, NULL);
        GPU_DESTROYED(gpu);
    }
    if (im->mem) {
        vkFreeMemory(gpu->device, im->mem, NULL);
        GPU_DESTROYED(gpu);
        gpu->device_bytes -= im->bytes;
    }
    memset(im, 0, sizeof *im);
}

VkBufferMemoryBarrier gpu_buffer_barrier(VkBuffer buf, VkAccessFlags src, VkAccessFlags dst)
{
    return (VkBufferMemoryBarrier){
        .sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
        .srcAccessMask = src,
        .dstAccessMask = dst,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .buffer = buf,
        .size = VK_WHOLE_SIZE,
    };
}

void gpu_image_barrier(VkCommandBuffer cb, VkImage image, int levels, VkImageLayout from,
                       VkImageLayout to, VkAccessFlags src_access, VkAccessFlags dst_access,
                       VkPipelineStageFlags src_stage, VkPipelineStageFlags dst_stage)
{
    VkImageMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
        .oldLayout = from,
        .newLayout = to,
        .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .image = image,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, (uint32_t)levels, 0, 1},
    };
    vkCmdPipelineBarrier(cb, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

ck_status gpu_oneshot_begin(ck_gpu *gpu, VkCommandBuffer *cb, ck_error *err)
{
    ck_status st = CK_OK;
    *cb = VK_NULL_HANDLE;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = gpu->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VK_TRY(vkAllocateCommandBuffers(gpu->device, &ai, cb));
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VK_TRY(vkBeginCommandBuffer(*cb, &bi));
    return CK_OK;
error:
    if (*cb)
        vkFreeCommandBuffers(gpu->device, gpu->pool, 1, cb);
    *cb = VK_NULL_HANDLE;
    return st;
}

ck_status gpu_oneshot_end(ck_gpu *gpu, VkCommandBuffer cb, ck_error *err)
{
    ck_status st = CK_OK;
    VK_TRY(vkEndCommandBuffer(cb));
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cb,
    };
    VK_TRY(vkQueueSubmit(gpu->queue, 1, &si, VK_NULL_HANDLE));
    /* Scene creation only: waiting here keeps the staging buffers simple. */
    VK_TRY(vkQueueWaitIdle(gpu->queue));
error:
    vkFreeCommandBuffers(gpu->device, gpu->pool, 1, &cb);
    return st;
}

/* ---- image files ---- */
ck_status ck_image_write(const char *path, const uint8_t *px, int width, int height, int channels,
                         size_t stride, ck_error *err)
{
    if (!path || !px || width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
        stride < (size_t)width * (size_t)channels)
        return ck_error_set(err, CK_ERR_INVALID, path, 0, 0, "invalid image to write");
    size_t n = strlen(path);
    bool jpeg = (n > 4 && strcasecmp(path + n - 4, ".jpg") == 0) ||
                (n > 5 && strcasecmp(path + n - 5, ".jpeg") == 0);
    if (!gpu_stb_write(path, px, width, height, channels, stride, jpeg))
        return ck_error_set(err, CK_ERR_IO, path, 0, 0, "cannot write image \"%s\"", path);
    return CK_OK;
}

uint8_t *ck_image_read(const char *path, int *width, int *height, ck_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    if (ck_read_file(path, 256u << 20, &buf, &len, err) != CK_OK)
        return NULL;
    const char *reason = NULL;
    uint8_t *px = gpu_stb_decode((const uint8_t *)buf, len, width, height, &reason);
    free(buf);
    if (!px) {
        ck_error_set(err, CK_ERR_PARSE, path, 0, 0, "cannot decode image \"%s\": %s", path,
                     reason ? reason : "unknown format");
        return NULL;
    }
    /* stb allocates with malloc (no STBI_MALLOC override), so free() releases it. */
    return px;
}
