/* bench_render.c: `ciak bench render [SCENE_DIR...] [--size WxH] [--seconds S] [--out DIR]`
 * times, in one run on one machine, for each campaign (default: every scenes/<name>/):
 *   ciak    the full render of one person with sharing off (every segment rendered);
 *   peer    the FFmpeg command line doing the same job: the background video looped, the same
 *           texts (drawtext) and boxes (drawbox) at the same times, the same libx264 settings
 *           and audio, HLS output (bench/peers/ffmpeg-peer.sh runs the generated graph);
 *   floor   libx264 alone on the same frames: the CPU seconds of ffmpeg reading ciak's own
 *           pictures raw (a FIFO the renderer writes them to as it encodes them) and encoding
 *           them with ciak's settings (one thread, no B-frames, closed 60-frame GOPs) minus
 *           those of reading them alone, as frames per second of one core;
 *   +1      the marginal cost of one more person with sharing on: the digests plus that
 *           person's personal segments, the shared ones already being in the cache;
 *           with --speech also with personal audio (the scene's own speech lines for that
 *           person, synthesis included; a scene without speech gets one synthetic tone clip
 *           per personal segment): CPU seconds per personal segment with and without it;
 *   peer, speaking  with --speech on a scene that speaks, the peer again saying person 0's
 *           lines (the words ciak says, ck_speech_lines) with the espeak-ng CLI, mixed into
 *           the bed with amix: "+1 person" without speech on either side and with it on both.
 * and prints ratios. The default set adds bench/scenes/ (the plain scene: a video, a box, three
 * texts) to the campaigns. No timing is asserted anywhere; bench/README.md has measured numbers.
 * `ciak bench serve` (the stream server, seen from HTTP clients) lives in bench/serve. */
#include "ck_cli.h"
#include "ck_media.h"
#include "ck_render.h"
#include "ck_speech.h"

#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

/* Paths here come from the command line and fit easily; gcc's worst case for nested buffers
 * does not. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* CPU seconds (user + system) of this process's children that have ended. */
static double children_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

/* Runs `cmd`: its wall seconds, -1 when it failed; *cpu (when given) its CPU seconds, every
 * process it started included (the peer's espeak-ng runs and ffmpeg). */
static double run_timed_cpu(const char *cmd, double *cpu)
{
    double t0 = ck_now_s(), c0 = children_cpu();
    int rc = system(cmd);
    if (cpu)
        *cpu = children_cpu() - c0;
    if (rc != 0) {
        fprintf(stderr, "ciak bench: command failed (%d): %s\n", rc, cmd);
        return -1;
    }
    return ck_now_s() - t0;
}

static void hex_color(char *buf, size_t n, ck_color c, float opacity)
{
    snprintf(buf, n, "0x%02x%02x%02x@%.3f", (int)lroundf(c.r * 255), (int)lroundf(c.g * 255),
             (int)lroundf(c.b * 255), c.a * opacity);
}

/* Writes the peer's filter graph: every shape and text layer active before `secs`, placed as
 * the timeline places it half-way through its life (the peer has no keyframe animation:
 * this flatters the peer, not ciak). */
static bool write_peer_graph(ck_render *r, const ck_scene *s, const ck_record *rec, double secs,
                             int w, int h, const char *dir, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    ck_diags d = {0};
    ck_binding *b = ck_binding_create(s, &d);
    ck_fontset *fs = ck_fontset_create(s, &d);
    ck_error err;
    ck_timeline *tl = b && fs ? ck_timeline_create(s, b, fs, &err) : NULL;
    bool ok = tl && ck_timeline_set_record(tl, rec, NULL, NULL) == CK_OK;
    double sx = (double)w / s->width, sy = (double)h / s->height;
    fprintf(f, "[0:v]scale=%d:%d,fps=%g,format=yuv420p", w, h, s->fps);
    ck_arena fa = {0};
    int texts = 0;
    (void)r;
    for (int l = 0; ok && l < s->layer_count; l++) {
        const ck_layer *ly = &s->layers[l];
        if (ly->start >= secs || (ly->type != CK_LAYER_TEXT && ly->type != CK_LAYER_SHAPE))
            continue;
        int64_t f0, f1;
        ck_layer_frames(s, l, &f0, &f1);
        if (f1 <= f0)
            continue;
        ck_arena_reset(&fa);
        ck_drawlist dl;
        if (ck_timeline_eval(tl, (f0 + f1) / 2, &fa, &dl, &err) != CK_OK)
            continue;
        for (size_t i = 0; i < dl.count; i++) {
            const ck_draw *it = &dl.items[i];
            if (it->layer != l || it->opacity <= 0)
                continue;
            double x = it->xf.tx * sx, y = it->xf.ty * sy;
            double bw = it->w * it->xf.a * sx, bh = it->h * it->xf.d * sy;
            char en[96], col[32];
            snprintf(en, sizeof en, "enable='between(t,%.3f,%.3f)'", ly->start, ly->end);
            if (it->kind == CK_DRAW_RECT) {
                hex_color(col, sizeof col, it->u.rect.p.fill, it->opacity);
                fprintf(f, ",drawbox=x=%.0f:y=%.0f:w=%.0f:h=%.0f:color=%s:t=fill:%s", x, y,
                        bw > 1 ? bw : 1, bh > 1 ? bh : 1, col, en);
            } else if (it->kind == CK_DRAW_TEXT && it->u.text.glyph_count) {
                size_t nfits;
                const ck_text_fit *fits = ck_timeline_fits(tl, &nfits);
                const char *text = NULL;
                for (size_t k = 0; k < nfits; k++)
                    if (fits[k].layer == l)
                        text = fits[k].text;
                if (!text)
                    continue;
                char tpath[4200];
                snprintf(tpath, sizeof tpath, "%s/text%d.txt", dir, texts++);
                FILE *tf = fopen(tpath, "w");
                if (!tf)
                    continue;
                fputs(text, tf);
                fclose(tf);
                const ck_glyph *g = &dl.glyphs[it->u.text.glyph_first];
                int font = ly->text.font;
                hex_color(col, sizeof col, it->u.text.color, it->opacity);
                /* expansion=none: the text is drawn as written ("20 % in meno" is no %{...}). */
                fprintf(
                    f,
                    ",drawtext=expansion=none:fontfile=%s:textfile=%s:fontsize=%.0f:fontcolor=%s:"
                    "x=%.0f:y=%.0f:%s",
                    s->assets[font].path, tpath, it->u.text.size * sy, col, x + g->x * sx,
                    y + g->y * sy - it->u.text.size * sy * 0.8, en);
            }
        }
    }
    fprintf(f, "[v]\n");
    ck_arena_free(&fa);
    ck_timeline_destroy(&tl);
    ck_fontset_destroy(&fs);
    ck_binding_destroy(&b);
    ck_diags_free(&d);
    return fclose(f) == 0 && ok;
}

/* Renders segments of `rec` that start before `secs` (only personal ones when `personal`):
 * returns frames rendered, -1 on error. */
static int64_t render_person(ck_render *r, const ck_record *rec, const ck_render_speech *speech,
                             const char *dir, double secs, bool personal_only, int *segments)
{
    ck_render_view v;
    ck_error err;
    char ebuf[1400];
    if (ck_render_view_make_speech(r, rec, speech, &v, &err) != CK_OK) {
        fprintf(stderr, "ciak bench: %s\n", ck_error_format(&err, ebuf, sizeof ebuf));
        return -1;
    }
    int64_t frames = 0;
    int n = 0;
    ck_render_job *jobs = calloc((size_t)v.count + 1, sizeof *jobs);
    char(*paths)[4200] = calloc((size_t)v.count + 1, sizeof *paths);
    if (!jobs || !paths) {
        fprintf(stderr, "ciak bench: out of memory\n");
        frames = -1;
    }
    for (int i = 0; frames >= 0 && i < v.count && v.segs[i].start < secs; i++) {
        if (v.segs[i].shared) {
            char *sp = ck_render_shared_path(r, v.segs[i].digest);
            snprintf(paths[n], sizeof paths[n], "%s", sp ? sp : "");
            free(sp);
            if (ck_file_exists(paths[n]) || personal_only)
                continue;
        } else {
            snprintf(paths[n], sizeof paths[n], "%s/%s.ts", dir, v.segs[i].digest);
        }
        jobs[n] = (ck_render_job){.index = i, .path = paths[n]};
        n++;
    }
    if (segments)
        *segments = n;
    if (frames >= 0 &&
        ck_render_segments_speech(r, rec, speech, jobs, n, NULL, NULL, &err) != CK_OK) {
        fprintf(stderr, "ciak bench: %s\n", ck_error_format(&err, ebuf, sizeof ebuf));
        frames = -1;
    }
    for (int j = 0; frames >= 0 && j < n; j++)
        frames += jobs[j].stats.frames;
    free(jobs);
    free(paths);
    if (frames >= 0) {
        char *pl = ck_render_media_playlist(r, &v, NULL);
        char ppath[4200];
        snprintf(ppath, sizeof ppath, "%s/video.m3u8", dir);
        ck_error e2;
        if (pl)
            ck_write_atomic(ppath, pl, strlen(pl), 0644, &e2);
        free(pl);
    }
    ck_render_view_free(&v);
    return frames;
}

/* CPU seconds of the whole process (every thread: the encoders finish on their own) and of
 * its children that have ended (a speech line is said in a child process of its own:
 * engine/speech). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9 + children_cpu();
}

/* ffmpeg reading, as rawvideo from a FIFO, the pictures a renderer made with `base` encodes
 * while it renders `rec` (sharing off) again, then doing `out` with them: ffmpeg's CPU seconds
 * (its shell included), or -1. */
static double raw_pass(ck_gpu *gpu, const char *scene_dir, const ck_render_params *base,
                       const ck_record *rec, const char *dir, double secs, int w, int h, double fps,
                       const char *out)
{
    char fifo[4200], odir[4200], cmd[6000];
    snprintf(fifo, sizeof fifo, "%s/raw.nv12", dir);
    snprintf(odir, sizeof odir, "%s/raw", dir);
    unlink(fifo);
    if (mkfifo(fifo, 0600) != 0) {
        fprintf(stderr, "ciak bench: %s: cannot make a FIFO: %s\n", fifo, strerror(errno));
        return -1;
    }
    snprintf(cmd, sizeof cmd,
             "exec ffmpeg -nostdin -v error -f rawvideo -pix_fmt nv12 -s %dx%d -r %.6f -i '%s' %s",
             w, h, fps, fifo, out);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    ck_render_params p = *base;
    p.raw_video = fifo;
    ck_error err;
    char ebuf[1400];
    void (*was)(int) = signal(SIGPIPE, SIG_IGN); /* ffmpeg gone: a write error, not a death */
    ck_render *r = pid > 0 ? ck_render_create(gpu, scene_dir, &p, &err) : NULL;
    if (pid > 0 && !r)
        fprintf(stderr, "ciak bench: %s\n", ck_error_format(&err, ebuf, sizeof ebuf));
    int64_t frames = r ? render_person(r, rec, NULL, odir, secs, false, NULL) : -1;
    ck_render_destroy(&r); /* closes the FIFO: ffmpeg reads its end */
    /* A render that failed before opening the FIFO leaves ffmpeg waiting for a writer. */
    int fd = open(fifo, O_WRONLY | O_NONBLOCK);
    if (fd >= 0)
        close(fd);
    signal(SIGPIPE, was);
    int status = 0;
    struct rusage ru = {0};
    if (pid > 0)
        wait4(pid, &status, 0, &ru);
    unlink(fifo);
    if (pid <= 0 || frames <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "ciak bench: the encoder floor's pass failed: %s\n", cmd);
        return -1;
    }
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

/* Synthetic personal speech for benchmarks: one tone clip per segment that is personal by its
 * pictures, 0.2 s after its start, up to 1.5 s long (clear of the splice guard), so the same
 * segments are personal with and without it. `tone` holds 1.5 s at 48 kHz. */
static int synthetic_speech(const ck_segment_plan *plan, const float *tone, ck_audio_clip *clips)
{
    int n = 0;
    for (int i = 0; i < plan->count; i++) {
        const ck_segment *sg = &plan->items[i];
        double len = sg->duration - 0.4;
        if (!sg->personal || len <= 0)
            continue;
        clips[n++] = (ck_audio_clip){.start_s = sg->start + 0.2,
                                     .pcm = tone,
                                     .frames = (size_t)(CK_AUDIO_RATE * (len < 1.5 ? len : 1.5)),
                                     .rate = CK_AUDIO_RATE,
                                     .text = "",
                                     .personal = 1};
    }
    return n;
}

/* The personal segments of `rec` that start before `secs`, with personal audio: a scene that
 * speaks, the person's own lines, synthesised here; else a stand-in tone per personal
 * segment. Returns frames rendered, -1 on error. */
static int64_t render_speaking(ck_render *r, const ck_record *rec, const char *dir, double secs,
                               int *segments, double *synth_cpu)
{
    const ck_segment_plan *plan = ck_render_plan(r);
    const ck_scene *sc = ck_render_scene(r);
    float *tone = malloc(CK_AUDIO_RATE * 3 / 2 * sizeof *tone);
    ck_audio_clip *clips = calloc((size_t)plan->count + 1, sizeof *clips);
    int64_t frames = -1;
    if (tone && clips) {
        for (int i = 0; i < CK_AUDIO_RATE * 3 / 2; i++)
            tone[i] = 0.2f * sinf(2.0f * 3.14159265f * 330.0f * (float)i / CK_AUDIO_RATE);
        ck_render_speech sp = {.clips = clips, .count = synthetic_speech(plan, tone, clips)};
        double c0 = cpu_now();
        if (sc->speech_line_count > 0)
            ck_render_speech_make(sc, rec, &sp);
        if (synth_cpu)
            *synth_cpu = cpu_now() - c0;
        frames = render_person(r, rec, &sp, dir, secs, true, segments);
        if (sc->speech_line_count > 0)
            ck_render_speech_free(&sp);
    }
    free(tone);
    free(clips);
    return frames;
}

/* Writes the lines `rec` hears that start before `secs`, worded as ciak says them
 * (ck_speech_lines: spoken forms, `when`), one text file each in `dir`, and `list`: one
 * "START FILE" line each, for the peer to say (bench/peers/ffmpeg-peer.sh). Returns how many,
 * -1 on failure. */
static int write_peer_lines(const ck_scene *s, const ck_record *rec, double secs, const char *dir,
                            const char *list)
{
    ck_speech_clip *lines = NULL;
    size_t n = 0;
    ck_error err;
    char ebuf[1400];
    if (ck_speech_lines(s, rec, &lines, &n, &err) != CK_OK) {
        fprintf(stderr, "ciak bench: %s\n", ck_error_format(&err, ebuf, sizeof ebuf));
        return -1;
    }
    FILE *f = fopen(list, "w");
    int said = 0;
    for (size_t i = 0; f && i < n; i++) {
        if (lines[i].start_s >= secs)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/line%zu.txt", dir, i);
        FILE *tf = fopen(path, "w");
        if (!tf || fputs(lines[i].text, tf) < 0 || fclose(tf) != 0) {
            said = -1;
            break;
        }
        fprintf(f, "%.3f %s\n", lines[i].start_s, path);
        said++;
    }
    ck_speech_clips_free(&lines, n);
    if (!f || fclose(f) != 0 || said < 0) {
        fprintf(stderr, "ciak bench: cannot write the peer's lines in %s\n", dir);
        return -1;
    }
    return said;
}

/* Runs the peer (bench/peers/ffmpeg-peer.sh) into `pdir`; with `lines` (a list from
 * write_peer_lines) it also says them with the scene's voice. Wall seconds, -1 on failure;
 * *cpu its CPU seconds. */
static double run_peer(const ck_scene *s, const char *bg, const char *audio, const char *graph,
                       double secs, int w, int h, const char *pdir, const char *lines, double *cpu)
{
    char cmd[16384];
    ck_enc_config ec = {.encoder = "libx264", .width = w, .height = h};
    ck_enc_config_defaults(&ec);
    int n = snprintf(cmd, sizeof cmd, "bash '%s' '%s' '%s' '%s' %.3f %d %lld %d '%s'",
                     "bench/peers/ffmpeg-peer.sh", bg, audio, graph, secs, ec.quality,
                     (long long)ec.maxrate, ec.threads, pdir);
    if (lines)
        snprintf(cmd + n, sizeof cmd - (size_t)n, " '%s' %d '%s'",
                 s->speech_voice ? s->speech_voice : "it", s->speech_rate, lines);
    return run_timed_cpu(cmd, cpu);
}

static int bench_scene(ck_gpu *gpu, const char *scene_dir, int w0, int h0, double secs,
                       const char *out, bool speech)
{
    ck_error err;
    char ebuf[1400], dir[4096], cmd[16384];
    int rc = 1;
    ck_render *full = NULL, *shared = NULL;
    ck_records *recs = NULL;
    ck_diags d = {0};
    snprintf(dir, sizeof dir, "%s/bench", out);
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && mkdir -p '%s/ciak' '%s/peer' '%s/plus1' '%s/peer-speech' '%s/raw'",
             dir, dir, dir, dir, dir, dir);
    if (system(cmd) != 0)
        return 1;
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    ck_render_params p = {
        .cache_dir = cache, .encoder = "libx264", .width = w0, .height = h0, .no_share = true};
    if (!(full = ck_render_create(gpu, scene_dir, &p, &err)))
        goto fail;
    const ck_scene *s = ck_render_scene(full);
    char samples[4200];
    snprintf(samples, sizeof samples, "%s/samples.json", s->dir);
    recs = ck_records_load(s, samples, &d);
    if (!recs || recs->count < 2) {
        fprintf(stderr, "ciak bench: %s: needs at least 2 sample records\n", samples);
        goto done;
    }
    int w, h;
    ck_render_size(full, &w, &h);
    if (secs <= 0 || secs > s->duration)
        secs = s->duration;

    /* 1. ciak, sharing off: every segment of person 0. */
    char cdir[4200];
    snprintf(cdir, sizeof cdir, "%s/ciak", dir);
    double t0 = ck_now_s(), c_ciak = cpu_now();
    int64_t frames = render_person(full, &recs->items[0], NULL, cdir, secs, false, NULL);
    double t_ciak = ck_now_s() - t0;
    c_ciak = cpu_now() - c_ciak;
    if (frames <= 0)
        goto done;

    /* 2. +1 person with sharing on: person 0 fills the cache (untimed), person 1 is timed. */
    p.no_share = false;
    p.speech = speech;
    if (!(shared = ck_render_create(gpu, scene_dir, &p, &err)))
        goto fail;
    char pdir[4200];
    snprintf(pdir, sizeof pdir, "%s/plus1", dir);
    if (render_person(shared, &recs->items[0], NULL, pdir, secs, false, NULL) < 0)
        goto done;
    int nseg = 0, nseg_speech = 0;
    double c0 = cpu_now();
    t0 = ck_now_s();
    int64_t pframes = render_person(shared, &recs->items[1], NULL, pdir, secs, true, &nseg);
    double t_plus1 = ck_now_s() - t0, cpu_plus1 = cpu_now() - c0, cpu_speech = 0, t_speech = 0,
           cpu_synth = 0;
    bool real_speech = false;
    if (pframes < 0)
        goto done;
    if (speech) {
        /* Person 0 with speech first, untimed: what a renderer does once for everybody (the
         * campaign's bed decoded for mixing, then kept) is not one more person's cost. Then
         * person 1 again with speech: new digests, so every personal segment is rendered
         * again, now with its audio encoded for it. */
        real_speech = ck_render_scene(shared)->speech_line_count > 0;
        if (render_speaking(shared, &recs->items[0], pdir, secs, NULL, NULL) < 0)
            goto done;
        c0 = cpu_now();
        t0 = ck_now_s();
        int64_t sframes =
            render_speaking(shared, &recs->items[1], pdir, secs, &nseg_speech, &cpu_synth);
        cpu_speech = cpu_now() - c0;
        t_speech = ck_now_s() - t0;
        if (sframes < 0)
            goto done;
    }

    /* 3. the FFmpeg peer on the same content. */
    char graph[4200], bg[4200] = "", audio[4200] = "";
    snprintf(graph, sizeof graph, "%s/peer/graph.txt", dir);
    for (int i = 0; i < s->layer_count && !bg[0]; i++)
        if (s->layers[i].type == CK_LAYER_VIDEO)
            snprintf(bg, sizeof bg, "%s", s->assets[s->layers[i].media.asset].path);
    if (s->audio >= 0)
        snprintf(audio, sizeof audio, "%s", s->assets[s->audio].path);
    if (!bg[0] || !write_peer_graph(full, s, &recs->items[0], secs, w, h, dir, graph)) {
        fprintf(stderr, "ciak bench: %s: cannot make the peer's filter graph\n", scene_dir);
        goto done;
    }
    char pout[4200];
    snprintf(pout, sizeof pout, "%s/peer", dir);
    double cpu_peer = 0, cpu_peer_sp = 0, t_peer_sp = -1;
    double t_peer = run_peer(s, bg, audio, graph, secs, w, h, pout, NULL, &cpu_peer);
    /* With --speech on a scene that speaks, the peer again, saying the lines person 0 hears
     * (the person its graph shows); the synthesis is inside the timed command. */
    if (speech && real_speech) {
        char list[4200];
        snprintf(pout, sizeof pout, "%s/peer-speech", dir);
        snprintf(list, sizeof list, "%s/lines.txt", pout);
        if (write_peer_lines(s, &recs->items[0], secs, pout, list) < 0)
            goto done;
        t_peer_sp = run_peer(s, bg, audio, graph, secs, w, h, pout, list, &cpu_peer_sp);
    }

    /* 4. the encoder floor: libx264's CPU seconds on ciak's own frames, the very pictures
     * ciak encodes (person 0 rendered again, each picture also written raw to a FIFO that
     * ffmpeg reads), minus ffmpeg reading them alone. (It encoded ciak's decoded stream before:
     * pictures one encode had smoothed already, which libx264 encodes faster, 1.2-1.3x on the
     * demo campaigns: bench/README.md.) */
    ck_enc_config ec = {.encoder = "libx264", .width = w, .height = h};
    ck_enc_config_defaults(&ec);
    char x264[1024];
    snprintf(x264, sizeof x264,
             "-c:v libx264 -preset veryfast -crf %d -maxrate %lld -bufsize %lld -profile:v high "
             "-threads %d -bf 0 -flags +cgop "
             "-x264-params scenecut=0:open-gop=0:force-cfr=1:sliced-threads=%d "
             "-g 60 -keyint_min 60 -f null -",
             ec.quality, (long long)ec.maxrate, (long long)ec.bufsize, ec.threads, ec.threads > 1);
    p.no_share = true;
    p.speech = false;
    double cpu_dec =
        raw_pass(gpu, scene_dir, &p, &recs->items[0], dir, secs, w, h, s->fps, "-f null -");
    double cpu_de =
        cpu_dec < 0 ? -1
                    : raw_pass(gpu, scene_dir, &p, &recs->items[0], dir, secs, w, h, s->fps, x264);
    if (cpu_dec < 0 || cpu_de < 0)
        goto done;
    double t_floor = cpu_de - cpu_dec;

    double fc = frames / t_ciak, fp = t_peer > 0 ? frames / t_peer : 0;
    double ff = t_floor > 0 ? frames / t_floor : 0;
    printf("%-18s %dx%d %5.1fs %5lld fr | ciak %6.1f fps | peer %6.1f fps | ciak/peer %5.2f | "
           "x264 floor %6.1f fps | ciak/floor %5.2f | +1 person %6.2f s vs peer %6.2f s = %5.1fx "
           "cheaper | CPU ciak %.1f s, x264 alone %.1f s\n",
           s->id, w, h, secs, (long long)frames, fc, fp, fp > 0 ? fc / fp : 0, ff,
           ff > 0 ? fc / ff : 0, t_plus1, t_peer, t_plus1 > 0 ? t_peer / t_plus1 : 0, c_ciak,
           t_floor);
    if (speech && real_speech && t_peer > 0 && t_peer_sp > 0) {
        /* +1 person against the peer, wall and CPU, first with no speech on either side, then
         * with both speaking (ciak: the person's lines, synthesis included). */
        printf("%-18s +1 person without speech %6.2f s, CPU %6.2f s | peer          %6.2f s, "
               "CPU %6.2f s | %5.1fx cheaper, CPU %5.1fx\n",
               s->id, t_plus1, cpu_plus1, t_peer, cpu_peer, t_plus1 > 0 ? t_peer / t_plus1 : 0,
               cpu_plus1 > 0 ? cpu_peer / cpu_plus1 : 0);
        printf("%-18s +1 person with speech    %6.2f s, CPU %6.2f s | speaking peer %6.2f s, "
               "CPU %6.2f s | %5.1fx cheaper, CPU %5.1fx\n",
               s->id, t_speech, cpu_speech, t_peer_sp, cpu_peer_sp,
               t_speech > 0 ? t_peer_sp / t_speech : 0,
               cpu_speech > 0 ? cpu_peer_sp / cpu_speech : 0);
    }
    if (speech && nseg > 0 && nseg_speech > 0) {
        char how[96] = "synthetic clips";
        if (real_speech)
            snprintf(how, sizeof how, "its speech lines; their synthesis %.2f s in all", cpu_synth);
        printf("%-18s personal segments: %d, CPU %.3f s each without personal audio, %.3f s "
               "with it (+%.1f %%; %s)\n",
               s->id, nseg, cpu_plus1 / nseg, cpu_speech / nseg_speech,
               100.0 * (cpu_speech / nseg_speech - cpu_plus1 / nseg) / (cpu_plus1 / nseg), how);
    }
    fflush(stdout);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "ciak bench: %s\n", ck_error_format(&err, ebuf, sizeof ebuf));
done:
    ck_cli_print_diags(&d);
    ck_diags_free(&d);
    ck_records_destroy(&recs);
    ck_render_destroy(&shared);
    ck_render_destroy(&full);
    return rc;
}

typedef struct bench_opts {
    ck_cli_strs scenes;
    ck_cli_size size;
    double secs;
    const char *out;
    bool speech;
} bench_opts;

static const ck_opt bench_table[] = {
    {.name = "SCENE_DIR",
     .help = "the scenes timed (default: every scenes/*/ and bench/scenes/*/)",
     .parse = ck_opt_list,
     .offset = offsetof(bench_opts, scenes),
     .flags = CK_OPT_OPTIONAL | CK_OPT_REPEAT},
    {.name = "--size",
     .arg = "WxH",
     .help = "output size, even (default: each scene's canvas)",
     .parse = ck_opt_size_even,
     .offset = offsetof(bench_opts, size)},
    {.name = "--seconds",
     .arg = "S",
     .help = "time only the first S seconds (0: the whole video)",
     .parse = ck_opt_seconds,
     .offset = offsetof(bench_opts, secs)},
    {.name = "--out",
     .arg = "DIR",
     .help = "where the renders and the peer's output go",
     .def = "var/bench",
     .parse = ck_opt_str,
     .offset = offsetof(bench_opts, out)},
    {.name = "--speech",
     .help = "also time +1 person with personal audio (their speech lines; a stand-in tone "
             "where the scene has none) and, for a scene that speaks, the peer saying the same "
             "lines",
     .parse = ck_opt_flag,
     .offset = offsetof(bench_opts, speech)},
    {0},
};

static int cmd_bench_render(const void *opts)
{
    const bench_opts *o = opts;
    const char *scenes[CK_CLI_STRS_MAX];
    int nscenes = o->scenes.count, w = o->size.w, h = o->size.h;
    double secs = o->secs;
    const char *out = o->out;
    for (int i = 0; i < nscenes; i++)
        scenes[i] = o->scenes.items[i];
    glob_t g = {0};
    /* The campaigns, then the bench's own scenes (bench/scenes: the plain scene of issue 15). */
    if (nscenes == 0 && glob("scenes/*/scene.json", 0, NULL, &g) == 0 &&
        glob("bench/scenes/*/scene.json", GLOB_APPEND, NULL, &g) != GLOB_NOSPACE) {
        for (size_t i = 0; i < g.gl_pathc && nscenes < CK_CLI_STRS_MAX; i++) {
            char *slash = strrchr(g.gl_pathv[i], '/');
            *slash = 0;
            scenes[nscenes++] = g.gl_pathv[i];
        }
    }
    if (nscenes == 0) {
        fprintf(stderr, "ciak bench: no scenes (run from the repository root or name them)\n");
        globfree(&g);
        return CK_EXIT_USAGE;
    }
    ck_error err;
    char ebuf[1400];
    ck_gpu *gpu = ck_gpu_create(NULL, &err);
    if (!gpu) {
        fprintf(stderr, "ciak bench: %s\n", ck_error_format(&err, ebuf, sizeof ebuf));
        globfree(&g);
        return CK_EXIT_PROBLEMS;
    }
    printf("ciak bench render: GPU %s, encoder libx264 (veryfast, same CRF/VBV for all)\n",
           ck_gpu_device_name(gpu));
    int rc = 0;
    for (int i = 0; i < nscenes; i++)
        rc |= bench_scene(gpu, scenes[i], w, h, secs, out, o->speech);
    ck_gpu_destroy(&gpu);
    globfree(&g);
    return rc ? CK_EXIT_PROBLEMS : CK_EXIT_OK;
}

const ck_cli_cmd ck_cli_cmd_bench_render = {
    "bench render",
    "times ciak against its FFmpeg peer and libx264 alone, per campaign (bench/README.md)",
    {{bench_table, 0}},
    sizeof(bench_opts),
    NULL,
    cmd_bench_render};
