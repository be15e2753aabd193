/* ck_speech.h: speech synthesis of a scene's speech track, behind a small engine interface.
 *
 * The scene's `speech` lines (ck_scene.speech_lines) are templates compiled in speech mode by
 * the binding (ck_binding.speech_text: money, dates and numbers in their spoken forms). This
 * module turns the lines one record hears into PCM clips placed on the scene clock, for the
 * media code to mix; the captions of each line (ck_render_webvtt) are the same text.
 *
 * The default engine is libespeak-ng, called in-process. Another engine can be plugged in with
 * ck_speech_set_engine (see ck_speech_engine for what it must provide).
 *
 * Determinism: the same text, voice and rate give the same samples, bit for bit (the engine
 * must guarantee it; espeak-ng does, and the resampler here is fixed arithmetic).
 * Thread safety: every function may be called from any thread. Lines asked for on several
 * threads are said at the same time when the engine allows it (espeak-ng does: each line is
 * said by a child process of its own); an engine that does not is called behind one mutex.
 * Privacy: a synthesis failure is an error value and a log line that never carry the text.
 */
#ifndef CK_SPEECH_H
#define CK_SPEECH_H

#include "ck_template.h"

#define CK_SPEECH_RATE 48000 /* Hz: every clip is mono float at this rate */

/* One line to be said: where it starts on the scene clock and its samples. */
typedef struct ck_speech_clip {
    double start_s; /* scene time of the first sample */
    float *pcm;     /* mono, CK_SPEECH_RATE Hz, -1..1; owned by the clip */
    size_t frames;
    int rate;     /* CK_SPEECH_RATE */
    char *text;   /* what is said (and captioned); owned by the clip */
    int personal; /* 1: the line reads a record field (it differs per person) */
    int line;     /* index in scene->speech_lines */
} ck_speech_clip;

/* What a synthesis engine provides. Unless `concurrent` is set, every function is called with
 * the module's mutex held, so an engine needs no locking of its own.
 * - has_voice: CK_OK when `voice` can be used, else an error naming it.
 * - synth: says `text` (UTF-8, one line, spoken forms already applied) with `voice` at `wpm`
 *   words per minute; returns mono float samples in *pcm (malloc'd, the caller frees) at
 *   *rate Hz (any rate: the module resamples to CK_SPEECH_RATE). Must be deterministic for
 *   the same arguments, must not print, and must not log or keep the text.
 * - concurrent: 1 when synth may run on several threads at once and alongside has_voice (the
 *   engine locks its own state; has_voice is still called with the module's mutex held). */
typedef struct ck_speech_engine {
    const char *name;
    ck_status (*has_voice)(const char *voice, ck_error *err);
    ck_status (*synth)(const char *voice, int wpm, const char *text, float **pcm, size_t *frames,
                       int *rate, ck_error *err);
    int concurrent;
} ck_speech_engine;

/* The built-in libespeak-ng engine (data from espeak-ng's default path, or ESPEAK_DATA_PATH). */
const ck_speech_engine *ck_speech_espeak(void);
/* Replaces the engine (NULL: back to espeak-ng) and empties the cache. */
void ck_speech_set_engine(const ck_speech_engine *engine);

/* For a long-lived process that grows large (the server), first thing, while it is small:
 * espeak-ng's lines are then forked from a helper process of that size instead of from the
 * whole process (a fork copies the page tables: half of a new viewer's view in a 250 MB
 * server). The same samples. Nothing to do in sanitizer builds (lines are spawned there). */
ck_status ck_speech_helper_start(ck_error *err);

/* CK_OK when the current engine has `voice`. */
ck_status ck_speech_voice_check(const char *voice, ck_error *err);

/* Says one text: mono float at CK_SPEECH_RATE. *pcm is malloc'd (the caller frees). */
ck_status ck_speech_synth(const char *voice, int wpm, const char *text, float **pcm, size_t *frames,
                          ck_error *err);

/* The lines one record hears, as ck_speech_render_lines picks and words them (`when`, spoken
 * forms, empty lines left out), without their samples: pcm NULL, frames 0. For a tool that
 * says them with another synthesiser (`ciak bench render`'s FFmpeg peer). rec == NULL: the
 * shared lines only. Free with ck_speech_clips_free. */
ck_status ck_speech_lines(const ck_scene *scene, const ck_record *rec, ck_speech_clip **out,
                          size_t *n, ck_error *err);

/* The clips one record hears: every line whose `when` holds, rendered (the scene's speech
 * templates are compiled here, in speech mode) and synthesised, in time order. rec == NULL: the
 * shared lines only (those that read no field). With a concurrent engine the lines are said at
 * the same time, on threads of their own. Lines that read no field are synthesised once and
 * cached in memory (keyed by voice, rate and text, so a new campaign version with new words makes
 * new audio). On failure nothing is returned and err says which line failed (never its text). Free
 * with ck_speech_clips_free. */
ck_status ck_speech_render_lines(const ck_scene *scene, const ck_record *rec, ck_speech_clip **out,
                                 size_t *n, ck_error *err);
void ck_speech_clips_free(ck_speech_clip **clips, size_t n);

/* Drops the cache of shared lines (tests; a server may call it after a campaign update). */
void ck_speech_cache_clear(void);

#endif
