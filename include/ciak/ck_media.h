/* ck_media.h: decoding, encoding and muxing with FFmpeg's libraries.
 *
 * - Encoders: H.264 for HLS, chosen at run time by opening them (h264_nvenc, h264_vaapi,
 *   libx264). Every encoder session makes one segment: IDR first, closed GOP, no scene-cut
 *   keyframes, CRF/CQ capped by VBV (maxrate/bufsize), High profile, fixed threads and no
 *   wall-clock metadata, so the same frames always give the same bytes (libx264).
 * - Video decoder: a background video asset's frame at a source time (looping or clamped),
 *   sequential decoding with seeks only when the time jumps; the frame is exact whatever the
 *   decode history (seeks land on keyframes and decode forward).
 * - Audio: the campaign's track decoded, resampled to 48 kHz (mono for a mono track, else
 *   stereo) and encoded to AAC-LC once (cached as an ADTS file), exactly the scene's duration
 *   (cut or padded with silence).
 * - Segment writer: one MPEG-TS file per segment, video and the campaign's audio packets for
 *   the segment's time span, timestamps from the absolute frame / sample number, written to a
 *   temporary name and renamed into place only when complete.
 *
 * FFmpeg messages are routed to ck_log (warnings and errors only).
 * Ownership: create/destroy pairs; frames returned by a decoder belong to it and stay valid
 * until its next call. Thread safety: each object belongs to one thread at a time.
 */
#ifndef CK_MEDIA_H
#define CK_MEDIA_H

#include "ck_gpu.h"

#include <stdio.h>

/* Installs the FFmpeg log callback (idempotent). Called by every create function. */
void ck_media_init(void);

/* ---- encoder configuration ---- */
typedef struct ck_enc_config {
    const char *encoder;  /* "libx264", "h264_nvenc", "h264_vaapi" */
    int width, height;    /* even */
    int fps_num, fps_den; /* frame rate */
    int quality;          /* CRF / CQ / QP (0: 23) */
    int64_t maxrate;      /* VBV, bit/s (0: 3 Mbit/s at 1280x720, scaled by pixel count) */
    int64_t bufsize;      /* VBV buffer, bits (0: maxrate, one second) */
    int threads;          /* libx264 slices, one thread each, never frame threads (0: 2 from
                           * 720 lines up, else 1): part of the fingerprint, so a digest
                           * names one byte string on every node */
    const char *preset;   /* x264 preset (NULL: "veryfast") */
} ck_enc_config;

/* Fills the zero fields of `cfg` with defaults (encoder name excluded). */
void ck_enc_config_defaults(ck_enc_config *cfg);

/* The encoders tried when none is asked for, in order. */
extern const char *const ck_media_encoders[];

/* Picks an encoder: `want` first (when non-NULL), then h264_nvenc, h264_vaapi, libx264, each
 * tried by opening it with `cfg`'s size and rate. Logs one line when `want` is unavailable and
 * which encoder it fell back to. Returns a static name, NULL when none opens (err says why). */
const char *ck_media_probe_encoder(const char *want, const ck_enc_config *cfg, ck_error *err);

/* A text naming every setting that changes the encoded bytes (for segment digests). */
void ck_enc_config_fingerprint(const ck_enc_config *cfg, char *buf, size_t size);

/* Peak bit rate a playlist may declare for segments of at least `min_seconds` (VBV cap plus a
 * full buffer, audio and MPEG-TS overhead), bit/s. */
int64_t ck_enc_config_peak_bitrate(const ck_enc_config *cfg, double min_seconds,
                                   int64_t audio_bitrate);

/* The RFC 6381 codecs string of the video stream, e.g. "avc1.64001f". */
void ck_enc_config_codecs(const ck_enc_config *cfg, char *buf, size_t size);

/* ---- video decoding ---- */
typedef struct ck_video_decoder ck_video_decoder;

/* Opens a video file and checks its first frame decodes. Errors name the file. */
ck_video_decoder *ck_video_decoder_open(const char *path, ck_error *err);
void ck_video_decoder_destroy(ck_video_decoder **d);
/* Duration (seconds), frame rate and frame count of the source. */
double ck_video_decoder_duration(const ck_video_decoder *d);
int64_t ck_video_decoder_frames(const ck_video_decoder *d);
/* The source's size in px. */
void ck_video_decoder_size(const ck_video_decoder *d, int *width, int *height);
/* Frames from now on scaled to width x height (bilinear, rounded down to even; 0: the source's
 * size). */
void ck_video_decoder_set_size(ck_video_decoder *d, int width, int height);

/* The source frame shown at `t` seconds (frame floor(t * fps)): wrapped at the duration
 * when `loop`, else held on the last frame. Fills out->format, width, height, planes and
 * strides (out->asset is the caller's); valid until the next call. */
ck_status ck_video_decoder_frame_at(ck_video_decoder *d, double t, bool loop,
                                    ck_gpu_video_frame *out, ck_error *err);
/* Decoding a frame ahead on the decoder's own thread (on by default; media_dec.c): off, every
 * frame is decoded when asked for. The same frames either way. */
void ck_video_decoder_set_ahead(ck_video_decoder *d, bool on);
/* Frames handed out that had been decoded ahead (for tests and measurements). */
int64_t ck_video_decoder_ahead_hits(const ck_video_decoder *d);
/* Frames decoded so far, and packets sent on the way to a seek's target with the decoder
 * told to leave non-reference pictures undecoded (media_dec.c), for tests and measurements. */
void ck_video_decoder_counts(const ck_video_decoder *d, int64_t *decoded, int64_t *skipped);

/* ---- the background videos of a scene ---- */
/* One decoder per video asset of a scene, and the frames a draw list shows: what the
 * compositor needs next to each draw list (ck_gpu_submit's `videos`). Used by the render
 * pipeline, `ciak frame` and the preview, so they all show the same source frame at t. */
typedef struct ck_video_set ck_video_set;

#define CK_VIDEO_SET_MAX 8 /* distinct video assets drawn in one frame */

/* Opens every video asset of `scene` (it must outlive the set). Errors name the file. */
ck_video_set *ck_video_set_create(const ck_scene *scene, ck_error *err);
void ck_video_set_destroy(ck_video_set **vs);
/* Rendering the canvas (canvas_w x canvas_h) at another output size: videos exactly the
 * canvas' size (full-frame backgrounds) come scaled to the output size, so they stay 1:1 with
 * the output (the compositor's YUV path) and are scaled once, on the CPU, not per sample. */
void ck_video_set_fit(ck_video_set *vs, int canvas_w, int canvas_h, int out_w, int out_h);
/* Fills out[0 .. *count) with the frame of each video asset drawn in `dl` (once per asset,
 * at the first draw's source time). Frames stay valid until the next call. */
ck_status ck_video_set_frames(ck_video_set *vs, const ck_drawlist *dl,
                              ck_gpu_video_frame out[CK_VIDEO_SET_MAX], size_t *count,
                              ck_error *err);

/* ---- audio ---- */
#define CK_AUDIO_RATE  48000
#define CK_AUDIO_FRAME 1024 /* samples per AAC frame */

/* Splicing personal spans into the shared track (docs/rendering.md, "Personal audio"):
 * a personal span is encoded from CK_AUDIO_PREROLL samples before its first packet to
 * CK_AUDIO_POSTROLL after its last (the encoder's state and the MDCT overlap then match the
 * shared track's at both ends, and the extra packets are dropped), and a segment counts as
 * touched by a clip that sounds within CK_AUDIO_GUARD samples of it, so no clip sounds in the
 * overlap of a shared/personal boundary. Changing any of them changes personal segments'
 * bytes (they are in the digest tag, see ck_render). */
#define CK_AUDIO_PREROLL  (8 * CK_AUDIO_FRAME)
#define CK_AUDIO_POSTROLL (3 * CK_AUDIO_FRAME)
#define CK_AUDIO_GUARD    (4 * CK_AUDIO_FRAME)

/* A sound placed on the scene's timeline: a spoken line (engine/speech makes them) or any
 * other clip. The same layout as the speech module's clips, const. */
typedef struct ck_audio_clip {
    double start_s;   /* scene time of its first sample, >= 0 */
    const float *pcm; /* mono, `frames` samples at `rate` Hz (resampled to 48 kHz here);
                         the caller's, read during the call only */
    size_t frames;
    int rate;
    const char *text; /* what it says: never logged, never hashed (the samples are) */
    int personal;     /* 1: this person's (personal segments); 0: the same for everybody,
                         mixed into the shared bed and encoded once */
} ck_audio_clip;

typedef struct ck_audio ck_audio;

/* Zero means default. */
typedef struct ck_audio_params {
    const char *src;            /* the campaign's track (any format FFmpeg reads); NULL: silence */
    const char *cache_path;     /* the ADTS cache (temp + rename); NULL: not cached. Its name must
                                   change with src's bytes, the duration and the shared clips */
    double duration;            /* seconds, > 0: the track is cut or padded with silence to it */
    const ck_audio_clip *clips; /* the shared ones (personal == 0) are mixed into the bed;
                                   personal ones are ignored here */
    int clip_count;
    int channels; /* 1 or 2: a cache with other channels is encoded again; 0: the cache's
                     own, else ck_audio_source_channels (a mono track stays mono, anything
                     else is stereo; silence is mono) */
} ck_audio_params;

/* The channels ciak encodes `src` with: 1 for a mono track (and for NULL, silence), else 2.
 * Errors name the file. */
ck_status ck_audio_source_channels(const char *src, int *channels, ck_error *err);

/* The campaign's audio as AAC packets covering exactly `duration` seconds: the bed (track +
 * shared clips). Loaded from `cache_path` when it exists and is valid, else encoded and
 * written there. The bed's PCM is not kept: ck_audio_span decodes the parts it needs (and
 * keeps those, in blocks of 0.68 s: 262 kB each). Errors name the file. */
ck_audio *ck_audio_create_ex(const ck_audio_params *p, ck_error *err);
/* ck_audio_create_ex with a track and no clips, its channels the cache's or the track's. */
ck_audio *ck_audio_create(const char *src, const char *cache_path, double duration, ck_error *err);
void ck_audio_destroy(ck_audio **a);

/* Does personal clip `c` make the segment of samples [from, to) personal (it sounds within
 * CK_AUDIO_GUARD of it)? from < 0: the first segment; to past the end: the last. Shared
 * clips never do. */
bool ck_audio_clip_touches(const ck_audio_clip *c, int64_t from, int64_t to);
/* Does personal clip `c` take part in the encoding of the span [from, to) (pre- and
 * post-roll included) of a bed `samples` long? What a personal segment's digest must hash. */
bool ck_audio_clip_shapes(const ck_audio_clip *c, int64_t samples, int64_t from, int64_t to);

/* The packets whose pts is in [from, to) (as ck_ts_params' audio_from/audio_to) of the bed
 * mixed with the personal clips of `clips` (added to every channel at unity gain), encoded so
 * that they replace the bed's packets of that span seamlessly: same 1024-sample grid, same
 * pts, CK_AUDIO_PREROLL/POSTROLL of the bed around it. Deterministic (same bed, clips and
 * span: same bytes, whatever spans came before). `bed` keeps the blocks of its PCM that spans
 * needed, and its decoding where it stopped: a block past it costs decoding on up to there,
 * one before it a decode of the track from its start (not thread-safe on one bed). Errors name the
 * track; a bad clip is named by index, never by its text. */
ck_audio *ck_audio_span(ck_audio *bed, const ck_audio_clip *clips, int count, int64_t from,
                        int64_t to, ck_error *err);
/* For a bed whose spans are asked for in time order, each once (one person's render): the
 * blocks before a span are dropped when it is made, so the bed holds one span's PCM instead of
 * every span's (the track is decoded once either way, on from where the last span stopped).
 * An earlier span asked for later still works (decoded again from the track's start); the
 * bytes do not change. */
void ck_audio_spans_in_order(ck_audio *bed, bool on);
int64_t ck_audio_bitrate(const ck_audio *a); /* bit/s */
int ck_audio_channels(const ck_audio *a);    /* 1 or 2 */
int ck_audio_packet_count(const ck_audio *a);
/* Packet i: an ADTS frame; pts in samples (48 kHz). A whole track's first packet is the
 * encoder's priming and starts before 0 (pts -1024); a span's are the span's. */
void ck_audio_packet(const ck_audio *a, int i, const uint8_t **data, int *size, int64_t *pts);

/* ---- segment writer ---- */
typedef struct ck_ts_writer ck_ts_writer;

typedef struct ck_ts_params {
    const ck_enc_config *enc;     /* encoder already probed */
    int64_t first_frame;          /* absolute frame number of the first frame (timestamps) */
    const ck_audio *audio;        /* NULL: no audio stream */
    int64_t audio_from, audio_to; /* audio packets whose pts (samples) is in [from, to) */
} ck_ts_params;

/* Opens an encoder session and a temporary file next to `path`. */
ck_ts_writer *ck_ts_writer_create(const char *path, const ck_ts_params *p, ck_error *err);
/* Encodes one NV12 frame (the writer copies it). Frames are numbered from first_frame. */
ck_status ck_ts_writer_frame(ck_ts_writer *w, const uint8_t *y, size_t y_stride, const uint8_t *uv,
                             size_t uv_stride, ck_error *err);
/* An NV12 picture of the output's size, filled on one thread and encoded on another
 * (ck_ts_writer_put): the copy ck_ts_writer_frame makes, made where the caller wants it. */
typedef struct ck_ts_picture ck_ts_picture;

ck_ts_picture *ck_ts_picture_create(int width, int height, ck_error *err);
/* Copies the planes in (every byte of the buffer written, row padding zero). */
ck_status ck_ts_picture_fill(ck_ts_picture *p, const uint8_t *y, size_t y_stride, const uint8_t *uv,
                             size_t uv_stride, ck_error *err);
/* Encodes `p` as the segment's next frame; `p` may be filled again once this returns. */
ck_status ck_ts_writer_put(ck_ts_writer *w, ck_ts_picture *p, ck_error *err);
void ck_ts_picture_destroy(ck_ts_picture **p);
/* Writes the picture to `f` as raw NV12 (the luma rows, then the interleaved chroma rows, no
 * padding): what an encoder reading rawvideo gets. `what` names `f` in the error. */
ck_status ck_ts_picture_write_nv12(const ck_ts_picture *p, FILE *f, const char *what,
                                   ck_error *err);
/* Ends the video: the encoder's last frames are written and its session is closed, freeing
 * its memory (tens of MB) before the file is finished. No frame may follow. On failure the
 * writer is still to be destroyed (or finished, which fails). Calling it again does nothing. */
ck_status ck_ts_writer_end_video(ck_ts_writer *w, ck_error *err);
/* Ends the video (ck_ts_writer_end_video, unless done), writes the trailer, fsyncs and renames
 * into place. The writer is freed whatever happens; on failure nothing is left at `path`.
 * bytes may be NULL. */
ck_status ck_ts_writer_finish(ck_ts_writer **w, int64_t *bytes, ck_error *err);
/* Abandons the segment: frees everything and removes the temporary file. NULL-safe. */
void ck_ts_writer_destroy(ck_ts_writer **w);

/* Writes a segment at `path` whose video packets are those of the MPEG-TS segment at
 * `video_src`, copied, not decoded, and whose audio is p's (p->enc and p->first_frame as the
 * writer that made `video_src` had them): the bytes a ck_ts_writer with params `p` makes from
 * the same pictures (the same muxer set-up; test_media compares). For a segment personal only
 * by its audio, whose pictures are a shared segment's: a few ms instead of an encoder session.
 * Temporary file, fsync, rename, as the writer; on failure nothing is left at `path`. bytes
 * may be NULL. Thread-safe (touches only its arguments). */
ck_status ck_ts_remux_video(const char *video_src, const char *path, const ck_ts_params *p,
                            int64_t *bytes, ck_error *err);

/* ---- finishing segments in the background ---- */
/* A thread that finishes writers (ck_ts_writer_finish: the encoder's last frames unless the
 * caller ended the video, trailer, fsync, rename) in the order given, so that the caller
 * composites the next segment meanwhile. One caller thread. */
typedef struct ck_ts_finisher ck_ts_finisher;

ck_ts_finisher *ck_ts_finisher_create(ck_error *err);
/* Hands `w` over (waits while two are queued). When it is done, *bytes (may be NULL) is its
 * size and *done (may be NULL) the ck_now_s() it was done at; read them after
 * ck_ts_finisher_wait. After an earlier failure `w` is abandoned and that failure returned. */
ck_status ck_ts_finisher_add(ck_ts_finisher *f, ck_ts_writer *w, int64_t *bytes, double *done,
                             ck_error *err);
/* Waits until every writer handed over is done: the first failure, if any. */
ck_status ck_ts_finisher_wait(ck_ts_finisher *f, ck_error *err);
/* Stops the thread; writers still queued are abandoned (temporary files removed). */
void ck_ts_finisher_destroy(ck_ts_finisher **f);

/* ---- progressive MP4 ---- */
/* Concatenates MPEG-TS segments (continuous timestamps) into one MP4 (stream copy,
 * faststart), atomically. */
ck_status ck_media_ts_to_mp4(const char *const *inputs, int count, const char *out, ck_error *err);

#endif
