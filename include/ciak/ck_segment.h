/* ck_segment.h: the HLS segment plan of a scene, and which segments are personal.
 *
 * Segments are whole frame ranges. The plan comes from the scene: a short first segment
 * (fast start), then target-length ones, or the scene's explicit cuts; a last piece shorter
 * than half a target is merged into the one before it so no segment is a sliver.
 *
 * A segment is personal when any layer that reads a record field (its text, its `when`, or
 * a surrounding group's `when`) is active during it; otherwise it is shared: the same for
 * every viewer, rendered once per campaign version. A personal speech line makes the segments
 * it sounds in personal too (ck_segment_plan_mark_speech: speech, first_layer -1). This is a
 * static property of the scene, computed without any record (the segment digest of the render
 * pipeline refines it; ck_render's views also mark the segments one person's clips touch).
 *
 * Ownership: the plan owns its items; free with ck_segment_plan_free. Thread safety: plain
 * data.
 */
#ifndef CK_SEGMENT_H
#define CK_SEGMENT_H

#include "ck_timeline.h"

typedef struct ck_segment {
    int index;
    int64_t first_frame, frame_count;
    double start, duration; /* seconds */
    uint64_t deps;          /* fields drawn in this segment (0 = shared) */
    bool personal;
    int first_layer; /* a layer that makes it personal, for messages; -1 if none does */
    bool speech;     /* a personal speech line may sound in it (ck_segment_plan_mark_speech) */
} ck_segment;

typedef struct ck_segment_plan {
    ck_segment *items;
    int count;
    double personal_seconds, total_seconds;
} ck_segment_plan;

ck_status ck_segment_plan_make(const ck_scene *s, const ck_binding *b, ck_segment_plan *out,
                               ck_error *err);
void ck_segment_plan_free(ck_segment_plan *plan);
/* Marks personal (speech = true) every segment a personal speech line sounding over
 * [start_s, end_s) of scene time touches, counting `guard_s` either side (the audio splice's
 * guard: CK_AUDIO_GUARD / 48000 s): its audio differs per person even where its pictures do
 * not. personal_seconds follows. */
void ck_segment_plan_mark_speech(ck_segment_plan *plan, double start_s, double end_s,
                                 double guard_s);

/* ---- segment digests (digest.c; BLAKE2b-256 from libsodium) ----
 * A segment's identity is what it draws (DESIGN.md, decision 2): the digest hashes every
 * field of every draw item of every frame (floats by bit pattern, in a fixed order, never
 * struct padding), plus whatever the caller mixes in (scene, assets, encoder settings). */
#define CK_DIGEST_BYTES 32
#define CK_DIGEST_HEX   65 /* 64 hex digits + NUL */

/* Incremental hashing state; opaque, big enough for libsodium's generichash state. */
typedef struct ck_digest {
    _Alignas(64) unsigned char opaque[448];
} ck_digest;

void ck_digest_init(ck_digest *d);
void ck_digest_update(ck_digest *d, const void *data, size_t len);
/* Hashes a string with its length, so "ab"+"c" and "a"+"bc" differ. NULL hashes as "". */
void ck_digest_str(ck_digest *d, const char *s);
void ck_digest_i64(ck_digest *d, int64_t v);
/* Hashes one frame's draw list canonically (frame number and time included). */
void ck_digest_drawlist(ck_digest *d, const ck_drawlist *dl);
/* Finishes: lowercase hex into `hex`. The state must be initialised again before reuse. */
void ck_digest_final(ck_digest *d, char hex[CK_DIGEST_HEX]);
/* Digest of a whole file's bytes (asset identity). Errors name the file. */
ck_status ck_digest_file(const char *path, char hex[CK_DIGEST_HEX], ck_error *err);

/* Digest of segment `seg`: `salt` (scene/asset/encoder identity) then the timeline's draw
 * lists for each of its frames with the record currently bound. `frame_arena` is reset per
 * frame. */
ck_status ck_segment_digest(ck_timeline *tl, const ck_segment *seg, const char *salt,
                            ck_arena *frame_arena, char hex[CK_DIGEST_HEX], ck_error *err);

#endif
