/* render_speech.c: a scene's speech track (engine/speech) as the audio clips the renderer
 * mixes (ck_audio_clip, engine/media): the shared lines once per renderer (mixed into the bed
 * and encoded once), one person's lines per view (their personal segments' audio). */
#include "render_internal.h"

#include <stdlib.h>

/* ck_speech_clip -> ck_audio_clip (the samples stay the speech clips'). */
static ck_audio_clip *as_audio(const ck_speech_clip *c, size_t n)
{
    ck_audio_clip *a = calloc(n ? n : 1, sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        a[i] = (ck_audio_clip){.start_s = c[i].start_s,
                               .pcm = c[i].pcm,
                               .frames = c[i].frames,
                               .rate = c[i].rate,
                               .text = c[i].text,
                               .personal = c[i].personal};
    return a;
}

ck_status render_speech_shared_make(const ck_scene *s, render_speech_shared *out, ck_error *err)
{
    *out = (render_speech_shared){0};
    if (s->speech_line_count == 0)
        return CK_OK;
    if (ck_speech_render_lines(s, NULL, &out->owned, &out->count, err) != CK_OK)
        return err->status;
    if (!(out->clips = as_audio(out->owned, out->count))) {
        render_speech_shared_free(out);
        return ck_error_set(err, CK_ERR_NOMEM, s->file, 0, 0, "out of memory");
    }
    return CK_OK;
}

void render_speech_shared_free(render_speech_shared *sh)
{
    ck_speech_clips_free(&sh->owned, sh->count);
    free(sh->clips);
    *sh = (render_speech_shared){0};
}

void ck_render_speech_make(const ck_scene *s, const ck_record *rec, ck_render_speech *out)
{
    *out = (ck_render_speech){0};
    if (s->speech_line_count == 0 || !rec)
        return;
    ck_speech_clip *clips = NULL;
    size_t n = 0;
    ck_error err = {0};
    if (ck_speech_render_lines(s, rec, &clips, &n, &err) != CK_OK) {
        /* err names the line, never its text; the view logs the fallback. */
        char buf[600];
        ck_log(CK_LOG_WARN, "speech: %s", ck_error_format(&err, buf, sizeof buf));
        out->failed = true;
        return;
    }
    size_t personal = 0;
    for (size_t i = 0; i < n; i++)
        personal += clips[i].personal != 0;
    ck_audio_clip *a = personal ? as_audio(clips, n) : NULL;
    if (!a) { /* nothing personal to say (a `when` left every personal line out), or no memory */
        ck_speech_clips_free(&clips, n);
        out->failed = personal > 0;
        return;
    }
    out->clips = a;
    out->count = (int)n;
    out->owned = clips;
    out->owned_count = n;
}

void ck_render_speech_free(ck_render_speech *sp)
{
    if (!sp)
        return;
    ck_speech_clips_free(&sp->owned, sp->owned_count);
    free((void *)sp->clips);
    *sp = (ck_render_speech){0};
}
