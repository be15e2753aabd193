/* ck_render.h: the per-campaign renderer. Scene + one person's record -> HLS segments,
 * playlists and captions. The stream server, `ciak render` and `ciak bench` all drive it.
 *
 * One ck_render per campaign (scene folder). It owns the scene, binding, fonts, timeline, the
 * GPU scene, the segment plan, the chosen encoder and the campaign's AAC audio (encoded once,
 * cached). Per person, ck_render_view_make() gives the digest of every segment: a shared
 * segment's digest is the same for everybody (its draw lists do not depend on the record);
 * a personal segment's digest hashes that person's draw lists, so two people who see the same
 * thing share it too. The digest also covers the scene file, every asset's bytes, the output
 * size, the encoder and its settings: a segment's file can be cached under its digest forever.
 *
 * Segments are MPEG-TS with H.264 (High profile, IDR first, closed GOP) and the campaign's
 * AAC audio muxed in (no separate audio rendition). Timestamps come from the absolute frame
 * number (and audio sample number), so separately rendered segments splice into one stream;
 * the same digest always gives the same bytes (deterministic encoder settings).
 *
 * URL templates in playlists: "{digest}" and "{index}" (0-based) are replaced, e.g.
 *   shared "/c/assegno-sociale/1/{digest}.ts", personal "/v/TOKEN/{index}.ts".
 *
 * Ownership: everything returned as char * is malloc'd (free() it); views are freed with
 * ck_render_view_free(). The ck_gpu passed in must outlive the renderer.
 * Thread safety: one renderer is used from one thread at a time (the server's render thread);
 * the read-only getters and the playlist/caption functions only read immutable data after
 * creation and may be called from any thread. Different renderers may run on different
 * threads only with different ck_gpu objects (a ck_gpu belongs to one thread at a time).
 * Personal data: nothing here logs names, ids or values from records.
 */
#ifndef CK_RENDER_H
#define CK_RENDER_H

#include "ck_gpu.h"
#include "ck_media.h"
#include "ck_segment.h"
#include "ck_template.h"
#include "ck_text.h"

typedef struct ck_render ck_render;

/* Mode of the segment cache's folders, whichever command makes them first (`ciak render`,
 * `ciak warm`, `ciak serve`): owner only. Shared segments hold no personal data, but they sit
 * under the same root as people's personal segments, and only the ciak process reads them
 * (nginx fetches them over HTTP, never from disk), so no group needs to get in. 0700 is also
 * untouched by any usual umask, so the folder's mode cannot depend on who made it. */
#define CK_CACHE_DIR_MODE 0700

/* Zero means default. */
typedef struct ck_render_params {
    const char *cache_dir; /* root of the shared cache; NULL: "var/cache". The campaign's
                              shared segments and audio go to <cache_dir>/<campaign>/<version>/ */
    const char *encoder;   /* "libx264", "h264_nvenc", "h264_vaapi"; NULL: probe in that order
                              (nvenc, vaapi, x264). An unavailable one falls back, logged. */
    int width, height;     /* output size (even); 0: the canvas size */
    bool no_share;         /* treat every segment as personal (benchmarks, debugging) */
    int quality;           /* CRF (x264) / CQ (nvenc) / QP (vaapi), 0: 23 */
    int64_t maxrate;       /* VBV max bit rate, bit/s; 0: 3 Mbit/s scaled by pixel count
                              against 1280x720 */
    bool defer_audio;      /* the AAC track not in the cache yet is encoded on the first
                              render instead of here (seconds of work: a server starting cold
                              listens first); a corrupt audio file then fails that render */
    /* Speech (engine/speech makes the clips). The shared clips (personal == 0) are mixed into
     * the campaign's bed and encoded once; their samples are in every digest and in the audio
     * cache's name. Personal ones here are ignored (they come per person, ck_render_speech).
     * NULL/0: today's audio, byte for byte. */
    const ck_audio_clip *clips;
    int clip_count;
    bool speech; /* the scene speaks: without an audio track its bed is silence (so personal
                    segments have a bed to mix into) */
    /* ck_render_segments: let a segment's encoder drain on the finisher thread while the next
     * segment's encoder opens and encodes. Faster where a core is free (the drain is ~1/6 of a
     * segment's encoding: its last frames), at the cost of a second libx264 session alive at
     * each segment boundary (~46 MB at 720p). false: one session at a time. Same bytes. */
    bool overlap_encoders;
    /* One person's render (`ciak render`): each personal audio span is asked for once, in time
     * order, so the bed keeps only the PCM of the span being made instead of every span's
     * (ck_audio_spans_in_order; 6.5 MB on naspi-accolta). Same bytes either way; a server
     * leaves it false (the next viewer's spans need the same blocks again). */
    bool audio_in_order;
    /* Benchmarks: every picture encoded is also written to this file (or FIFO), raw NV12 at
     * the output size, so that libx264 alone can be timed on exactly the frames ciak encodes
     * (ciak bench render's floor). Opened at the first picture, closed with the renderer. */
    const char *raw_video;
} ck_render_params;

/* One person's speech for views and renders. NULL everywhere means "no personal speech":
 * every segment keeps the shared audio, today's behaviour. */
typedef struct ck_render_speech {
    const ck_audio_clip *clips; /* this person's clips (those with personal == 1 are used) */
    int count;
    bool failed; /* synthesis failed: the shared bed audio is used (the captions still carry
                    the text); ck_render_view_make_speech logs it, without the text */
    /* What ck_render_speech_make made, its own to free: `clips` and the one private mapping
     * that holds their samples (block_bytes long; NULL for a value the caller filled). */
    void *block;
    size_t block_bytes;
} ck_render_speech;

/* One person's speech: the scene's lines that read a field (and whose `when` holds for rec),
 * synthesised with the scene's voice (engine/speech). Empty when the scene has none for this
 * person. A synthesis failure is not an error: `failed` is set, so the shared audio plays
 * (the captions still carry the text), logged without the text. The same value must go to the
 * person's view and to their segments' renders. Free with ck_render_speech_free. A renderer
 * (ck_render_create) synthesises the lines that read no field itself, once. */
void ck_render_speech_make(const ck_scene *scene, const ck_record *rec, ck_render_speech *out);
void ck_render_speech_free(ck_render_speech *sp);
/* Bytes a value from ck_render_speech_make holds (samples and clip table; 0 for none): what a
 * server counts against its cap on the views it keeps. */
size_t ck_render_speech_bytes(const ck_render_speech *sp);

/* Loads the scene folder (scene.json and its assets), compiles its bindings, makes the GPU
 * scene, the plan, probes the encoder, and encodes (or loads from the cache) the campaign's
 * audio. NULL on failure with err naming the file or asset at fault. */
ck_render *ck_render_create(ck_gpu *gpu, const char *scene_dir, const ck_render_params *params,
                            ck_error *err);
void ck_render_destroy(ck_render **r);

/* ---- asset verification (verify.c) ---- */
/* What the caller already has; zero means "load it here". */
typedef struct ck_render_verify_params {
    const ck_binding *binding; /* tells which texts are fixed; NULL: compiled here */
    const ck_fontset *fonts;   /* the scene's fonts when fonts_loaded */
    bool fonts_loaded;         /* the caller loaded the fonts and reported those that failed
                                  (fonts NULL then: no glyph checks) */
} ck_render_verify_params;

/* Checks every asset of `scene` before anybody watches it: videos open, decode their first
 * and last frame and last as long as each layer that shows them without `loop`; images
 * decode fully; fonts parse and hold the scene's fixed texts and the Italian alphabet
 * (accented capitals too), or the layer's fallback does; audio decodes to the end and lasts
 * the scene. Each problem is an error in `diags` at the asset's line:col in scene.json,
 * naming the file. Returns CK_OK when none was found. Reads the files; no GPU, no encoder.
 * `ciak check`, `ciak import` and the server's start-up call it. */
ck_status ck_render_verify_assets(const ck_scene *scene, const ck_render_verify_params *params,
                                  ck_diags *diags);
/* Loads `scene_dir`'s scene and verifies its assets (scene errors go to diags too). */
ck_status ck_render_verify_dir(const char *scene_dir, ck_diags *diags);

/* ---- what the renderer knows (immutable after creation) ---- */
const ck_scene *ck_render_scene(const ck_render *r); /* parse records against this scene */
const ck_segment_plan *ck_render_plan(const ck_render *r);
const char *ck_render_encoder(const ck_render *r);    /* e.g. "libx264" */
int ck_render_version(const ck_render *r);            /* the campaign version (scene.json) */
const char *ck_render_campaign(const ck_render *r);   /* the campaign id */
const char *ck_render_shared_dir(const ck_render *r); /* <cache_dir>/<campaign>/<version> */
void ck_render_size(const ck_render *r, int *width, int *height); /* output size */

/* ---- per person ---- */
#define CK_RENDER_DIGEST_HEX CK_DIGEST_HEX /* 64 hex digits + NUL */

typedef struct ck_render_seg {
    char digest[CK_RENDER_DIGEST_HEX];
    bool shared;         /* same for every viewer: serve from the campaign's shared URL */
    bool personal_audio; /* why it is personal: one of the person's speech clips sounds in it
                            (within CK_AUDIO_GUARD); its digest hashes those clips' samples */
    int64_t first_frame, frame_count;
    double start, duration; /* seconds (exact EXTINF) */
} ck_render_seg;

typedef struct ck_render_view {
    ck_render_seg *segs; /* one per plan segment, malloc'd */
    int count;
} ck_render_view;

/* Evaluates the person's draw lists (cheap, no GPU) and fills every segment's digest.
 * `rec` NULL: a record with no values (for the shared parts). */
ck_status ck_render_view_make(ck_render *r, const ck_record *rec, ck_render_view *out,
                              ck_error *err);
/* The same with the person's speech (NULL: none). A segment a personal clip touches is
 * personal even when its pictures are shared (personal_audio); its digest covers the clips
 * that shape its audio, so two people who hear and see the same share it. */
ck_status ck_render_view_make_speech(ck_render *r, const ck_record *rec,
                                     const ck_render_speech *speech, ck_render_view *out,
                                     ck_error *err);
void ck_render_view_free(ck_render_view *v);

/* Views without the renderer: a digester has its own timeline and frame arena over the
 * renderer's (read-only) scene, fonts and plan, so views can be made on another thread while
 * the renderer renders; a new viewer's playlist then never waits behind someone else's
 * segment. One digester per thread at a time; the renderer must outlive it. */
typedef struct ck_render_digester ck_render_digester;
ck_render_digester *ck_render_digester_create(const ck_render *r, ck_error *err);
void ck_render_digester_destroy(ck_render_digester **d);
/* Same result as ck_render_view_make for the same record. */
ck_status ck_render_digester_view(ck_render_digester *d, const ck_record *rec, ck_render_view *out,
                                  ck_error *err);
ck_status ck_render_digester_view_speech(ck_render_digester *d, const ck_record *rec,
                                         const ck_render_speech *speech, ck_render_view *out,
                                         ck_error *err);

typedef struct ck_render_stats {
    int64_t frames;      /* frames encoded */
    double seconds;      /* wall-clock time spent */
    int64_t bytes;       /* size of the written file */
    const char *encoder; /* static string */
    int threads;         /* encoder threads used */
} ck_render_stats;

/* Kept for callers; does nothing. Every segment, shared or personal, is encoded with the
 * fixed thread count of the encoder settings (part of the digest): libx264's bytes depend on
 * its thread count, and a segment's digest (its URL, a strong ETag) must name one byte
 * string, whoever renders it and however busy they are. */
void ck_render_set_personal_threads(ck_render *r, int threads);

/* Renders segment `index` for `rec` and writes it to `path` atomically: a temporary file in
 * the same folder, fsync'd, then renamed over `path`; on any failure nothing is left at
 * `path` (and the temporary file is removed). For a shared segment `rec` does not matter.
 * stats may be NULL. */
ck_status ck_render_segment(ck_render *r, const ck_record *rec, int index, const char *path,
                            ck_render_stats *stats, ck_error *err);
/* The same with the person's speech (NULL: none): a segment with personal audio gets the bed
 * mixed with the person's clips, encoded for it (ck_audio_span); its pictures are the same as
 * without them. `speech` must be what the view was made with (the digest says so). A segment
 * personal only by that audio (its pictures shared) is not encoded again: the shared segment's
 * video packets are copied from its file in the cache when that file is there, else it is encoded
 * (render_remux.c); the same bytes either way; a copy has stats->encoder "copy" and 0 frames. */
ck_status ck_render_segment_speech(ck_render *r, const ck_record *rec,
                                   const ck_render_speech *speech, int index, const char *path,
                                   ck_render_stats *stats, ck_error *err);

/* Whether ck_render_segment_speech would copy segment `index`'s video from the shared file
 * (personal only by `speech`'s audio, and the shared file is in the cache) rather than encode. */
bool ck_render_copies(const ck_render *r, const ck_render_speech *speech, int index);

/* One segment of a batch or a stream: which, for whom, where to, and (out) how it went. */
typedef struct ck_render_job {
    int index;                      /* in the plan */
    const char *path;               /* written atomically, as by ck_render_segment */
    const ck_record *rec;           /* a stream's: the person (ck_render_segments sets it) */
    const ck_render_speech *speech; /* a stream's: their speech, or NULL (likewise) */
    void *tag;                      /* the stream's caller's, untouched */
    ck_render_stats stats;          /* out; seconds: from its first frame to its file in place */
} ck_render_job;

/* Renders several segments of `rec` in order, as ck_render_segment would one by one, but
 * pipelined: frames are composited on a thread of the renderer's own while this thread encodes
 * the earlier ones, the GPU is not drained between segments, and finished segments are
 * committed by a third thread. Returns once every file is in place, or at the first failure;
 * either way each path holds a complete segment or nothing (never a partial file). `progress`
 * (may be NULL) is called on this thread as each job's frames are encoded. */
ck_status ck_render_segments(ck_render *r, const ck_record *rec, ck_render_job *jobs, int n,
                             void (*progress)(void *ctx, int done), void *ctx, ck_error *err);
ck_status ck_render_segments_speech(ck_render *r, const ck_record *rec,
                                    const ck_render_speech *speech, ck_render_job *jobs, int n,
                                    void (*progress)(void *ctx, int done), void *ctx,
                                    ck_error *err);

/* Where a stream's jobs come from and where they go. `next` runs on the compositing thread
 * one job ahead: as the stream starts, and then each time it starts compositing a job (so
 * that the next one's audio is made meanwhile); it fills `job` (index, path, rec, speech, tag)
 * and returns true, or returns false when it has none now, and the stream then ends once what
 * it holds is written. `done` runs on the caller's thread as each job's file is in place, in
 * the order they were handed out. Both may take the caller's locks; neither may call the
 * renderer. The two run on different threads at once: what they share needs a lock. */
typedef struct ck_render_feed {
    bool (*next)(void *ctx, ck_render_job *job);
    void (*done)(void *ctx, const ck_render_job *job);
    void *ctx;
} ck_render_feed;

/* Renders jobs for several people, one after another, as ck_render_segment_speech would one by
 * one (the same bytes; never copying video: ask ck_render_copies first), but without draining
 * between them: the next person's frames are composited while the last ones of the previous
 * segment are encoded. Returns when `next` has no more and everything is written (CK_OK), or at
 * the first failure: then the jobs handed out without `done` have nothing at their paths. A
 * stream encodes and finishes its segments on this thread, one libx264 session at a time. */
ck_status ck_render_stream(ck_render *r, const ck_render_feed *feed, ck_error *err);

/* The path a shared segment lives at in the cache: <shared_dir>/<digest>.ts (malloc'd). */
char *ck_render_shared_path(const ck_render *r, const char *digest);

/* ---- playlists and captions (malloc'd text; NULL only when out of memory) ---- */
typedef struct ck_playlist_params {
    const char *shared_url;   /* template for shared segments; NULL: "{digest}.ts" */
    const char *personal_url; /* template for personal segments; NULL: "{digest}.ts" */
} ck_playlist_params;

/* The VOD media playlist: #EXT-X-VERSION:6, TARGETDURATION, PLAYLIST-TYPE:VOD,
 * INDEPENDENT-SEGMENTS, one exact #EXTINF per segment, #EXT-X-ENDLIST. */
char *ck_render_media_playlist(const ck_render *r, const ck_render_view *view,
                               const ck_playlist_params *params);

/* What the master playlist declares of the variant, bit/s. */
typedef struct ck_render_rates {
    int64_t peak;    /* BANDWIDTH: the peak segment bit rate; 0: ck_render_peak_bound() */
    int64_t average; /* AVERAGE-BANDWIDTH: all bits / all seconds; 0: not declared */
} ck_render_rates;

/* Measures `view`'s rates from its segment files (paths[i] for segment i; NULL or missing:
 * left out), as HLS defines them: the peak is the largest bit rate of a contiguous set of
 * segments lasting 0.5 to 1.5 target durations, the average the bits of every file over
 * their seconds. Returns how many segments were found (all of them: the exact rates a VOD
 * playlist written after its segments must declare). */
int ck_render_measure(const ck_render_view *view, const char *const *paths, ck_render_rates *out);

/* An upper bound on the peak before any segment exists: the encoder's VBV cap (max rate plus
 * a full buffer spent in the shortest segment) plus the audio, plus 8 % MPEG-TS overhead.
 * Real segments come well under it (several times, at CRF 23): declare measured rates
 * whenever the segments exist. */
int64_t ck_render_peak_bound(const ck_render *r);

/* The master playlist: one video+audio variant (BANDWIDTH and AVERAGE-BANDWIDTH from `rates`,
 * NULL: the bound and no average; CODECS, RESOLUTION, FRAME-RATE, CLOSED-CAPTIONS=NONE)
 * pointing at `media_uri`, with a SUBTITLES group ("subs", Italian) whose playlist is
 * `subs_uri` (NULL: no captions rendition, e.g. a scene without captions). */
char *ck_render_master_playlist(const ck_render *r, const char *media_uri, const char *subs_uri,
                                const ck_render_rates *rates);

/* The subtitles media playlist: one WebVTT file `vtt_uri` spanning the whole video. */
char *ck_render_subs_playlist(const ck_render *r, const char *vtt_uri);

/* The person's captions as WebVTT (X-TIMESTAMP-MAP aligned with the segments' timestamps).
 * Caption texts are the scene's caption templates rendered for `rec`. */
char *ck_render_webvtt(const ck_render *r, const ck_record *rec);

#endif
