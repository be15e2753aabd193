/* espeak.c: the built-in engine, libespeak-ng in-process (synchronous mode: samples come back
 * through the callback before espeak_ng_Synthesize returns). Called only with speech.c's
 * mutex held, which is what libespeak-ng's global state needs. */
#include "ck_speech.h"

#include <espeak-ng/espeak_ng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The voice, without pitch flutter, as a voice file of our own.
 *
 * Why: libespeak-ng 1.51 keeps the phase of its pitch flutter in a static that no call
 * resets, so the same line said twice in one process differs (from the 64th sample on).
 * With the flutter's amplitude at 0 its phase no longer matters, and a line depends only on
 * its text, voice and rate (test_speech checks the samples are identical). The file is the
 * installed voice's own file plus "flutter 0", loaded by path before every line. */
static char flat_voice[64];  /* the voice the file below was made for */
static char flat_path[4096]; /* its file, removed at exit */

static void remove_flat_voice(void)
{
    if (flat_path[0])
        unlink(flat_path);
}

static ck_status make_flat_voice(const char *voice, ck_error *err)
{
    if (flat_path[0] && strcmp(flat_voice, voice) == 0)
        return CK_OK;
    espeak_VOICE *cur = espeak_GetCurrentVoice();
    const char *data = NULL;
    espeak_Info(&data);
    if (!cur || !cur->identifier || !data)
        return ck_error_set(err, CK_ERR_MEDIA, "espeak-ng", 0, 0,
                            "espeak-ng does not say where voice \"%s\" is", voice);
    char src[4096];
    char *text = NULL;
    size_t len = 0;
    static const char *const dirs[] = {"lang", "voices"};
    for (size_t i = 0; i < 2 && !text; i++) {
        snprintf(src, sizeof src, "%s/%s/%s", data, dirs[i], cur->identifier);
        if (ck_read_file(src, 1 << 20, &text, &len, NULL) != CK_OK)
            text = NULL;
    }
    if (!text)
        return ck_error_set(err, CK_ERR_MEDIA, "espeak-ng", 0, 0,
                            "the file of espeak-ng voice \"%s\" cannot be read", voice);
    ck_strbuf b = {0};
    ck_strbuf_printf(&b, "%s\nflutter 0\n", text);
    free(text);
    char *body = ck_strbuf_take(&b);
    if (!flat_path[0]) {
        /* espeak-ng lower-cases a voice's file name before opening it, so the path must
         * be lower case: TMPDIR when it is, else /tmp; the name is ours (pid), no mkstemp
         * (its random letters are mixed case). ck_write_atomic replaces a stale file. */
        const char *tmp = getenv("TMPDIR");
        for (const char *c = tmp; c && *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                tmp = NULL;
        snprintf(flat_path, sizeof flat_path, "%s/ciak-voice-%ld", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid());
        atexit(remove_flat_voice);
    }
    ck_status st = body ? ck_write_atomic(flat_path, body, strlen(body), 0600, err)
                        : ck_error_set(err, CK_ERR_NOMEM, "espeak-ng", 0, 0, "out of memory");
    free(body);
    if (st == CK_OK)
        snprintf(flat_voice, sizeof flat_voice, "%s", voice);
    return st;
}

static void set_params(int wpm)
{
    espeak_ng_SetParameter(espeakRATE, wpm, 0);
    espeak_ng_SetParameter(espeakVOLUME, 100, 0);
    espeak_ng_SetParameter(espeakPITCH, 50, 0);
    espeak_ng_SetParameter(espeakRANGE, 50, 0);
    espeak_ng_SetParameter(espeakPUNCTUATION, espeakPUNCT_NONE, 0);
    espeak_ng_SetParameter(espeakCAPITALS, 0, 0);
    espeak_ng_SetParameter(espeakWORDGAP, 0, 0);
}

static ck_status synth(const char *voice, int wpm, const char *text, float **pcm, size_t *frames,
                       int *rate, ck_error *err)
{
    ck_status s = init(err);
    /* Restarting the output resets the wave generator (WavegenInit: the glottal pulse's
     * phase, the echo buffer, the gain), which no other call does. */
    if (s == CK_OK && espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL) != ENS_OK)
        s = ck_error_set(err, CK_ERR_MEDIA, "espeak-ng", 0, 0, "espeak-ng could not restart");
    if (s == CK_OK)
        s = has_voice(voice, err);
    if (s == CK_OK)
        s = make_flat_voice(voice, err);
    if (s != CK_OK)
        return s;
    /* Every parameter that shapes the sound is set on each call, before the voice is loaded
     * (loading computes the gain from them) and after, so one line cannot leave state
     * behind for the next. */
    set_params(wpm);
    if (espeak_ng_SetVoiceByFile(flat_path) != ENS_OK)
        return ck_error_set(err, CK_ERR_MEDIA, "espeak-ng", 0, 0,
                            "espeak-ng cannot load voice \"%s\" without flutter", voice);
    set_params(wpm);
    /* espeak-ng 1.51 draws noise from the C library's rand(): the same seed for every
     * line. We hold speech.c's mutex; nothing else in ciak uses rand(). */
    srand(1);
    pcm_buf b = {0};
    target = &b;
    espeak_ng_STATUS st = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                                               espeakCHARS_UTF8, NULL, NULL);
    /* Synchronous mode: every sample has come through on_samples when Synthesize returns
     * (espeak_ng_Synchronize is for the asynchronous modes, and waits forever after a
     * re-initialisation). */
    target = NULL;
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
