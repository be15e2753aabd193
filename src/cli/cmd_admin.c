/* cmd_admin.c: operators' commands on the store, the cache and the key file:
 *   ciak revoke CAMPAIGN PERSON_ID   every link issued to the person answers 404
 *   ciak purge                       removes people whose availability window has closed
 *   ciak warm CAMPAIGN               renders the campaign's shared segments into the cache
 *   ciak keys rotate | drop ID       a new token key signs from now on / an old one goes */
#include "ck_cli.h"
#include "ck_server.h"

#include "ck_analytics.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads "--data-dir DIR" / "--scenes DIR"; collects the positional arguments. Returns the
 * count of positionals, -1 on a usage error. */
static int parse(int argc, char **argv, const char **data_dir, const char **scenes,
                 const char **size, const char **pos, int max)
{
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            *data_dir = argv[++i];
        else if (strcmp(argv[i], "--scenes") == 0 && i + 1 < argc && scenes)
            *scenes = argv[++i];
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc && size)
            *size = argv[++i];
        else if (argv[i][0] != '-' && n < max)
            pos[n++] = argv[i];
        else
            return -1;
    }
    return n;
}

static int fail(const char *cmd, const ck_error *err)
{
    char buf[1400];
    fprintf(stderr, "ciak %s: %s\n", cmd, ck_error_format(err, buf, sizeof buf));
    return CK_EXIT_PROBLEMS;
}

int ck_cmd_revoke(int argc, char **argv)
{
    const char *data_dir = "var", *pos[2];
    if (parse(argc, argv, &data_dir, NULL, NULL, pos, 2) != 2) {
        fprintf(stderr, "usage: ciak revoke CAMPAIGN PERSON_ID [--data-dir DIR]\n");
        return CK_EXIT_USAGE;
    }
    ck_keyring keys;
    ck_store *st;
    if (!ck_cli_open_store(data_dir, false, &keys, &st))
        return CK_EXIT_PROBLEMS;
    ck_error err = {0};
    ck_status s = ck_store_revoke(st, pos[0], pos[1], &err);
    ck_store_close(&st);
    ck_keyring_wipe(&keys);
    if (s != CK_OK)
        return fail("revoke", &err);
    printf("revoked: the person's links answer 404; `ciak links` issues a new one\n");
    return CK_EXIT_OK;
}

int ck_cmd_purge(int argc, char **argv)
{
    const char *data_dir = "var", *pos[1];
    if (parse(argc, argv, &data_dir, NULL, NULL, pos, 0) != 0) {
        fprintf(stderr, "usage: ciak purge [--data-dir DIR]\n");
        return CK_EXIT_USAGE;
    }
    ck_keyring keys;
    ck_store *st;
    if (!ck_cli_open_store(data_dir, false, &keys, &st))
        return CK_EXIT_PROBLEMS;
    ck_error err = {0};
    int64_t removed = 0;
    ck_status s = ck_store_purge(st, ck_today(), &removed, &err);
    ck_store_close(&st);
    ck_keyring_wipe(&keys);
    if (s != CK_OK)
        return fail("purge", &err);
    printf("purged %lld person(s) past their availability window\n", (long long)removed);
    return CK_EXIT_OK;
}

int ck_cmd_warm(int argc, char **argv)
{
    const char *data_dir = "var", *scenes = "scenes", *size = NULL, *pos[1];
    ck_server_params p = {0};
    if (parse(argc, argv, &data_dir, &scenes, &size, pos, 1) != 1 ||
        (size &&
         (sscanf(size, "%dx%d", &p.width, &p.height) != 2 || p.width <= 0 || p.height <= 0))) {
        fprintf(stderr, "usage: ciak warm CAMPAIGN [--data-dir DIR] [--scenes DIR] [--size WxH]\n");
        return CK_EXIT_USAGE;
    }
    p.data_dir = data_dir;
    p.scenes_dir = scenes;
    ck_error err = {0};
    int rendered = 0;
    if (ck_server_warm(&p, pos[0], &rendered, &err) != CK_OK)
        return fail("warm", &err);
    printf("%s: %d shared segment(s) rendered into %s/cache/shared\n", pos[0], rendered, data_dir);
    return CK_EXIT_OK;
}

int ck_cmd_keys(int argc, char **argv)
{
    const char *data_dir = "var", *pos[2];
    int n = parse(argc, argv, &data_dir, NULL, NULL, pos, 2);
    char path[1100];
    snprintf(path, sizeof path, "%s/keys", data_dir);
    ck_error err = {0};
    if (n == 1 && strcmp(pos[0], "rotate") == 0) {
        uint32_t id = 0;
        if (ck_keyring_rotate(path, &id, &err) != CK_OK)
            return fail("keys", &err);
        printf("token key %u signs new links; older keys still verify until dropped "
               "(restart the server to load it)\n",
               id);
        return CK_EXIT_OK;
    }
    if (n == 2 && strcmp(pos[0], "drop") == 0) {
        char *end;
        errno = 0;
        unsigned long id = strtoul(pos[1], &end, 10);
        if (errno || *end || id == 0 || id > UINT32_MAX) {
            fprintf(stderr, "ciak keys: drop wants a key id (see the key file)\n");
            return CK_EXIT_USAGE;
        }
        if (ck_keyring_drop(path, (uint32_t)id, &err) != CK_OK)
            return fail("keys", &err);
        printf("token key %lu dropped: links signed with it answer 404 after a restart\n", id);
        return CK_EXIT_OK;
    }
    fprintf(stderr, "usage: ciak keys rotate | drop ID [--data-dir DIR]\n");
    return CK_EXIT_USAGE;
}

/* `ciak admin-password [--data-dir DIR]`: reads a password (no echo on a terminal) and writes
 * <data-dir>/admin (mode 0600) with its argon2id hash, which turns the dashboard on. */
int ck_cmd_admin_password(int argc, char **argv)
{
    const char *data_dir = "var", *pos[1];
    if (parse(argc, argv, &data_dir, NULL, NULL, pos, 0) != 0) {
        fprintf(stderr, "usage: ciak admin-password [--data-dir DIR]  (password on stdin)\n");
        return CK_EXIT_USAGE;
    }
    bool tty = isatty(STDIN_FILENO);
    struct termios old;
    if (tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        struct termios quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fprintf(stderr, "dashboard password (at least 12 characters): ");
    } else {
        tty = false;
    }
    char pw[256];
    bool got = fgets(pw, sizeof pw, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    size_t n = got ? strcspn(pw, "\r\n") : 0;
    pw[n] = 0;
    if (n < 12) {
        sodium_memzero(pw, sizeof pw);
        fprintf(stderr, "ciak admin-password: the password needs at least 12 characters\n");
        return CK_EXIT_USAGE;
    }
    char line[crypto_pwhash_STRBYTES + 32];
    ck_error err = {0};
    ck_status st = ck_admin_hash_password(pw, line, sizeof line, &err);
    sodium_memzero(pw, sizeof pw);
    if (st != CK_OK)
        return fail("admin-password", &err);
    char path[1100], tmp[1120];
    snprintf(path, sizeof path, "%s/admin", data_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(line);
    bool ok = fd >= 0 && write(fd, line, len) == (ssize_t)len &&
              (len && line[len - 1] == '\n' ? true : write(fd, "\n", 1) == 1) && fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "ciak admin-password: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return CK_EXIT_PROBLEMS;
    }
    printf("wrote %s: the dashboard at /admin/ accepts this password (restart the server)\n", path);
    return CK_EXIT_OK;
}
