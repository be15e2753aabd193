/* render_speech.c: a scene's speech track (engine/speech) as the audio clips the renderer
 * mixes (ck_audio_clip, engine/media): the shared lines once per renderer (mixed into the bed
 * and encoded once), one person's lines per view (their personal segments' audio). */
#include "render_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/* A person's clips live as long as their view, and a server keeps views for thousands of
 * people a day: only what the renders need is kept, in one private mapping per person that
 * goes back to the system when the view goes. In the malloc heaps ~2 MB a view (the lines are
 * said on up to 8 threads, each with its own arena) would sit among other memory that keeps
 * the heaps from shrinking once the view is freed. The shared clips are not kept (the
 * renderer mixed its own copy into the campaign's bed; digests and spans look only at the
 * personal ones: ck_audio_clip_touches), nor the texts (nothing reads them after synthesis,
 * and they are personal data). False when out of memory. */
static bool keep_personal(const ck_speech_clip *c, size_t n, ck_render_speech *out)
{
    size_t count = 0, bytes = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].personal) {
            count++;
            bytes += c[i].frames * sizeof *c[i].pcm;
        }
    ck_audio_clip *a = calloc(count ? count : 1, sizeof *a);
    float *block =
        bytes ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
              : NULL;
    if (!a || block == MAP_FAILED) {
        free(a);
        if (block && block != MAP_FAILED)
            munmap(block, bytes);
        return false;
    }
    float *at = block;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].personal)
            continue;
        if (c[i].frames)
            memcpy(at, c[i].pcm, c[i].frames * sizeof *at);
        a[k++] = (ck_audio_clip){.start_s = c[i].start_s,
                                 .pcm = c[i].frames ? at : NULL,
                                 .frames = c[i].frames,
                                 .rate = c[i].rate,
                                 .personal = 1};
        at += c[i].frames;
    }
    if (block)
        mprotect(block, bytes, PROT_READ); /* read-only from here on: renders only read it */
    out->clips = a;
    out->count = (int)count;
    out->block = block;
    out->block_bytes = bytes;
    return true;
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
    /* Nothing personal to say (a `when` left every personal line out): no clips, the shared
     * audio. Out of memory: the shared audio too, as a failed synthesis. */
    if (personal > 0 && !keep_personal(clips, n, out))
        out->failed = true;
    ck_speech_clips_free(&clips, n);
}

void ck_render_speech_free(ck_render_speech *sp)
{
    if (!sp)
        return;
    if (sp->block)
        munmap(sp->block, sp->block_bytes);
    free((void *)sp->clips);
    *sp = (ck_render_speech){0};
}

size_t ck_render_speech_bytes(const ck_render_speech *sp)
{
    if (!sp || !sp->clips)
        return 0;
    return sp->block_bytes + (size_t)sp->count * sizeof *sp->clips;
}
