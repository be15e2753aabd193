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

/* The options of every command here; each table names the fields its command reads. */
typedef struct admin_opts {
    const char *campaign, *person, *scenes;
    int key_id;
    ck_cli_size size;
    ck_cli_store store;
} admin_opts;

#define CAMPAIGN_ARG(text)                                                                         \
    {                                                                                              \
        .name = "CAMPAIGN", .help = text, .parse = ck_opt_str,                                     \
        .offset = offsetof(admin_opts, campaign)                                                   \
    }

static const ck_opt no_opts[] = {{0}};
static const ck_opt revoke_table[] = {
    CAMPAIGN_ARG("the campaign"),
    {.name = "PERSON_ID",
     .help = "the person's id, as imported",
     .parse = ck_opt_str,
     .offset = offsetof(admin_opts, person)},
    {0},
};
static const ck_opt warm_table[] = {
    CAMPAIGN_ARG("the campaign whose shared segments are rendered"),
    {.name = "--scenes",
     .arg = "DIR",
     .help = "one folder per campaign",
     .def = "scenes",
     .parse = ck_opt_str,
     .offset = offsetof(admin_opts, scenes)},
    {.name = "--size",
     .arg = "WxH",
     .help = "output size, even, as `ciak serve --size` (default: the scene's canvas)",
     .parse = ck_opt_size_even,
     .offset = offsetof(admin_opts, size)},
    {0},
};
static const ck_opt drop_table[] = {
    {.name = "ID",
     .help = "the key's id (the first field of its line in DIR/keys)",
     .parse = ck_opt_int,
     .offset = offsetof(admin_opts, key_id),
     .lo = 1,
     .hi = INT32_MAX},
    {0},
};

#define ADMIN_CMD(name, summary, table, run)                                                       \
    {                                                                                              \
        name, summary, {{table, 0}, {ck_cli_store_opts, offsetof(admin_opts, store)}},             \
            sizeof(admin_opts), NULL, run                                                          \
    }

static int fail(const char *cmd, const ck_error *err)
{
    char buf[1400];
    fprintf(stderr, "ciak %s: %s\n", cmd, ck_error_format(err, buf, sizeof buf));
    return CK_EXIT_PROBLEMS;
}

static int cmd_revoke(const void *opts)
{
    const admin_opts *o = opts;
    const char *pos[2] = {o->campaign, o->person};
    ck_keyring keys;
    ck_store *st;
    if (!ck_cli_open_store(&o->store, false, &keys, &st))
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

static int cmd_purge(const void *opts)
{
    const admin_opts *o = opts;
    ck_keyring keys;
    ck_store *st;
    if (!ck_cli_open_store(&o->store, false, &keys, &st))
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

static int cmd_warm(const void *opts)
{
    const admin_opts *o = opts;
    const char *data_dir = o->store.data_dir, *scenes = o->scenes, *pos[1] = {o->campaign};
    ck_server_params p = {.width = o->size.w, .height = o->size.h};
    p.data_dir = data_dir;
    p.scenes_dir = scenes;
    ck_error err = {0};
    int rendered = 0;
    if (ck_server_warm(&p, pos[0], &rendered, &err) != CK_OK)
        return fail("warm", &err);
    printf("%s: %d shared segment(s) rendered into %s/cache/shared\n", pos[0], rendered, data_dir);
    return CK_EXIT_OK;
}

static void key_path(const admin_opts *o, char *path, size_t size)
{
    ck_cli_key_path(&o->store, path, size);
}

static int cmd_keys_rotate(const void *opts)
{
    char path[1100];
    key_path(opts, path, sizeof path);
    ck_error err = {0};
    uint32_t id = 0;
    if (ck_keyring_rotate(path, &id, &err) != CK_OK)
        return fail("keys", &err);
    printf("token key %u signs new links; older keys still verify until dropped "
           "(restart the server to load it)\n",
           id);
    return CK_EXIT_OK;
}

static int cmd_keys_drop(const void *opts)
{
    const admin_opts *o = opts;
    char path[1100];
    key_path(o, path, sizeof path);
    ck_error err = {0};
    if (ck_keyring_drop(path, (uint32_t)o->key_id, &err) != CK_OK)
        return fail("keys", &err);
    printf("token key %d dropped: links signed with it answer 404 after a restart\n", o->key_id);
    return CK_EXIT_OK;
}

/* `ciak admin-password [--data-dir DIR | --db URL]`: reads a password (no echo on a terminal)
 * and stores its argon2id hash in <data-dir>/admin (mode 0600) or in the cluster's database,
 * which turns the dashboard on. */
static int cmd_admin_password(const void *opts)
{
    const char *data_dir = ((const admin_opts *)opts)->store.data_dir;
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
    const char *db = ((const admin_opts *)opts)->store.db;
    if (ck_admin_save(data_dir, db, line, &err) != CK_OK)
        return fail("admin-password", &err);
    if (db)
        printf("stored in the database: every node's dashboard at /admin/ accepts this password "
               "(restart the nodes); earlier sessions have ended\n");
    else
        printf("wrote %s/admin: the dashboard at /admin/ accepts this password (restart the "
               "server)\n",
               data_dir);
    return CK_EXIT_OK;
}

const ck_cli_cmd ck_cli_cmd_revoke =
    ADMIN_CMD("revoke", "every link issued to the person answers 404", revoke_table, cmd_revoke);
const ck_cli_cmd ck_cli_cmd_purge = ADMIN_CMD(
    "purge", "removes the people whose availability window has closed", no_opts, cmd_purge);
const ck_cli_cmd ck_cli_cmd_warm =
    ADMIN_CMD("warm", "renders a campaign's shared segments into the cache", warm_table, cmd_warm);
const ck_cli_cmd ck_cli_cmd_keys_rotate =
    ADMIN_CMD("keys rotate", "a new token key signs links from now on", no_opts, cmd_keys_rotate);
const ck_cli_cmd ck_cli_cmd_keys_drop =
    ADMIN_CMD("keys drop", "an old token key goes: links signed with it answer 404", drop_table,
              cmd_keys_drop);
const ck_cli_cmd ck_cli_cmd_admin_password = ADMIN_CMD(
    "admin-password", "sets the dashboard's password, read from stdin (at least 12 characters)",
    no_opts, cmd_admin_password);
