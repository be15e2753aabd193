/* media_internal.h: helpers shared by the media module's files. */
#ifndef CK_MEDIA_INTERNAL_H
#define CK_MEDIA_INTERNAL_H

#include "ck_media.h"

/* Sets err from an FFmpeg error code: "what: message", naming `file`. Returns CK_ERR_MEDIA. */
ck_status media_averr(ck_error *err, const char *file, int ret, const char *what);
/* FFmpeg's messages on this thread are dropped between media_quiet(true) and (false):
 * hardware probes fail routinely (no GPU, no driver) and say so loudly. Nests. */
void media_quiet(bool on);
/* "<path>.tmp<pid>", malloc'd. */
char *media_tmp_path(const char *path);
/* fsync(tmp), rename(tmp, path); removes tmp on failure. */
ck_status media_commit(const char *tmp, const char *path, ck_error *err);

#endif
