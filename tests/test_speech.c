/* test_speech.c: the speech track (scene parsing, spoken templates, check errors) and
 * synthesis with libespeak-ng (determinism, 48 kHz, cache of shared lines). */
#include "ck_speech.h"
#include "ck_test.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCENE_HEAD                                                                                 \
    "{\"format\": 1, \"id\": \"t\", \"canvas\": {\"width\": 64, \"height\": 64}, "                 \
    "\"duration\": 12, \"layers\": [], "                                                           \
    "\"fields\": {\"first_name\": {\"type\": \"string\"}, "                                        \
    "\"gender\": {\"type\": \"enum\", \"values\": [\"F\", \"M\"]}, "                               \
    "\"amount\": {\"type\": \"money\"}}, "

static ck_scene *load(const char *json, ck_diags *d)
{
    return ck_scene_load_buffer(json, strlen(json), "scene.json", ".", NULL, d);
}

static double rms(const float *s, size_t n)
{
    double acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += (double)s[i] * s[i];
    return n ? sqrt(acc / (double)n) : 0;
}

static void test_scene_speech(void)
{
    ck_diags d = {.max = 20};
    ck_scene *s = load(SCENE_HEAD "\"speech\": {\"rate\": 170, \"lines\": ["
                                  "{\"start\": 1, \"text\": \"Benvenuta.\"},"
                                  "{\"start\": 4.5, \"text\": \"{{first_name|name}}, "
                                  "riceverà {{amount|euro}}.\", \"when\": \"gender == \\\"F\\\"\"}"
                                  "]}}",
                       &d);
    CK_CHECK(s && d.errors == 0);
    if (!s)
        return;
    CK_CHECK_STR(s->speech_voice, "it");
    CK_CHECK(s->speech_rate == 170 && s->speech_line_count == 2);
    CK_CHECK(s->speech_lines[0].end == 4.5 && s->speech_lines[1].end == 12);
    CK_CHECK_STR(s->speech_lines[1].when.text, "gender == \"F\"");
    ck_binding *b = ck_binding_create(s, &d);
    CK_CHECK(b && d.errors == 0);
    if (b) {
        CK_CHECK(b->speech_deps[0] == 0);
        CK_CHECK(b->speech_deps[1] == 7); /* first_name, gender (when), amount */
    }
    ck_binding_destroy(&b);
    ck_scene_destroy(&s);
    ck_diags_free(&d);

    /* Lines out of order, after the end; a filter a voice cannot say, an unknown one: all
     * with scene.json:line:col. */
    ck_diags d2 = {.max = 20};
    s = load(SCENE_HEAD "\"speech\": {\"lines\": [\n"
                        "{\"start\": 5, \"text\": \"a\"},\n"
                        "{\"start\": 3, \"text\": \"b\"},\n"
                        "{\"start\": 13, \"text\": \"c\"}]}}",
             &d2);
    CK_CHECK(!s && d2.errors == 2);
    CK_CHECK(d2.count >= 2 && d2.items[0].line == 3 && strstr(d2.items[0].msg, "time order"));
    CK_CHECK(d2.count >= 2 && d2.items[1].line == 4 && strstr(d2.items[1].msg, "video's end"));
    ck_diags_free(&d2);
    /* "end" bounds a line inside a pause of the audio bed; not past the next line. */
    ck_diags d4 = {.max = 20};
    s = load(SCENE_HEAD "\"speech\": {\"lines\": [\n"
                        "{\"start\": 1, \"end\": 2.5, \"text\": \"a\"},\n"
                        "{\"start\": 3, \"end\": 4, \"text\": \"b\"},\n"
                        "{\"start\": 3.5, \"text\": \"c\"}]}}",
             &d4);
    CK_CHECK(!s && d4.errors == 1);
    CK_CHECK(d4.count == 1 && d4.items[0].line == 3 &&
             strstr(d4.items[0].msg, "speech.lines[1].end: 4 s must be after its start (3 s) and "
                                     "no later than the next line's start (3.5 s)"));
    ck_diags_free(&d4);
    ck_diags d5 = {.max = 20};
    s = load(SCENE_HEAD "\"speech\": {\"lines\": [{\"start\": 1, \"end\": 2.5, \"text\": "
                        "\"a\"}, {\"start\": 3, \"text\": \"b\"}]}}",
             &d5);
    CK_CHECK(s && s->speech_lines[0].end == 2.5 && s->speech_lines[1].end == 12);
    ck_scene_destroy(&s);
    ck_diags_free(&d5);
    ck_diags d3 = {.max = 20};
    s = load(SCENE_HEAD "\"speech\": {\"lines\": [\n"
                        "{\"start\": 1, \"text\": \"Gentile {{first_name|upper}}\"},\n"
                        "{\"start\": 3, \"text\": \"{{amount|eur}}\"}]}}",
             &d3);
    CK_CHECK(s != NULL);
    b = s ? ck_binding_create(s, &d3) : NULL;
    CK_CHECK(!b && d3.errors == 2);
    CK_CHECK(d3.count == 2 && d3.items[0].line == 2 && d3.items[0].col == 44 &&
             strstr(d3.items[0].msg, "speech.lines[0].text: filter \"upper\""));
    CK_CHECK(d3.count == 2 && d3.items[1].line == 3 &&
             strstr(d3.items[1].msg, "unknown filter \"eur\" (did you mean \"euro\"?)"));
    for (size_t i = 0; i < d3.count; i++)
        if (d3.items[i].line == 0 || d3.items[i].col == 0)
            fprintf(stderr, "  no position: %s\n", d3.items[i].msg);
    ck_scene_destroy(&s);
    ck_diags_free(&d3);
}

static void test_synth(void)
{
    ck_error err = {0};
    CK_CHECK(ck_speech_voice_check("it", &err) == CK_OK);
    CK_CHECK(ck_speech_voice_check("xx-nessuna", &err) == CK_ERR_NOT_FOUND);
    CK_CHECK(strstr(err.msg, "no voice \"xx-nessuna\"") != NULL);

    const char *line = "Il primo pagamento sarà sabato primo marzo 2025, di 538 euro e 69 "
                       "centesimi.";
    float *a = NULL, *b = NULL, *c = NULL;
    size_t na = 0, nb = 0, nc = 0;
    /* The same line twice: the same samples, bit for bit. */
    CK_CHECK(ck_speech_synth("it", 160, line, &a, &na, &err) == CK_OK);
    CK_CHECK(ck_speech_synth("it", 160, line, &b, &nb, &err) == CK_OK);
    CK_CHECK(na > 0 && na == nb && a && b && memcmp(a, b, na * sizeof *a) == 0);
    free(b);
    /* Other lines in between, at another rate: still the same samples (each line is said by
     * a process that has said nothing before: engine/speech/README.md). In-process, 1.51
     * changed the level of a clause by 1/16 here. */
    CK_CHECK(ck_speech_synth("it", 220, "Gentile signore.", &c, &nc, &err) == CK_OK);
    free(c);
    CK_CHECK(ck_speech_synth("it", 170, "Ogni mese ricever\xC3\xA0 43 euro e 5 centesimi.", &c, &nc,
                             &err) == CK_OK);
    CK_CHECK(ck_speech_synth("it", 160, line, &b, &nb, &err) == CK_OK);
    CK_CHECK(na == nb && b && memcmp(a, b, na * sizeof *a) == 0);
    /* About 5 s at 48 kHz, and not silent. */
    CK_CHECK(na > 3 * 48000 && na < 9 * 48000);
    CK_CHECK(rms(a, na) > 0.02);
    /* Faster is shorter. */
    float *f = NULL;
    size_t nf = 0;
    CK_CHECK(ck_speech_synth("it", 320, line, &f, &nf, &err) == CK_OK);
    CK_CHECK(nf < na * 3 / 4);
    free(a), free(b), free(c), free(f);
}

/* A process says many lines (a server, `ciak check --data` over a campaign's records): the
 * 170th is the same as the first. When the parent looked the voice up again for every line,
 * lines 163 to 165 of a process came out 0.5 s long, whatever their text. */
static void test_many_lines(void)
{
    ck_error err = {0};
    const char *line = "Il primo pagamento sar\xC3\xA0 luned\xC3\xAC 3 febbraio 2025.";
    float *first = NULL;
    size_t nfirst = 0;
    bool same = ck_speech_synth("it", 180, line, &first, &nfirst, &err) == CK_OK && nfirst > 0;
    int bad_at = 0;
    for (int i = 2; same && i <= 170; i++) {
        float *p = NULL;
        size_t n = 0;
        same = ck_speech_synth("it", 180, line, &p, &n, &err) == CK_OK && n == nfirst &&
               memcmp(p, first, n * sizeof *p) == 0;
        if (!same)
            bad_at = i;
        free(p);
    }
    CK_CHECK(same);
    if (!same)
        fprintf(stderr, "  line %d of the process differs from the first\n", bad_at);
    free(first);
}

/* Lines asked for on several threads at once (viewers arriving together) are the samples the
 * same lines give one at a time: they are said at the same time, each by a child process
 * started from a parent whose libespeak-ng state does not change meanwhile
 * (engine/speech/README.md). */
typedef struct par_job {
    const char *text;
    int wpm;
    float *pcm;
    size_t frames;
    ck_status st;
} par_job;

static void *par_say(void *arg)
{
    par_job *j = arg;
    ck_error err = {0};
    j->st = ck_speech_synth("it", j->wpm, j->text, &j->pcm, &j->frames, &err);
    return NULL;
}

static void test_parallel(void)
{
    /* Eight different lines (eight viewers' names and amounts), two rates. */
    enum { N = 8 };
    static const char *const names[N] = {"Maria Rossi",     "Giuseppe Verdi", "Anna Bianchi",
                                         "Luca Esposito",   "Giulia Romano",  "Marco Colombo",
                                         "Francesca Ricci", "Paolo Marino"};
    char texts[N][160];
    float *ref[N] = {NULL};
    size_t nref[N] = {0};
    ck_error err = {0};
    for (int i = 0; i < N; i++) {
        snprintf(texts[i], sizeof texts[i],
                 "Gentile %s, ogni mese ricever\xC3\xA0 %d euro e %d centesimi.", names[i],
                 410 + 37 * i, 11 * i);
        CK_CHECK(ck_speech_synth("it", 170 + 10 * (i % 2), texts[i], &ref[i], &nref[i], &err) ==
                 CK_OK);
    }
    /* Twice over: each line on two threads, sixteen at once. */
    par_job jobs[2 * N];
    pthread_t th[2 * N];
    for (int i = 0; i < 2 * N; i++) {
        jobs[i] = (par_job){.text = texts[i % N], .wpm = 170 + 10 * (i % 2)};
        CK_CHECK(pthread_create(&th[i], NULL, par_say, &jobs[i]) == 0);
    }
    for (int i = 0; i < 2 * N; i++) {
        pthread_join(th[i], NULL);
        int k = i % N;
        CK_CHECK(jobs[i].st == CK_OK && jobs[i].frames == nref[k] && jobs[i].pcm &&
                 memcmp(jobs[i].pcm, ref[k], nref[k] * sizeof *ref[k]) == 0);
        free(jobs[i].pcm);
    }
    for (int i = 0; i < N; i++)
        free(ref[i]);
}

/* One record's lines through ck_speech_render_lines, said at the same time (a viewer waits
 * for the longest line, not the sum), are the samples ck_speech_synth gives each alone. */
static void test_record_lines(void)
{
    ck_diags d = {.max = 20};
    ck_scene *s = load(SCENE_HEAD "\"speech\": {\"rate\": 175, \"lines\": ["
                                  "{\"start\": 0.5, \"text\": \"Buongiorno.\"},"
                                  "{\"start\": 2, \"text\": \"Gentile {{first_name|name}},\"},"
                                  "{\"start\": 4, \"text\": \"ricever\u00e0 {{amount|euro}}\"},"
                                  "{\"start\": 7, \"text\": \"ogni mese, {{first_name|name}}.\"}"
                                  "]}}",
                       &d);
    CK_CHECK(s && d.errors == 0);
    if (!s) {
        ck_diags_free(&d);
        return;
    }
    ck_value vals[3] = {{.present = true, .str = "GIULIA"},
                        {.present = true, .i = 0, .str = "F"},
                        {.present = true, .i = 53869}};
    ck_record rec = {.id = "p1", .values = vals, .line = 1};
    ck_speech_clip *clips = NULL;
    size_t n = 0;
    ck_error err = {0};
    CK_CHECK(ck_speech_render_lines(s, &rec, &clips, &n, &err) == CK_OK && n == 4);
    for (size_t i = 0; i < n; i++) {
        float *one = NULL;
        size_t none = 0;
        CK_CHECK(ck_speech_synth("it", 175, clips[i].text, &one, &none, &err) == CK_OK);
        CK_CHECK(none > 0 && none == clips[i].frames && clips[i].pcm &&
                 memcmp(one, clips[i].pcm, none * sizeof *one) == 0);
        free(one);
    }
    ck_speech_clips_free(&clips, n);
    ck_scene_destroy(&s);
    ck_diags_free(&d);
}

/* A concurrent stand-in engine: each call waits (up to 10 s) until another call is running
 * too, and the most calls running at once is kept. Serialised lines would never meet. */
static pthread_mutex_t meet_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cond = PTHREAD_COND_INITIALIZER;
static int meet_now, meet_max;
static ck_status meet_has_voice(const char *voice, ck_error *err)
{
    (void)voice, (void)err;
    return CK_OK;
}
static ck_status meet_synth(const char *voice, int wpm, const char *text, float **pcm,
                            size_t *frames, int *rate, ck_error *err)
{
    (void)voice, (void)wpm, (void)err;
    pthread_mutex_lock(&meet_lock);
    meet_now++;
    meet_max = meet_now > meet_max ? meet_now : meet_max;
    pthread_cond_broadcast(&meet_cond);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    while (meet_max < 2 && pthread_cond_timedwait(&meet_cond, &meet_lock, &until) == 0)
        ;
    meet_now--;
    pthread_mutex_unlock(&meet_lock);
    size_t len = strlen(text);
    float *p = malloc(len * sizeof *p);
    for (size_t i = 0; p && i < len; i++)
        p[i] = 0.25f;
    *pcm = p, *frames = len, *rate = CK_SPEECH_RATE;
    return p ? CK_OK : CK_ERR_NOMEM;
}

static void test_lines_meet(void)
{
    static const ck_speech_engine meet = {"meet", meet_has_voice, meet_synth, 1};
    ck_speech_set_engine(&meet);
    ck_diags d = {.max = 20};
    ck_scene *s = load(SCENE_HEAD "\"speech\": {\"lines\": ["
                                  "{\"start\": 1, \"text\": \"Gentile {{first_name|name}}\"},"
                                  "{\"start\": 4, \"text\": \"{{amount|euro}}\"}]}}",
                       &d);
    CK_CHECK(s && d.errors == 0);
    ck_value vals[3] = {{.present = true, .str = "ANNA"},
                        {.present = true, .i = 0, .str = "F"},
                        {.present = true, .i = 100}};
    ck_record rec = {.id = "p1", .values = vals, .line = 1};
    ck_speech_clip *clips = NULL;
    size_t n = 0;
    ck_error err = {0};
    /* One record's two lines. */
    CK_CHECK(s && ck_speech_render_lines(s, &rec, &clips, &n, &err) == CK_OK && n == 2);
    CK_CHECK(meet_max == 2);
    CK_CHECK(n == 2 && clips[0].frames == strlen(clips[0].text) &&
             clips[1].frames == strlen(clips[1].text));
    ck_speech_clips_free(&clips, n);
    /* Two threads' lines (two viewers). */
    meet_max = 0;
    par_job jobs[2] = {{.text = "uno", .wpm = 160}, {.text = "due", .wpm = 160}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        CK_CHECK(pthread_create(&th[i], NULL, par_say, &jobs[i]) == 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CK_CHECK(jobs[i].st == CK_OK && jobs[i].frames == 3);
        free(jobs[i].pcm);
    }
    CK_CHECK(meet_max == 2);
    ck_scene_destroy(&s);
    ck_diags_free(&d);
    ck_speech_set_engine(NULL);
}

/* A stand-in engine: a constant at 22050 Hz, and a count of its calls. */
static int fake_calls;
static ck_status fake_has_voice(const char *voice, ck_error *err)
{
    return strcmp(voice, "it") == 0 ? CK_OK
                                    : ck_error_set(err, CK_ERR_NOT_FOUND, "fake", 0, 0, "no voice");
}
static ck_status fake_synth(const char *voice, int wpm, const char *text, float **pcm,
                            size_t *frames, int *rate, ck_error *err)
{
    (void)voice, (void)wpm;
    fake_calls++;
    if (strstr(text, "Errore"))
        return ck_error_set(err, CK_ERR_MEDIA, "fake", 0, 0, "cannot say it");
    size_t n = 2205 * (strlen(text) % 7 + 1);
    float *s = malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = strcmp(text, "coda") == 0 && i >= n / 2 ? 0.0f : 0.5f; /* "coda": silent tail */
    *pcm = s, *frames = n, *rate = 22050;
    return CK_OK;
}

static void test_resample_and_lines(void)
{
    static const ck_speech_engine fake = {"fake", fake_has_voice, fake_synth, 0};
    ck_speech_set_engine(&fake);
    ck_error err = {0};
    float *p = NULL;
    size_t n = 0;
    CK_CHECK(ck_speech_synth("it", 160, "ab", &p, &n, &err) == CK_OK);
    /* 22050 -> 48000 is 320/147: 6615 samples become ceil(6615 * 320 / 147) = 14400. */
    CK_CHECK(n == 14400);
    bool flat = true;
    for (size_t i = 40; p && i + 40 < n; i++)
        flat &= fabsf(p[i] - 0.5f) < 1e-5f;
    CK_CHECK(flat);
    free(p);
    /* A silent tail is not part of the line: 11025 input samples, half of them sound, make
     * 12000 at 48 kHz plus the filter's ring-out (16 input samples at most). */
    CK_CHECK(ck_speech_synth("it", 160, "coda", &p, &n, &err) == CK_OK);
    CK_CHECK(n >= 12000 && n <= 12000 + 16 * 320 / 147 + 1);
    free(p);

    ck_diags d = {.max = 20};
    ck_scene *s = load(SCENE_HEAD "\"speech\": {\"lines\": ["
                                  "{\"start\": 1, \"text\": \"Benvenuta.\"},"
                                  "{\"start\": 4.5, \"text\": \"{{first_name|name}}: "
                                  "{{amount|euro}}.\"},"
                                  "{\"start\": 8, \"text\": \"Solo per lei.\", "
                                  "\"when\": \"gender == \\\"F\\\"\"}]}}",
                       &d);
    CK_CHECK(s && d.errors == 0);
    ck_value vals[3] = {{.present = true, .str = "MARIA"},
                        {.present = true, .i = 0, .str = "F"},
                        {.present = true, .i = 100}};
    ck_record rec = {.id = "p1", .values = vals, .line = 1};
    ck_speech_clip *clips = NULL;
    size_t nclips = 0;
    fake_calls = 0;
    CK_CHECK(ck_speech_render_lines(s, NULL, &clips, &nclips, &err) == CK_OK);
    CK_CHECK(nclips == 1 && clips && clips[0].personal == 0 && clips[0].start_s == 1 &&
             clips[0].rate == 48000);
    ck_speech_clips_free(&clips, nclips);
    CK_CHECK(ck_speech_render_lines(s, &rec, &clips, &nclips, &err) == CK_OK);
    CK_CHECK(nclips == 3);
    if (nclips == 3) {
        CK_CHECK_STR(clips[1].text, "Maria: un euro.");
        CK_CHECK(clips[1].personal == 1 && clips[1].start_s == 4.5);
        CK_CHECK(clips[2].personal == 1); /* its `when` reads gender */
    }
    ck_speech_clips_free(&clips, nclips);
    /* The shared line was synthesised once for both calls (cached); the personal ones each
     * time. */
    CK_CHECK(fake_calls == 3);
    vals[1] = (ck_value){.present = true, .i = 1, .str = "M"};
    CK_CHECK(ck_speech_render_lines(s, &rec, &clips, &nclips, &err) == CK_OK);
    CK_CHECK(nclips == 2);
    ck_speech_clips_free(&clips, nclips);
    /* The same lines in words only (the bench's FFmpeg peer says them itself): the same
     * choice, text, start and kind as above, and no synthesis. */
    fake_calls = 0;
    CK_CHECK(ck_speech_lines(s, &rec, &clips, &nclips, &err) == CK_OK);
    CK_CHECK(nclips == 2 && fake_calls == 0);
    if (nclips == 2) {
        CK_CHECK_STR(clips[0].text, "Benvenuta.");
        CK_CHECK_STR(clips[1].text, "Maria: un euro.");
        CK_CHECK(clips[0].personal == 0 && clips[1].personal == 1 && clips[1].start_s == 4.5 &&
                 clips[1].line == 1 && clips[1].pcm == NULL && clips[1].frames == 0);
    }
    ck_speech_clips_free(&clips, nclips);
    CK_CHECK(ck_speech_lines(s, NULL, &clips, &nclips, &err) == CK_OK);
    CK_CHECK(nclips == 1 && clips[0].personal == 0);
    ck_speech_clips_free(&clips, nclips);
    /* A synthesis failure is an error naming the line, not its words. */
    vals[0] = (ck_value){.present = true, .str = "ERRORE"};
    CK_CHECK(ck_speech_render_lines(s, &rec, &clips, &nclips, &err) == CK_ERR_MEDIA);
    CK_CHECK(clips == NULL && nclips == 0 && strstr(err.msg, "Errore") == NULL);
    ck_scene_destroy(&s);
    ck_diags_free(&d);
    ck_speech_set_engine(NULL);
}

/* The helper process (ck_speech_helper_start, a server's first step): lines forked from it are
 * the samples of lines forked from this process; a missing voice is refused by name; and if
 * the helper dies, lines are forked here again, the same samples. */
static pid_t helper_child(void)
{
    DIR *d = opendir("/proc");
    pid_t found = 0;
    for (struct dirent *e; d && (e = readdir(d)) && !found;) {
        char path[300], comm[64] = "";
        int pid = 0, ppid = 0;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fscanf(f, "%d (%63[^)]) %*c %d", &pid, comm, &ppid) == 3 && ppid == getpid() &&
            strcmp(comm, "ciak-speech") == 0)
            found = pid;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return found;
}

static void test_helper(void)
{
#if defined(__SANITIZE_ADDRESS__)
    const bool forks = false; /* sanitizer builds spawn every line: no helper */
#else
    const bool forks = true;
#endif
    const char *line = "La pensione di marzo arriva il primo del mese.";
    ck_error err = {0};
    float *ref = NULL, *p = NULL;
    size_t nref = 0, n = 0;
    CK_CHECK(ck_speech_synth("it", 175, line, &ref, &nref, &err) == CK_OK && nref > 1000);
    CK_CHECK(ck_speech_helper_start(&err) == CK_OK);
    pid_t helper = helper_child();
    CK_CHECK(forks ? helper > 0 : helper == 0);
    CK_CHECK(ck_speech_synth("it", 175, line, &p, &n, &err) == CK_OK);
    CK_CHECK(n == nref && p && memcmp(p, ref, n * sizeof *p) == 0);
    free(p);
    p = NULL;
    CK_CHECK(ck_speech_voice_check("it", &err) == CK_OK);
    CK_CHECK(ck_speech_voice_check("xx-nessuna", &err) != CK_OK && strstr(err.msg, "xx-nessuna"));
    if (helper > 0) {
        CK_CHECK(kill(helper, SIGKILL) == 0);
        waitpid(helper, NULL, 0);
        CK_CHECK(ck_speech_synth("it", 175, line, &p, &n, &err) == CK_OK); /* forked here again */
        CK_CHECK(n == nref && p && memcmp(p, ref, n * sizeof *p) == 0);
        CK_CHECK(helper_child() == 0);
    }
    free(p);
    free(ref);
}

int main(void)
{
    test_scene_speech();
    test_synth();
    test_many_lines();
    test_parallel();
    test_record_lines();
    test_lines_meet();
    test_resample_and_lines();
    test_helper(); /* last: the lines after it are forked by the helper */
    return ck_test_done("test_speech");
}
