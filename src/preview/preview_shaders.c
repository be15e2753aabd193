/* preview_shaders.c: live shader reload for the preview. With `--shaders DIR`, every shader
 * the compositor uses is compiled from DIR with glslangValidator into a temporary folder, and
 * the GPU scene loads that SPIR-V instead of the built-in one; the watcher reloads when a
 * shader source changes. A compile error becomes file:line diagnostics on the error overlay,
 * and the last good generation keeps showing. */
#include "preview.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Appends `s` to buf in single quotes for the shell (a ' becomes '\''). */
static bool shell_quote(char *buf, size_t size, const char *s)
{
    size_t n = strlen(buf);
    if (n + 3 > size)
        return false;
    buf[n++] = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            if (n + 5 > size)
                return false;
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            if (n + 2 > size)
                return false;
            buf[n++] = *s;
        }
    }
    buf[n++] = '\'';
    buf[n] = 0;
    return true;
}

static bool append(char *buf, size_t size, const char *s)
{
    size_t n = strlen(buf), m = strlen(s);
    if (n + m + 1 > size)
        return false;
    memcpy(buf + n, s, m + 1);
    return true;
}

/* glslang prints "ERROR: /path/x.frag:12: 'foo' : undeclared identifier". */
static void add_glslang_line(ck_diags *d, const char *line, const char *fallback_file)
{
    if (strncmp(line, "ERROR: ", 7) != 0)
        return;
    const char *p = line + 7, *colon = strchr(p, ':');
    char *end = NULL;
    long ln = colon ? strtol(colon + 1, &end, 10) : 0;
    if (colon && end && end != colon + 1 && *end == ':') {
        char file[1024];
        snprintf(file, sizeof file, "%.*s", (int)(colon - p), p);
        ck_diag_add(d, CK_SEV_ERROR, file, (int)ln, 0, "%s", end + 1 + (end[1] == ' '));
    } else {
        ck_diag_add(d, CK_SEV_ERROR, fallback_file, 0, 0, "%s", p);
    }
}

char *pv_shaders_compile(const char *src, ck_diags *diags)
{
    char tmpl[] = "/tmp/ciak-preview-spv-XXXXXX";
    if (!mkdtemp(tmpl)) {
        ck_diag_add(diags, CK_SEV_ERROR, src, 0, 0, "cannot make a temporary folder for shaders");
        return NULL;
    }
    size_t count;
    const char *const *names = ck_gpu_shader_sources(&count);
    size_t errors0 = diags->errors;
    for (size_t i = 0; i < count; i++) {
        char in[2048], out[2048], cmd[8192] = "glslangValidator -V --target-env vulkan1.2 -I";
        snprintf(in, sizeof in, "%s/%s", src, names[i]);
        snprintf(out, sizeof out, "%s/%s.spv", tmpl, names[i]);
        bool ok = shell_quote(cmd, sizeof cmd, src) && append(cmd, sizeof cmd, " -o ") &&
                  shell_quote(cmd, sizeof cmd, out) && append(cmd, sizeof cmd, " ") &&
                  shell_quote(cmd, sizeof cmd, in) && append(cmd, sizeof cmd, " 2>&1");
        FILE *f = ok ? popen(cmd, "r") : NULL;
        if (!f) {
            ck_diag_add(diags, CK_SEV_ERROR, in, 0, 0, "cannot run glslangValidator");
            continue;
        }
        char line[1024];
        size_t before = diags->errors;
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            add_glslang_line(diags, line, in);
        }
        int rc = pclose(f);
        if (rc != 0 && diags->errors == before)
            ck_diag_add(diags, CK_SEV_ERROR, in, 0, 0,
                        "glslangValidator failed (is glslang-tools installed?)");
    }
    if (diags->errors > errors0) {
        pv_shaders_remove(tmpl);
        return NULL;
    }
    return strdup(tmpl);
}

void pv_shaders_remove(const char *dir)
{
    size_t count;
    const char *const *names = ck_gpu_shader_sources(&count);
    for (size_t i = 0; i < count; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s.spv", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int pv_shaders_sources(const char *src, char **out, int max)
{
    /* Every file in the folder: the shaders and what they #include (common.glsl). */
    DIR *d = opendir(src);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) && n < max;) {
        if (e->d_name[0] == '.')
            continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", src, e->d_name);
        if (ck_file_exists(p) && (out[n] = strdup(p)))
            n++;
    }
    closedir(d);
    return n;
}
