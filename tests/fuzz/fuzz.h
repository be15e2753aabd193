/* fuzz.h: what every fuzz target shares (tests/fuzz/README.md).
 *
 * Each fuzz_<target>.c defines LLVMFuzzerTestOneInput (and, when it needs one-time set-up,
 * LLVMFuzzerInitialize). Built with clang -fsanitize=fuzzer, libFuzzer drives it (`make
 * fuzz`); built with any compiler without it, driver.c's main() replays files and folders
 * given on the command line (the regression and seed corpora, in `make test`). */
#ifndef CK_FUZZ_H
#define CK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The demo scene the record, template and `when` targets compile against (loaded once,
 * assets not opened). Aborts when it cannot be loaded: the harness is broken, not the input. */
struct ck_scene;
const struct ck_scene *ck_fuzz_scene(void);

/* A NUL-terminated copy of the input (malloc'd; free() it). */
char *ck_fuzz_cstr(const uint8_t *data, size_t size);

#endif
