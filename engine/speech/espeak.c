/* espeak.c: the built-in engine, libespeak-ng in-process (synchronous mode: samples come back
 * through the callback before espeak_ng_Synthesize returns). Called only with speech.c's
 * mutex held, which is what libespeak-ng's global state needs. */
#include "ck_speech.h"

#include <espeak-ng/espeak_ng.h>
#include <stdlib.h>
#include <string.h>

static bool ready;
static int sample_rate;
static ck_status init_status = CK_OK;

typedef struct pcm_buf {
    float *s;
    size_t n, cap;
    bool oom;
} pcm_buf;

/* The line being said. Synthesis runs under speech.c's mutex, one line at a time, so one
 * pointer is enough (the events' user_data is not on every callback). */
static pcm_buf *target;

static int on_samples(short *wav, int count, espeak_EVENT *events)
{
    (void)events;
    pcm_buf *b = target;
    if (!b || !wav || count <= 0)
        return 0;
    if (b->n + (size_t)count > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 16384) + (size_t)count;
        float *s = realloc(b->s, cap * sizeof *s);
        if (!s) {
            b->oom = true;
            return 1; /* stop */
        }
        b->s = s;
        b->cap = cap;
    }
    for (int i = 0; i < count; i++)
        b->s[b->n++] = (float)wav[i] / 32768.0f;
    return 0;
}

static ck_status init(ck_error *err)
{
    if (ready)
        return init_status;
    ready = true;
    espeak_ng_InitializePath(NULL); /* NULL: ESPEAK_DATA_PATH, else the installed data */
    espeak_ng_ERROR_CONTEXT ctx = NULL;
    espeak_ng_STATUS st = espeak_ng_Initialize(&ctx);
    if (st == ENS_OK)
        st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
    if (ctx)
        espeak_ng_ClearErrorContext(&ctx);
    if (st != ENS_OK) {
        char msg[256];
        espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
        init_status = CK_ERR_UNSUPPORTED;
        return ck_error_set(err, CK_ERR_UNSUPPORTED, "espeak-ng", 0, 0,
                            "espeak-ng could not start (%s); is espeak-ng-data installed?", msg);
    }
    espeak_SetSynthCallback(on_samples);
    sample_rate = espeak_ng_GetSampleRate();
    return CK_OK;
}

static ck_status has_voice(const char *voice, ck_error *err)
{
    ck_status s = init(err);
    if (s != CK_OK)
        return s;
    if (espeak_ng_SetVoiceByName(voice) != ENS_OK)
        return ck_error_set(err, CK_ERR_NOT_FOUND, "espeak-ng", 0, 0,
                            "espeak-ng has no voice \"%s\" (espeak-ng --voices lists them)", voice);
    return CK_OK;
}

static ck_status synth(const char *voice, int wpm, const char *text, float **pcm, size_t *frames,
                       int *rate, ck_error *err)
{
    /* libespeak-ng keeps state from one utterance to the next (the pitch flutter's phase,
     * the last clause's intonation), so the same line said twice differs by a few samples.
     * Starting it afresh for every line makes a line depend only on its text, voice and
     * rate, like the espeak-ng command (a fresh process each time). */
    ck_status s = init(err);
    if (s != CK_OK)
        return s;
    /* libespeak-ng 1.51 adds noise from the C library's rand() (voicing and fricatives), so
     * the same line said twice differs unless the generator starts from the same seed for
     * every line. We run under speech.c's mutex; nothing else in ciak uses rand(). */
    srand(1);
    /* Loading a voice resets the wave generator (its echo buffer holds the end of the last
     * line, and the pitch state its last contour); espeak-ng skips the load when the voice is
     * already current, so load another one first. */
    espeak_ng_SetVoiceByName(strcmp(voice, "en") == 0 ? "it" : "en");
    s = has_voice(voice, err);
    if (s != CK_OK)
        return s;
    /* Every parameter that shapes the sound is set on each call, so one line cannot leave
     * state behind for the next: the same arguments give the same samples. */
    espeak_ng_SetParameter(espeakRATE, wpm, 0);
    espeak_ng_SetParameter(espeakVOLUME, 100, 0);
    espeak_ng_SetParameter(espeakPITCH, 50, 0);
    espeak_ng_SetParameter(espeakRANGE, 50, 0);
    espeak_ng_SetParameter(espeakPUNCTUATION, espeakPUNCT_NONE, 0);
    espeak_ng_SetParameter(espeakCAPITALS, 0, 0);
    espeak_ng_SetParameter(espeakWORDGAP, 0, 0);
    pcm_buf b = {0};
    target = &b;
    espeak_ng_STATUS st = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                                               espeakCHARS_UTF8, NULL, NULL);
    /* Synchronous mode: every sample has come through on_samples when Synthesize returns
     * (espeak_ng_Synchronize is for the asynchronous modes, and waits forever after a
     * re-initialisation). */
    target = NULL;
    espeak_ng_Cancel(); /* drops what the synthesiser still holds of this line */
    if (st != ENS_OK || b.oom) {
        free(b.s);
        char msg[256] = "out of memory";
        if (st != ENS_OK)
            espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
        /* The text is not in the message: it may be personal. */
        return ck_error_set(err, b.oom ? CK_ERR_NOMEM : CK_ERR_MEDIA, "espeak-ng", 0, 0,
                            "espeak-ng could not say the line (%s)", msg);
    }
    *pcm = b.s;
    *frames = b.n;
    *rate = sample_rate;
    return CK_OK;
}

const ck_speech_engine *ck_speech_espeak(void)
{
    static const ck_speech_engine e = {"espeak-ng", has_voice, synth};
    return &e;
}
