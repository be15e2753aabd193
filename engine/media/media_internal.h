/* media_internal.h: helpers shared by the media module's files. */
#ifndef CK_MEDIA_INTERNAL_H
#define CK_MEDIA_INTERNAL_H

#include "ck_media.h"

#include <libavformat/avformat.h>

/* Sets err from an FFmpeg error code: "what: message", naming `file`. Returns CK_ERR_MEDIA. */
ck_status media_averr(ck_error *err, const char *file, int ret, const char *what);
/* FFmpeg's messages on this thread are dropped between media_quiet(true) and (false):
 * hardware probes fail routinely (no GPU, no driver) and say so loudly. Nests. */
void media_quiet(bool on);
/* "<path>.tmp<pid>", malloc'd. */
char *media_tmp_path(const char *path);
/* fsync(tmp), rename(tmp, path); removes tmp on failure. */
ck_status media_commit(const char *tmp, const char *path, ck_error *err);

/* ---- the MPEG-TS muxer a segment writer and a video copy share (the same bytes) ---- */
/* The muxer: bit-exact, 0.7 s mux delay, timestamps absolute (never shifted to zero). */
ck_status media_ts_muxer(AVFormatContext **oc, const char *path, ck_error *err);
/* The AAC stream (48 kHz LC, `channels` 1 or 2), NULL when out of memory. */
AVStream *media_ts_audio_stream(AVFormatContext *oc, int channels);
/* Opens `tmp` and writes the header (initial discontinuity), errors naming `path`. */
ck_status media_ts_header(AVFormatContext *oc, const char *tmp, const char *path, ck_error *err);
/* The segment's audio: p->audio's whole AAC frames whose pts is in [audio_from, audio_to),
 * so consecutive segments carry consecutive frames; the interleaver orders them. */
ck_status media_ts_audio_packets(AVFormatContext *oc, AVStream *ast, AVPacket *pkt,
                                 const ck_ts_params *p, const char *path, ck_error *err);

#endif
