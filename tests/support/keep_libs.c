/* keep_libs.c: linked into every executable of a sanitizer build (CIAK_SANITIZE) only.
 *
 * The Vulkan loader unloads the driver (Mesa's lavapipe and its LLVM JIT) when the instance is
 * destroyed. LeakSanitizer runs at exit, after that, so it can no longer name the module of
 * the driver's lazily freed allocations, and tests/lsan.supp cannot suppress them by library
 * name. Making dlclose a no-op keeps every library mapped until exit, so those reports carry
 * the library name and are suppressed, while leaks in ciak's own code are still reported.
 */
#include <stddef.h>

int dlclose(void *handle);

int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
