/* ro_fault.c: an LD_PRELOAD library for tests/cli/faults.sh: "the SQLite file becomes
 * read-only" under a running server.
 *
 * The kernel turns a file system read-only under its writers (ext4's errors=remount-ro after
 * a disk error), and every write through descriptors already open then fails with EROFS. A
 * test cannot cause that on a tmpfs: `mount -o remount,ro` (or a read-only bind mount) is
 * refused while the server holds its SQLite files open for writing, file modes do not stop
 * root, and SQLite writes through the descriptors it holds. So this library gives the server
 * exactly what the kernel would: while the file named by CIAK_RO_FAULT_FLAG exists, a write,
 * truncation or allocation on an open file whose name ends in ".db", ".db-wal" or
 * ".db-journal", an open of one for writing and access(W_OK) on one, fail with EROFS. Everything
 * else passes through; with the flag file gone the files are writable again, as after a remount rw.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static bool faulty_name(const char *path)
{
    static const char *const ends[] = {".db", ".db-wal", ".db-journal"};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        size_t e = strlen(ends[i]);
        if (n >= e && strcmp(path + n - e, ends[i]) == 0)
            return true;
    }
    return false;
}

static bool fault_on(void)
{
    /* stat, not access: access is answered by this library too. */
    const char *flag = getenv("CIAK_RO_FAULT_FLAG");
    struct stat sb;
    return flag && *flag && stat(flag, &sb) == 0;
}

static bool faulty_fd(int fd)
{
    if (fd < 0 || !fault_on())
        return false;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return false;
    path[n] = '\0';
    return faulty_name(path);
}

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*ftruncate_fn)(int, off_t);
typedef int (*fallocate_fn)(int, off_t, off_t);
typedef int (*open_fn)(const char *, int, ...);
typedef int (*access_fn)(const char *, int);
/* The next definition of `name` (libc's), found once. */
#define REAL(name, type)                                                                           \
    static type real_##name;                                                                       \
    if (!real_##name)                                                                              \
    real_##name = (type)dlsym(RTLD_NEXT, #name)

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset);
ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset)
{
    REAL(pwrite64, pwrite_fn);
    if (faulty_fd(fd)) {
        errno = EROFS;
        return -1;
    }
    return real_pwrite64(fd, buf, count, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
    REAL(pwrite, pwrite_fn);
    if (faulty_fd(fd)) {
        errno = EROFS;
        return -1;
    }
    return real_pwrite(fd, buf, count, offset);
}

ssize_t write(int fd, const void *buf, size_t count)
{
    REAL(write, write_fn);
    if (faulty_fd(fd)) {
        errno = EROFS;
        return -1;
    }
    return real_write(fd, buf, count);
}

int ftruncate(int fd, off_t length)
{
    REAL(ftruncate, ftruncate_fn);
    if (faulty_fd(fd)) {
        errno = EROFS;
        return -1;
    }
    return real_ftruncate(fd, length);
}

int ftruncate64(int fd, off_t length);
int ftruncate64(int fd, off_t length)
{
    REAL(ftruncate64, ftruncate_fn);
    if (faulty_fd(fd)) {
        errno = EROFS;
        return -1;
    }
    return real_ftruncate64(fd, length);
}

int posix_fallocate(int fd, off_t offset, off_t len)
{
    REAL(posix_fallocate, fallocate_fn);
    if (faulty_fd(fd))
        return EROFS;
    return real_posix_fallocate(fd, offset, len);
}

/* Opening for writing: what open(2) answers on a read-only file system. */
static bool refuse_open(const char *path, int flags)
{
    return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) && path && faulty_name(path) &&
           fault_on();
}

static int open_impl(const char *name, open_fn real, const char *path, int flags, va_list ap)
{
    (void)name;
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
    if (refuse_open(path, flags)) {
        errno = EROFS;
        return -1;
    }
    return real(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
    REAL(open, open_fn);
    va_list ap;
    va_start(ap, flags);
    int fd = open_impl("open", real_open, path, flags, ap);
    va_end(ap);
    return fd;
}

int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
    REAL(open64, open_fn);
    va_list ap;
    va_start(ap, flags);
    int fd = open_impl("open64", real_open64, path, flags, ap);
    va_end(ap);
    return fd;
}

/* access(W_OK): a program asking whether it could write is told what a write would meet. */
int access(const char *path, int mode)
{
    REAL(access, access_fn);
    if ((mode & W_OK) && faulty_name(path) && fault_on()) {
        errno = EROFS;
        return -1;
    }
    return real_access(path, mode);
}
