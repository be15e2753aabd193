/* util.c: small helpers of the server. */
#include "server_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

ck_status ck_srv_mkdirs(const char *path, ck_error *err)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return ck_error_set(err, CK_ERR_INVALID, path, 0, 0, "bad folder name");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) /* people's videos: private */
            return ck_error_set(err, CK_ERR_IO, buf, 0, 0, "cannot make folder: %s",
                                strerror(errno));
        buf[i] = c;
    }
    return CK_OK;
}

double ck_srv_now_ms(void)
{
    return ck_now_s() * 1e3;
}

bool ck_srv_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0' || s[n] == '.';
}
