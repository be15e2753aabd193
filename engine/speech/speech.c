/* speech.c: the speech track -> PCM clips. One mutex guards the resampler's tables, the cache
 * of shared lines and an engine that cannot say lines at the same time; a concurrent engine
 * (espeak-ng) is called outside it, so several lines are said at once. */
#include "ck_speech.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const ck_speech_engine *engine; /* NULL: espeak-ng */

static const ck_speech_engine *current(void)
{
    return engine ? engine : ck_speech_espeak();
}

/* ---- resampling to 48 kHz ----
 * A fixed windowed-sinc interpolator over the exact rational ratio (22050 -> 48000 is
 * 320/147): output sample k sits at input position k*M/L, whose integer part and phase are
 * exact integers, so the result depends only on the input (no drifting float clock). 32 taps
 * with a Hann window; each phase's taps sum to 1 so silence and DC stay exact. Only
 * upsampling is needed (synthesisers run at 16-24 kHz). */
#define RS_HALF 16

typedef struct rs_table {
    int in_rate, L, M;
    double *coef; /* L phases x 2*RS_HALF taps */
} rs_table;

/* One table per input rate, made under the lock and never changed or freed after: a line is
 * resampled outside the lock while another thread may add a table. */
#define RS_TABLES 8
static rs_table rs_tabs[RS_TABLES];
static int rs_count;

static int gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static ck_status rs_prepare_locked(int in_rate, const rs_table **out, ck_error *err)
{
    for (int i = 0; i < rs_count; i++)
        if (rs_tabs[i].in_rate == in_rate) {
            *out = &rs_tabs[i];
            return CK_OK;
        }
    if (in_rate <= 0 || in_rate > CK_SPEECH_RATE)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, "speech", 0, 0,
                            "the speech engine gives %d Hz; 1 to %d Hz are supported", in_rate,
                            CK_SPEECH_RATE);
    if (rs_count == RS_TABLES)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, "speech", 0, 0,
                            "the speech engines gave more than %d different rates", RS_TABLES);
    int g = gcd(CK_SPEECH_RATE, in_rate), L = CK_SPEECH_RATE / g, M = in_rate / g;
    if (L > 8192)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, "speech", 0, 0,
                            "the speech engine's rate (%d Hz) is not a simple ratio of %d Hz",
                            in_rate, CK_SPEECH_RATE);
    double *coef = malloc((size_t)L * 2 * RS_HALF * sizeof *coef);
    if (!coef)
        return ck_error_set(err, CK_ERR_NOMEM, "speech", 0, 0, "out of memory");
    for (int ph = 0; ph < L; ph++) {
        double *c = coef + (size_t)ph * 2 * RS_HALF, sum = 0;
        for (int j = 0; j < 2 * RS_HALF; j++) {
            double t = (double)(j - RS_HALF + 1) - (double)ph / L; /* input offset */
            double sinc = t == 0 ? 1 : sin(M_PI * t) / (M_PI * t);
            double win = 0.5 * (1 + cos(M_PI * t / RS_HALF));
            c[j] = fabs(t) < RS_HALF ? sinc * win : 0;
            sum += c[j];
        }
        for (int j = 0; j < 2 * RS_HALF; j++)
            c[j] /= sum;
    }
    rs_tabs[rs_count] = (rs_table){.in_rate = in_rate, .L = L, .M = M, .coef = coef};
    *out = &rs_tabs[rs_count++];
    return CK_OK;
}

static ck_status rs_prepare(int in_rate, const rs_table **out, ck_error *err)
{
    pthread_mutex_lock(&lock);
    ck_status st = rs_prepare_locked(in_rate, out, err);
    pthread_mutex_unlock(&lock);
    return st;
}

/* in[0..n) at rs->in_rate -> *out at CK_SPEECH_RATE. */
static ck_status rs_run(const rs_table *rs, const float *in, size_t n, float **out, size_t *out_n,
                        ck_error *err)
{
    size_t L = (size_t)rs->L, M = (size_t)rs->M;
    size_t m = n ? (n * L + M - 1) / M : 0;
    float *o = malloc((m ? m : 1) * sizeof *o);
    if (!o)
        return ck_error_set(err, CK_ERR_NOMEM, "speech", 0, 0, "out of memory");
    for (size_t k = 0; k < m; k++) {
        size_t num = k * M, i = num / L, ph = num % L;
        const double *c = rs->coef + ph * 2 * RS_HALF;
        double acc = 0;
        for (int j = 0; j < 2 * RS_HALF; j++) {
            long long at = (long long)i + j - RS_HALF + 1;
            if (at >= 0 && at < (long long)n)
                acc += c[j] * in[at];
        }
        o[k] = (float)acc;
    }
    *out = o;
    *out_n = m;
    return CK_OK;
}

/* ---- the cache of shared lines ---- */
#define CACHE_MAX 256

typedef struct cache_entry {
    char *key; /* voice \x1f rate \x1f text */
    float *pcm;
    size_t frames;
} cache_entry;

static cache_entry cache[CACHE_MAX]; /* guarded by lock; oldest replaced first */
static size_t cache_next;

static void cache_clear_locked(void)
{
    for (size_t i = 0; i < CACHE_MAX; i++) {
        free(cache[i].key);
        free(cache[i].pcm);
        cache[i] = (cache_entry){0};
    }
    cache_next = 0;
}

static const cache_entry *cache_find_locked(const char *key)
{
    for (size_t i = 0; i < CACHE_MAX; i++)
        if (cache[i].key && strcmp(cache[i].key, key) == 0)
            return &cache[i];
    return NULL;
}

void ck_speech_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    cache_clear_locked();
    pthread_mutex_unlock(&lock);
}

void ck_speech_set_engine(const ck_speech_engine *e)
{
    pthread_mutex_lock(&lock);
    engine = e;
    cache_clear_locked();
    pthread_mutex_unlock(&lock);
}

static float *copy_pcm(const float *pcm, size_t frames)
{
    float *c = malloc((frames ? frames : 1) * sizeof *c);
    if (c && frames)
        memcpy(c, pcm, frames * sizeof *c);
    return c;
}

/* ---- synthesis ---- */

ck_status ck_speech_voice_check(const char *voice, ck_error *err)
{
    pthread_mutex_lock(&lock);
    ck_status st = current()->has_voice(voice ? voice : "", err);
    pthread_mutex_unlock(&lock);
    return st;
}

/* Engines end a line with silence (espeak-ng: about half a second): it is not part of the
 * line's length for the fit check, and a mix would only add zeros. Cut where the signal
 * stays below -66 dBFS to the end (a fixed threshold: deterministic). */
static void trim_tail(const float *pcm, size_t *frames)
{
    while (*frames > 0 && fabsf(pcm[*frames - 1]) < 0.0005f)
        (*frames)--;
}

/* Says one line and brings it to 48 kHz, trimmed; takes the lock only for an engine that is
 * not concurrent and for the resampler's table. */
static ck_status synth_line(const char *voice, int wpm, const char *text, float **pcm,
                            size_t *frames, ck_error *err)
{
    float *raw = NULL;
    size_t n = 0;
    int rate = 0;
    pthread_mutex_lock(&lock);
    const ck_speech_engine *e = current();
    if (e->concurrent)
        pthread_mutex_unlock(&lock);
    ck_status st = e->synth(voice, wpm, text, &raw, &n, &rate, err);
    if (!e->concurrent)
        pthread_mutex_unlock(&lock);
    if (st == CK_OK && rate == CK_SPEECH_RATE) {
        *pcm = raw;
        *frames = n;
    } else {
        const rs_table *rs = NULL;
        if (st == CK_OK)
            st = rs_prepare(rate, &rs, err);
        if (st == CK_OK)
            st = rs_run(rs, raw, n, pcm, frames, err);
        free(raw);
    }
    if (st == CK_OK)
        trim_tail(*pcm, frames);
    return st;
}

ck_status ck_speech_synth(const char *voice, int wpm, const char *text, float **pcm, size_t *frames,
                          ck_error *err)
{
    *pcm = NULL;
    *frames = 0;
    return synth_line(voice ? voice : "", wpm, text ? text : "", pcm, frames, err);
}

/* A shared line: from the cache, or synthesised (outside the lock) and kept. Two threads
 * asking for the same new line at once may both say it: the same samples, kept once. */
static ck_status synth_shared(const char *voice, int wpm, const char *text, float **pcm,
                              size_t *frames, ck_error *err)
{
    ck_strbuf key = {0};
    ck_strbuf_printf(&key, "%s\x1f%d\x1f%s", voice, wpm, text);
    char *k = ck_strbuf_take(&key);
    if (!k)
        return ck_error_set(err, CK_ERR_NOMEM, "speech", 0, 0, "out of memory");
    pthread_mutex_lock(&lock);
    const cache_entry *hit = cache_find_locked(k);
    if (hit) {
        *pcm = copy_pcm(hit->pcm, hit->frames);
        *frames = hit->frames;
        pthread_mutex_unlock(&lock);
        free(k);
        return *pcm ? CK_OK : ck_error_set(err, CK_ERR_NOMEM, "speech", 0, 0, "out of memory");
    }
    pthread_mutex_unlock(&lock);
    ck_status st = synth_line(voice, wpm, text, pcm, frames, err);
    float *keep = st == CK_OK ? copy_pcm(*pcm, *frames) : NULL;
    pthread_mutex_lock(&lock);
    if (keep && !cache_find_locked(k)) {
        cache_entry *e = &cache[cache_next];
        free(e->key);
        free(e->pcm);
        *e = (cache_entry){.key = k, .pcm = keep, .frames = *frames};
        k = NULL;
        keep = NULL;
        cache_next = (cache_next + 1) % CACHE_MAX;
    }
    pthread_mutex_unlock(&lock);
    free(keep);
    free(k);
    return st;
}

void ck_speech_clips_free(ck_speech_clip **clips, size_t n)
{
    if (!clips || !*clips)
        return;
    for (size_t i = 0; i < n; i++) {
        free((*clips)[i].pcm);
        free((*clips)[i].text);
    }
    free(*clips);
    *clips = NULL;
}

ck_status ck_speech_lines(const ck_scene *scene, const ck_record *rec, ck_speech_clip **out,
                          size_t *n, ck_error *err)
{
    *out = NULL;
    *n = 0;
    if (!scene || scene->speech_line_count == 0)
        return CK_OK;
    ck_diags d = {.max = 1};
    ck_binding *b = ck_binding_create(scene, &d);
    ck_diags_free(&d);
    if (!b)
        return ck_error_set(err, CK_ERR_INVALID, scene->file, 0, 0,
                            "the scene's templates do not compile (run ciak check)");
    ck_speech_clip *clips = calloc((size_t)scene->speech_line_count, sizeof *clips);
    ck_arena a = {0};
    ck_status st = clips ? CK_OK : ck_error_set(err, CK_ERR_NOMEM, "speech", 0, 0, "out of memory");
    size_t count = 0;
    for (int i = 0; st == CK_OK && i < scene->speech_line_count; i++) {
        bool personal = b->speech_deps[i] != 0;
        if (!rec && personal)
            continue; /* rec == NULL: the shared lines only */
        if (b->speech_when[i] && !ck_expr_eval(b->speech_when[i], rec))
            continue;
        const char *text = ck_template_render(b->speech_text[i], rec, &a);
        if (!*text)
            continue;
        clips[count] = (ck_speech_clip){.start_s = scene->speech_lines[i].start,
                                        .rate = CK_SPEECH_RATE,
                                        .personal = personal,
                                        .line = i,
                                        .text = strdup(text)};
        if (!clips[count].text)
            st = ck_error_set(err, CK_ERR_NOMEM, "speech", 0, 0, "out of memory");
        else
            count++;
    }
    ck_arena_free(&a);
    ck_binding_destroy(&b);
    if (st != CK_OK) {
        ck_speech_clips_free(&clips, count);
        return st;
    }
    *out = clips;
    *n = count;
    return CK_OK;
}

/* One record's lines being said: threads take the next line until none is left. */
#define LINES_AT_ONCE 8 /* threads saying one record's lines, the caller's included */

typedef struct line_jobs {
    const char *voice;
    int wpm;
    ck_speech_clip *clips;
    size_t count;
    atomic_size_t next;
    ck_status *st; /* per line */
    ck_error *err; /* per line */
} line_jobs;

static void *say_lines(void *arg)
{
    line_jobs *j = arg;
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->count;) {
        ck_speech_clip *c = &j->clips[i];
        j->st[i] = c->personal
                       ? ck_speech_synth(j->voice, j->wpm, c->text, &c->pcm, &c->frames, &j->err[i])
                       : synth_shared(j->voice, j->wpm, c->text, &c->pcm, &c->frames, &j->err[i]);
    }
    return NULL;
}

/* Says every clip's line: at the same time with a concurrent engine (a viewer waits for the
 * longest line, not the sum), else one after another. Returns the first failing line's status
 * and error, and logs it. */
static ck_status say_all(const ck_scene *scene, ck_speech_clip *clips, size_t count, ck_error *err)
{
    if (count == 0)
        return CK_OK;
    line_jobs j = {.voice = scene->speech_voice ? scene->speech_voice : "it",
                   .wpm = scene->speech_rate,
                   .clips = clips,
                   .count = count,
                   .st = calloc(count, sizeof *j.st),
                   .err = calloc(count, sizeof *j.err)};
    if (!j.st || !j.err) {
        free(j.st);
        free(j.err);
        return ck_error_set(err, CK_ERR_NOMEM, "speech", 0, 0, "out of memory");
    }
    atomic_init(&j.next, 0);
    pthread_mutex_lock(&lock);
    size_t extra = current()->concurrent ? count - 1 : 0;
    pthread_mutex_unlock(&lock);
    if (extra > LINES_AT_ONCE - 1)
        extra = LINES_AT_ONCE - 1;
    pthread_t th[LINES_AT_ONCE];
    size_t started = 0;
    while (started < extra && pthread_create(&th[started], NULL, say_lines, &j) == 0)
        started++; /* a thread that cannot start leaves its lines to the others */
    say_lines(&j);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    ck_status st = CK_OK;
    for (size_t i = 0; st == CK_OK && i < count; i++) {
        st = j.st[i];
        if (st == CK_OK)
            continue;
        if (err)
            *err = j.err[i];
        /* The message names the line, never the words (they may be personal). */
        ck_log(CK_LOG_ERROR, "speech: %s: %s could not be synthesised: %s", scene->id,
               scene->speech_lines[clips[i].line].path, j.err[i].msg);
    }
    free(j.st);
    free(j.err);
    return st;
}

ck_status ck_speech_render_lines(const ck_scene *scene, const ck_record *rec, ck_speech_clip **out,
                                 size_t *n, ck_error *err)
{
    ck_speech_clip *clips;
    size_t count;
    ck_status st = ck_speech_lines(scene, rec, &clips, &count, err);
    if (st == CK_OK)
        st = say_all(scene, clips, count, err);
    if (st != CK_OK) {
        ck_speech_clips_free(&clips, count);
        *out = NULL;
        *n = 0;
        return st;
    }
    *out = clips;
    *n = count;
    return CK_OK;
}
