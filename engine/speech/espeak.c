/* espeak.c: the built-in engine, libespeak-ng (synchronous mode: samples come back through the
 * callback before espeak_ng_Synthesize returns), every line said in a child process. Lines may
 * be asked for on several threads at once: `globals` below keeps libespeak-ng's global state
 * in this process still while a child is started from it. */
#include "ck_speech.h"
#include "speech_internal.h"

#include <espeak-ng/espeak_ng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static bool ready;
static int sample_rate;
static ck_status init_status = CK_OK;

typedef struct pcm_buf {
    float *s;
    size_t n, cap;
    bool oom;
} pcm_buf;

/* The line being said. Only a child says a line, one per process, so one pointer is enough
 * (the events' user_data is not on every callback). */
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

/* libespeak-ng's global state in this process (initialisation, the current voice) and the
 * flat voices below: held shared while a line's child is started (a fork copies that state,
 * so it must not change meanwhile; a spawn reads the voice table), exclusive while any of it
 * changes. Children run and are read outside it, so N threads have N children saying lines at
 * once. Writers first: a voice check is not kept waiting behind a stream of lines. */
static pthread_rwlock_t globals = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

/* In a child (one thread, nothing to lock) or with `globals` held exclusive. */
ck_status espeak_has_voice_here(const char *voice, ck_error *err)
{
    ck_status s = init(err);
    if (s != CK_OK)
        return s;
    if (espeak_ng_SetVoiceByName(voice) != ENS_OK)
        return ck_error_set(err, CK_ERR_NOT_FOUND, "espeak-ng", 0, 0,
                            "espeak-ng has no voice \"%s\" (espeak-ng --voices lists them)", voice);
    return CK_OK;
}

static ck_status has_voice(const char *voice, ck_error *err)
{
    ck_status hs;
    if (espeak_helper_has_voice(voice, &hs, err))
        return hs; /* looked up in the helper process, whose children say the lines */
    pthread_rwlock_wrlock(&globals);
    ck_status s = espeak_has_voice_here(voice, err);
    pthread_rwlock_unlock(&globals);
    return s;
}

/* The voice, without pitch flutter, as a voice file of our own.
 *
 * Why: libespeak-ng 1.51 keeps the phase of its pitch flutter in a static that no call
 * resets, so the same line said twice in one process differs (from the 64th sample on).
 * With the flutter's amplitude at 0 its phase no longer matters, and a line depends only on
 * its text, voice and rate (test_speech checks the samples are identical). The file is the
 * installed voice's own file plus "flutter 0", loaded by path before every line. */
#define FLAT_MAX 16 /* voices one process prepares */
typedef struct flat_voice {
    char name[64];   /* the voice the file was made for */
    char path[4096]; /* its file, removed at exit */
} flat_voice;
/* One file per voice (not one rewritten for each new voice): a child started for a line in
 * one voice may load its file after another thread prepared another voice. Entries are only
 * added, under `globals` held exclusive. */
static flat_voice flat[FLAT_MAX];
static int flat_count;
#define SPAWN_ENV "CIAK_SPEECH_LINE_CHILD" /* set in a spawned line's environment (below) */

void espeak_remove_flat_voices(void)
{
    for (int i = 0; i < flat_count; i++)
        unlink(flat[i].path);
}

static const flat_voice *flat_find(const char *voice)
{
    for (int i = 0; i < flat_count; i++)
        if (strcmp(flat[i].name, voice) == 0)
            return &flat[i];
    return NULL;
}

/* espeak-ng lower-cases a voice's file name before opening it, so the path must be lower
 * case: TMPDIR when it is, else /tmp; the name is ours (pid and the voice's index), no mkstemp
 * (its random letters are mixed case). */
static void flat_path_for(char *path, size_t size, int index)
{
    const char *tmp = getenv("TMPDIR");
    for (const char *c = tmp; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            tmp = NULL;
    snprintf(path, size, "%s/ciak-voice-%ld-%d", tmp && *tmp ? tmp : "/tmp", (long)getpid(), index);
}

/* The current voice (has_voice_here just set it) as a flat voice file; in a child, or with
 * `globals` held exclusive. */
static ck_status make_flat_voice(const char *voice, ck_error *err)
{
    if (flat_find(voice))
        return CK_OK;
    if (strlen(voice) >= sizeof flat[0].name)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, "espeak-ng", 0, 0,
                            "the voice name \"%.40s...\" is too long (at most %d characters)",
                            voice, (int)sizeof flat[0].name - 1);
    if (flat_count == FLAT_MAX)
        return ck_error_set(err, CK_ERR_UNSUPPORTED, "espeak-ng", 0, 0,
                            "a process can use at most %d espeak-ng voices", FLAT_MAX);
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
    flat_voice *f = &flat[flat_count];
    flat_path_for(f->path, sizeof f->path, flat_count);
    static bool removed_at_exit;
    if (!removed_at_exit)
        removed_at_exit = atexit(espeak_remove_flat_voices) == 0;
    /* ck_write_atomic replaces a stale file. */
    ck_status st = body ? ck_write_atomic(f->path, body, strlen(body), 0600, err)
                        : ck_error_set(err, CK_ERR_NOMEM, "espeak-ng", 0, 0, "out of memory");
    free(body);
    if (st == CK_OK) {
        snprintf(f->name, sizeof f->name, "%s", voice);
        flat_count++;
    }
    return st;
}

ck_status espeak_prepare_here(const char *voice, ck_error *err)
{
    if (flat_find(voice))
        return CK_OK;
    ck_status s = espeak_has_voice_here(voice, err);
    return s == CK_OK ? make_flat_voice(voice, err) : s;
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

static ck_status synth_here(const char *voice, int wpm, const char *text, float **pcm,
                            size_t *frames, int *rate, ck_error *err)
{
    ck_status s = init(err);
    /* Restarting the output resets the wave generator (WavegenInit: the glottal pulse's
     * phase, the echo buffer, the gain), which no other call does. */
    if (s == CK_OK && espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL) != ENS_OK)
        s = ck_error_set(err, CK_ERR_MEDIA, "espeak-ng", 0, 0, "espeak-ng could not restart");
    if (s == CK_OK)
        s = espeak_has_voice_here(voice, err);
    if (s == CK_OK)
        s = make_flat_voice(voice, err);
    const flat_voice *f = s == CK_OK ? flat_find(voice) : NULL;
    if (!f)
        return s;
    /* Every parameter that shapes the sound is set on each call, before the voice is loaded
     * (loading computes the gain from them) and after, so one line cannot leave state
     * behind for the next. */
    set_params(wpm);
    if (espeak_ng_SetVoiceByFile(f->path) != ENS_OK)
        return ck_error_set(err, CK_ERR_MEDIA, "espeak-ng", 0, 0,
                            "espeak-ng cannot load voice \"%s\" without flutter", voice);
    set_params(wpm);
    /* espeak-ng 1.51 draws noise from the C library's rand(): the same seed for every
     * line. This is a child saying one line; nothing else in ciak uses rand(). */
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

#define NO_LINE "the synthesis process ended without the line"

/* What a child sends back: this header, then `frames` floats. */
typedef struct child_reply {
    int32_t status, rate;
    uint64_t frames;
    char msg[256];
} child_reply;

static bool write_all(int fd, const void *p, size_t n)
{
    for (const char *c = p; n > 0;) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static bool read_all(int fd, void *p, size_t n)
{
    for (char *c = p; n > 0;) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        c += r;
        n -= (size_t)r;
    }
    return true;
}

/* The child: says the line, writes the reply, and leaves without exit handlers (they belong
 * to the parent: its voice file, the sanitizers' leak check). */
_Noreturn void espeak_child_say(int fd, const char *voice, int wpm, const char *text)
{
    float *pcm = NULL;
    size_t n = 0;
    int rate = 0;
    ck_error e = {0};
    ck_status st = synth_here(voice, wpm, text, &pcm, &n, &rate, &e);
    child_reply h = {.status = st, .rate = rate, .frames = st == CK_OK ? n : 0};
    if (st != CK_OK) {
        size_t l = strnlen(e.msg, sizeof h.msg - 1);
        memcpy(h.msg, e.msg, l);
    }
    bool ok = write_all(fd, &h, sizeof h) && (st != CK_OK || write_all(fd, pcm, n * sizeof *pcm));
    if (getenv(SPAWN_ENV)) /* a spawned child made its own flat voice file (below) */
        espeak_remove_flat_voices();
    _exit(ok ? 0 : 1);
}

/* Sanitizer builds spawn a fresh process per line instead of forking. A child forked from a
 * process with other threads inherits the allocator's locks as they were: glibc's malloc
 * takes them around fork, GCC 12's ASan allocator does not, and a child forked while another
 * thread held one hung in its first malloc (cli_server, cli_identity). posix_spawn runs
 * nothing in the child before exec. The spawned process is this executable (any program
 * linking libciak): the constructor below says the line and leaves before main. A fresh
 * process is the same every time too, so lines stay deterministic within a build (the
 * bytes may differ from a forking build's: the voice is looked up once less). */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_LINES 1
#else
#define SPAWN_LINES 0
#endif

typedef struct spawn_request {
    int32_t wpm;
    uint32_t voice_len, text_len;
} spawn_request;

__attribute__((constructor)) static void spawned_child(void)
{
    if (!getenv(SPAWN_ENV))
        return;
    spawn_request q;
    char *voice = NULL, *text = NULL;
    if (!read_all(0, &q, sizeof q) || q.voice_len > 256 || q.text_len > (1u << 20) ||
        !(voice = calloc(q.voice_len + 1, 1)) || !(text = calloc(q.text_len + 1, 1)) ||
        !read_all(0, voice, q.voice_len) || !read_all(0, text, q.text_len))
        _exit(2);
    espeak_child_say(1, voice, q.wpm, text);
}

extern char **environ;

/* Starts the child that says `text` and writes its reply to fd: forked (it inherits this
 * process's prepared state), or in sanitizer builds spawned and sent the request. */
static pid_t start_child(int fd[2], const char *voice, int wpm, const char *text)
{
    if (!SPAWN_LINES) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            espeak_child_say(fd[1], voice, wpm, text);
        }
        return pid;
    }
    int in[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **env = calloc(ne + 2, sizeof *env);
    pid_t pid = -1;
    if (env) {
        memcpy(env, environ, ne * sizeof *env);
        env[ne] = SPAWN_ENV "=1";
        char *argv[] = {"ciak-speech-line", NULL};
        if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env) != 0)
            pid = -1;
    }
    free(env);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    spawn_request q = {wpm, (uint32_t)strlen(voice), (uint32_t)strlen(text)};
    if (pid > 0)
        (void)(write_all(in[1], &q, sizeof q) && write_all(in[1], voice, q.voice_len) &&
               write_all(in[1], text, q.text_len));
    close(in[1]);
    return pid;
}

/* Every line is said in a child process forked for it from this one, which never says
 * anything itself. libespeak-ng 1.51 keeps translator state from one line to the next that
 * no call resets (README: the level of a clause can change by 1/16 after another line), so a
 * line said in-process would depend on what was said before it, and a person's segments would
 * get new digests after a restart or on another node. A process that has only been set up
 * (initialised, the voice looked up, the flat voice file written, all here) is the same
 * every time: forking one per line makes a line depend on its text, voice and rate alone.
 * Costs a fork (a few milliseconds) per line, a few lines per viewer. */
static ck_status synth(const char *voice, int wpm, const char *text, float **pcm, size_t *frames,
                       int *rate, ck_error *err)
{
    ck_status hs;
    if (espeak_helper_synth(voice, wpm, text, pcm, frames, rate, &hs, err))
        return hs; /* forked by the helper process (espeak_helper.c) */
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) != 0)
        return ck_error_set(err, CK_ERR_IO, "espeak-ng", 0, 0, "cannot make a pipe: %s",
                            strerror(errno));
    /* The voice is looked up (and its flat file made) once per voice, not per line: every
     * espeak_ng_SetVoiceByName in this process changes what the children inherit (lines 163
     * to 165 of a process came out 0.5 s long, whatever their text), so after the first
     * line in a voice the parent stays as it is. The child is started with `globals` held
     * (shared when the voice is ready: other lines start at the same time; exclusive while
     * it is prepared); it says the line and is read with nothing held. */
    ck_status s = CK_OK;
    pthread_rwlock_rdlock(&globals);
    if (!flat_find(voice)) {
        pthread_rwlock_unlock(&globals);
        pthread_rwlock_wrlock(&globals);
        s = espeak_prepare_here(voice, err); /* unless another thread did meanwhile */
    }
    pid_t pid = s == CK_OK ? start_child(fd, voice, wpm, text) : -1;
    int fork_errno = errno;
    pthread_rwlock_unlock(&globals);
    close(fd[1]);
    if (pid < 0) {
        close(fd[0]);
        return s != CK_OK ? s
                          : ck_error_set(err, CK_ERR_IO, "espeak-ng", 0, 0, "cannot fork: %s",
                                         strerror(fork_errno));
    }
    ck_status st = espeak_read_reply(fd[0], pcm, frames, rate, err);
    close(fd[0]);
    int wst = 0;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
        ;
    if (st != CK_OK && err && strcmp(err->msg, NO_LINE) == 0) /* how the child ended, then */
        ck_error_set(err, CK_ERR_MEDIA, "espeak-ng", 0, 0, NO_LINE " (status %d)", wst);
    return st;
}

ck_status espeak_read_reply(int fd, float **pcm, size_t *frames, int *rate, ck_error *err)
{
    child_reply h = {.status = CK_ERR_MEDIA};
    float *buf = NULL;
    bool got = read_all(fd, &h, sizeof h) && h.status == CK_OK && h.frames < (1u << 28) &&
               (buf = malloc((h.frames ? h.frames : 1) * sizeof *buf)) &&
               read_all(fd, buf, h.frames * sizeof *buf);
    if (!got) {
        free(buf);
        if (h.status != CK_OK && h.msg[0]) /* the child's own words (never the text) */
            return ck_error_set(err, (ck_status)h.status, "espeak-ng", 0, 0, "%.*s",
                                (int)sizeof h.msg, h.msg);
        return ck_error_set(err, CK_ERR_MEDIA, "espeak-ng", 0, 0, NO_LINE);
    }
    *pcm = buf;
    *frames = h.frames;
    *rate = h.rate;
    return CK_OK;
}

const ck_speech_engine *ck_speech_espeak(void)
{
    static const ck_speech_engine e = {"espeak-ng", has_voice, synth, .concurrent = 1};
    return &e;
}
