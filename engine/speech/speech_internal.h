/* speech_internal.h: what espeak.c and espeak_helper.c share (not part of ck_speech.h). */
#ifndef CK_SPEECH_INTERNAL_H
#define CK_SPEECH_INTERNAL_H

#include "ck_speech.h"

/* espeak.c. In a child, in the helper process, or with espeak.c's `globals` held exclusive. */
ck_status espeak_has_voice_here(const char *voice, ck_error *err);
/* The voice looked up and its flat voice file made, once per voice per process. */
ck_status espeak_prepare_here(const char *voice, ck_error *err);
/* In a new child: says the line, writes the reply to fd, leaves without exit handlers. */
_Noreturn void espeak_child_say(int fd, const char *voice, int wpm, const char *text);
void espeak_remove_flat_voices(void);

/* espeak_helper.c: while ck_speech_helper_start's process runs, voices are looked up and lines
 * forked there. False: no helper, the caller does it in this process; true: *st (and err)
 * say how it went. */
bool espeak_helper_has_voice(const char *voice, ck_status *st, ck_error *err);
bool espeak_helper_synth(const char *voice, int wpm, const char *text, float **pcm,
                         size_t *frames, int *rate, ck_status *st, ck_error *err);
/* Reads a child's reply (header, then the samples) from fd; in espeak.c. */
ck_status espeak_read_reply(int fd, float **pcm, size_t *frames, int *rate, ck_error *err);

#endif
