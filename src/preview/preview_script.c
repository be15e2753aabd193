/* preview_script.c: --script FILE, timed key presses for tests (and for recording a demo of
 * the window): the same code path as the keyboard, driven by the clock. */
#include "preview.h"

#include <GLFW/glfw3.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int key;
} key_names[] = {
    {"space", GLFW_KEY_SPACE},
    {"left", GLFW_KEY_LEFT},
    {"right", GLFW_KEY_RIGHT},
    {"up", GLFW_KEY_UP},
    {"down", GLFW_KEY_DOWN},
    {"pageup", GLFW_KEY_PAGE_UP},
    {"pagedown", GLFW_KEY_PAGE_DOWN},
    {"home", GLFW_KEY_HOME},
    {"end", GLFW_KEY_END},
    {"escape", GLFW_KEY_ESCAPE},
    {"f1", GLFW_KEY_F1},
};

/* "shift+right" -> key and mods; letters and digits name themselves. */
static bool parse_key(const char *s, int *key, int *mods)
{
    *mods = 0;
    if (strncmp(s, "shift+", 6) == 0) {
        *mods = GLFW_MOD_SHIFT;
        s += 6;
    }
    for (size_t i = 0; i < CK_ARRAY_LEN(key_names); i++)
        if (strcmp(s, key_names[i].name) == 0) {
            *key = key_names[i].key;
            return true;
        }
    if (s[0] && !s[1] && isalnum((unsigned char)s[0])) {
        /* GLFW_KEY_A.. and GLFW_KEY_0.. are the ASCII codes of 'A'.. and '0'.. */
        *key = toupper((unsigned char)s[0]);
        return true;
    }
    return false;
}

bool pv_script_load(pv_app *a, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: error: cannot read the script\n", path);
        return false;
    }
    char line[256];
    int lineno = 0, cap = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        double t = 0;
        char action[64] = "", arg[64] = "";
        int n = sscanf(line, "%lf %63s %63s", &t, action, arg);
        if (n <= 0) {
            if (strspn(line, " \t\r\n") == strlen(line))
                continue; /* blank or comment */
        }
        pv_script_event ev = {.t = t};
        if (n < 2 || t < 0)
            ok = false;
        else if (strcmp(action, "size") == 0) {
            char tail = 0;
            ev.cmd = PV_CMD_SIZE;
            ok = sscanf(arg, "%dx%d%c", &ev.key, &ev.mods, &tail) == 2 && ev.key > 0 &&
                 ev.mods > 0 && ev.key <= 8192 && ev.mods <= 8192;
        } else if (n != 2)
            ok = false;
        else if (strcmp(action, "shot") == 0)
            ev.cmd = PV_CMD_SHOT;
        else if (strcmp(action, "quit") == 0)
            ev.cmd = PV_CMD_QUIT;
        else
            ok = parse_key(action, &ev.key, &ev.mods);
        if (!ok) {
            fprintf(stderr,
                    "%s:%d: error: expected \"SECONDS ACTION\" (a key, shot, size WxH or quit)\n",
                    path, lineno);
            break;
        }
        if (a->script_count == cap) {
            cap = cap ? cap * 2 : 16;
            pv_script_event *grown = realloc(a->script, (size_t)cap * sizeof *grown);
            if (!grown) {
                ok = false;
                break;
            }
            a->script = grown;
        }
        a->script[a->script_count++] = ev;
    }
    fclose(f);
    return ok;
}

void pv_script_run(pv_app *a)
{
    double t = pv_now() - a->script_t0;
    /* One action per call: each gets its own render and draw before the next fires, so a
     * "shot" after a key sees the key's effect. */
    if (a->script_next < a->script_count && a->script[a->script_next].t <= t) {
        const pv_script_event *ev = &a->script[a->script_next++];
        if (ev->cmd == PV_CMD_SHOT) {
            a->autoshot_pending = true;
            a->need_draw = true;
        } else if (ev->cmd == PV_CMD_SIZE) {
            glfwSetWindowSize(a->win, ev->key, ev->mods);
        } else if (ev->cmd == PV_CMD_QUIT) {
            glfwSetWindowShouldClose(a->win, GLFW_TRUE);
        } else {
            pv_input_key(a, ev->key, ev->mods);
        }
    }
}
