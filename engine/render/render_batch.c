/* render_batch.c: segments rendered (ck_render.h): a batch of one person's (ck_render_segments,
 * ck_render_segment), a stream of several people's (ck_render_stream), and a segment whose
 * pictures are shared, its video copied (ck_render_segment_speech, render_remux.c).
 *
 * Per segment: draw lists from the timeline -> background video frames from the decoders ->
 * ck_gpu_submit (several frames in flight, so the GPU composites frame n while the CPU
 * decodes frame n+1), on a compositing thread of the batch's own -> NV12 -> the encoder, on
 * the caller's thread, working on earlier frames meanwhile (render_encode.c) -> MPEG-TS with
 * the segment's share of the campaign's AAC packets, or, where one of the person's speech
 * clips sounds, the bed mixed with them and encoded for that segment (ck_audio_span). */
#include "render_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stream's jobs live in a ring of this many slots. Job j's slot is free again once job j
 * + STREAM_SLOTS is handed out: by then every frame of jobs up to j + 7 has been encoded, since
 * at most 3 frames are on the GPU and ENCQ_PICTURES (4) queued, plus the one being encoded, and
 * a job has at least one frame. */
#define STREAM_SLOTS 16

typedef struct batch {
    ck_render *r;
    ck_render_job *jobs;        /* a batch: the caller's; a stream: STREAM_SLOTS, a ring */
    int njobs;                  /* a batch's job count (a stream: 0) */
    const ck_render_feed *feed; /* a stream's jobs come from here, one at a time */
    ck_ts_finisher *fin;        /* NULL: finish on the caller's thread (a single segment) */
    render_encq *encq;          /* compositing thread -> caller's thread (render_encode.c) */
    int recv_job;           /* the job of the oldest frame on the GPU (frames come back in order) */
    double *started, *done; /* per slot */
    ck_ts_writer **ws;      /* per slot, from its job's first frame encoded until handed over */
    render_spans *spans;    /* the person's audio per slot, made ahead (render_audio.c) */
    void (*progress)(void *ctx, int done);
    void *progress_ctx;
    ck_status comp_status; /* the compositing thread's outcome */
    ck_error comp_err;
} batch;

/* Where job `j` (the j-th of the batch or stream) is kept. */
static int slot(const batch *b, int j)
{
    return b->feed ? j % STREAM_SLOTS : j;
}

/* Opens segment `index`'s writer at `path` with its audio: the bed's packets, or `span` (the
 * bed mixed with the person's clips, render_audio.c). */
static ck_ts_writer *segment_writer(ck_render *r, const ck_audio *span, int index,
                                    const char *path, ck_error *err)
{
    ck_ts_params tp = {.enc = &r->enc,
                       .first_frame = r->plan.items[index].first_frame,
                       .audio = span ? span : r->audio};
    render_segment_samples(r, index, &tp.audio_from, &tp.audio_to);
    return ck_ts_writer_create(path, &tp, err); /* copies the packets */
}

/* Benchmarks (ck_render_params.raw_video): the picture, raw, to the renderer's raw file. */
static ck_status write_raw(ck_render *r, const ck_ts_picture *pic, ck_error *err)
{
    if (!r->raw && !(r->raw = fopen(r->raw_path, "wb")))
        return ck_error_set(err, CK_ERR_IO, r->raw_path, 0, 0, "cannot open: %s", strerror(errno));
    return ck_ts_picture_write_nv12(pic, r->raw, r->raw_path, err);
}

/* On the caller's thread: encodes job `j`'s next frame. A segment's writer opens at its first
 * frame, after the previous segment's encoder has written its last frames and closed: one
 * libx264 session is alive at a time (~46 MB each at 720p), while the compositing thread works
 * ahead. After the last frame the file is finished (by the finisher thread when there is
 * one). */
static ck_status encode_one(batch *b, int j, ck_ts_picture *pic, bool last, ck_error *err)
{
    int k = slot(b, j);
    ck_render_job *job = &b->jobs[k];
    if (!b->ws[k]) {
        ck_audio *span = NULL;
        ck_status st = render_spans_take(b->spans, k, &span, err);
        if (st == CK_OK)
            b->ws[k] = segment_writer(b->r, span, job->index, job->path, err);
        ck_audio_destroy(&span); /* the writer has its packets */
        if (!b->ws[k])
            return st != CK_OK ? st : err->status ? err->status : CK_ERR_MEDIA;
    }
    ck_ts_writer *w = b->ws[k];
    ck_status st = ck_ts_writer_put(w, pic, err);
    if (st == CK_OK && b->r->raw_path)
        st = write_raw(b->r, pic, err);
    if (st != CK_OK || !last)
        return st;
    /* The segment's last frame. Finishing frees the writer, whether it succeeds or not. */
    b->ws[k] = NULL;
    int64_t *bytes = &job->stats.bytes;
    if (!b->fin) {
        st = ck_ts_writer_finish(&w, bytes, err);
        b->done[k] = ck_now_s();
        return st;
    }
    /* Unless told to overlap them, the encoder drains here, so that the next one opens in
     * the memory this one frees; the finisher writes the trailer and commits. */
    if (!b->r->overlap_encoders && (st = ck_ts_writer_end_video(w, err)) != CK_OK) {
        ck_ts_writer_destroy(&w);
        return st;
    }
    return ck_ts_finisher_add(b->fin, w, bytes, &b->done[k], err);
}

/* Receives the oldest frame from the GPU and queues a copy of it for the encoder. */
static ck_status receive_one(batch *b, ck_error *err)
{
    ck_gpu_frame fr;
    ck_status st = ck_gpu_receive(b->r->sg, &fr, err);
    if (st != CK_OK)
        return st;
    int j = b->recv_job;
    const ck_segment *sg = &b->r->plan.items[b->jobs[slot(b, j)].index];
    bool last = fr.frame == sg->first_frame + sg->frame_count - 1;
    if (last)
        b->recv_job++;
    return render_encq_push(b->encq, j, last, fr.y, fr.y_stride, fr.uv, fr.uv_stride, err);
}

/* Composites job `j`'s frames. The GPU is not drained at the end: the next segment's first
 * frames are submitted while this one's last frames are received. */
static ck_status render_job(batch *b, int j, ck_error *err)
{
    ck_render *r = b->r;
    ck_render_job *job = &b->jobs[slot(b, j)];
    const ck_segment *sg = &r->plan.items[job->index];
    b->started[slot(b, j)] = ck_now_s();
    /* Shared segments are drawn without the record: the same frames for everybody. */
    if (ck_timeline_set_record(r->tl, sg->personal ? job->rec : NULL, NULL, NULL) != CK_OK)
        return ck_error_set(err, CK_ERR_INVALID, r->scene->file, 0, 0, "cannot bind the record");
    job->stats.threads = r->enc.threads;
    job->stats.frames = sg->frame_count;
    job->stats.encoder = r->enc.encoder;
    /* The glyphs' places in the atlas follow this segment's draw lists only, so its pixels do
     * not depend on what this renderer drew before (ck_gpu_scene_reset_glyphs). */
    ck_gpu_scene_reset_glyphs(r->sg);
    ck_gpu_video_frame videos[CK_VIDEO_SET_MAX];
    ck_status st = CK_OK;
    int64_t end = sg->first_frame + sg->frame_count;
    for (int64_t f = sg->first_frame; f < end && st == CK_OK; f++) {
        ck_arena_reset(&r->frame_arena);
        ck_drawlist dl;
        size_t nv = 0;
        if ((st = ck_timeline_eval(r->tl, f, &r->frame_arena, &dl, err)) != CK_OK ||
            (st = ck_video_set_frames(r->videos, &dl, videos, &nv, err)) != CK_OK)
            break;
        if (ck_gpu_pending(r->sg) >= FRAMES_IN_FLIGHT && (st = receive_one(b, err)) != CK_OK)
            break;
        st = ck_gpu_submit(r->sg, &dl, videos, nv, err);
    }
    return st;
}

/* Whether there is a job `j`: a batch's next, or what the stream's feed hands out now (a
 * feed's index out of the plan stops the stream with *st set). */
static bool next_job(batch *b, int j, ck_status *st, ck_error *err)
{
    if (!b->feed)
        return j < b->njobs;
    ck_render_job *job = &b->jobs[slot(b, j)];
    memset(job, 0, sizeof *job);
    if (!b->feed->next(b->feed->ctx, job))
        return false;
    if (job->index < 0 || job->index >= b->r->plan.count) {
        *st = ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "segment %d out of range (0..%d)",
                           job->index, b->r->plan.count - 1);
        return false;
    }
    return true;
}

/* Job `j` is there (next_job); its audio is asked for at once (render_audio.c). */
static bool take_job(batch *b, int j, ck_status *st, ck_error *err)
{
    if (!next_job(b, j, st, err))
        return false;
    const ck_render_job *job = &b->jobs[slot(b, j)];
    render_spans_ask(b->spans, slot(b, j), job->speech, job->index);
    return true;
}

/* The compositing thread: every job's frames, then what is still on the GPU; closes the
 * queue whatever happens, so that the caller's encoding loop ends. Each job is taken one job
 * ahead of its frames, so that its audio is made while the job before is composited. */
static void *composite_main(void *arg)
{
    batch *b = arg;
    ck_render *r = b->r;
    pthread_setname_np(pthread_self(), "ck-composite"); /* for top -H and perf */
    ck_status st = CK_OK;
    bool more = take_job(b, 0, &st, &b->comp_err);
    for (int j = 0; st == CK_OK && more; j++) {
        ck_status next_st = CK_OK;
        ck_error next_err = {0};
        more = take_job(b, j + 1, &next_st, &next_err);
        st = render_job(b, j, &b->comp_err);
        if (st == CK_OK && next_st != CK_OK) { /* a feed's job out of the plan */
            st = next_st;
            b->comp_err = next_err;
        }
    }
    while (st == CK_OK && ck_gpu_pending(r->sg) > 0)
        st = receive_one(b, &b->comp_err);
    /* After a failure, abandon the GPU's frames in flight. */
    while (st != CK_OK && ck_gpu_pending(r->sg) > 0) {
        ck_gpu_frame fr;
        ck_error e2;
        if (ck_gpu_receive(r->sg, &fr, &e2) != CK_OK)
            break;
    }
    b->comp_status = st;
    render_encq_close(b->encq);
    return NULL;
}

/* On the caller's thread: encodes what the compositing thread queues, in order, until it is
 * done or encoding fails. */
static ck_status encode_all(batch *b, ck_error *err)
{
    int j;
    bool last;
    ck_ts_picture *pic;
    while (render_encq_pop(b->encq, &j, &last, &pic)) {
        ck_status st = encode_one(b, j, pic, last, err);
        render_encq_release(b->encq, pic);
        if (st != CK_OK) {
            render_encq_fail(b->encq, err);
            return st;
        }
        if (last && b->feed) { /* a stream finishes here: its file is in place */
            ck_render_job *job = &b->jobs[slot(b, j)];
            job->stats.seconds = b->done[slot(b, j)] - b->started[slot(b, j)];
            b->feed->done(b->feed->ctx, job);
        } else if (last && b->progress)
            b->progress(b->progress_ctx, j + 1);
    }
    return CK_OK;
}

ck_status ck_render_segments(ck_render *r, const ck_record *rec, ck_render_job *jobs, int n,
                             void (*progress)(void *ctx, int done), void *ctx, ck_error *err)
{
    return ck_render_segments_speech(r, rec, NULL, jobs, n, progress, ctx, err);
}

/* Runs a batch or a stream (b->jobs, b->njobs or b->feed set): composited on a thread of its
 * own, encoded here, finished by the finisher thread when there is one. */
static ck_status run_batch(batch *b, int slots, ck_error *err)
{
    ck_status st = render_audio_ready(b->r, err);
    if (st != CK_OK)
        return st;
    b->started = calloc((size_t)slots + 1, sizeof *b->started);
    b->done = calloc((size_t)slots + 1, sizeof *b->done);
    b->ws = calloc((size_t)slots + 1, sizeof *b->ws);
    pthread_t comp;
    if (!b->started || !b->done || !b->ws)
        st = ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    else if (b->njobs > 1 && !(b->fin = ck_ts_finisher_create(err)))
        st = err->status ? err->status : CK_ERR_NOMEM;
    else if (!(b->encq = render_encq_create(b->r->width, b->r->height, err)))
        st = err->status ? err->status : CK_ERR_NOMEM;
    else if (!(b->spans = render_spans_create(b->r, slots, err)))
        st = err->status ? err->status : CK_ERR_NOMEM;
    else if (pthread_create(&comp, NULL, composite_main, b) != 0)
        st = ck_error_set(err, CK_ERR_IO, NULL, 0, 0, "cannot start a thread to composite");
    else {
        /* Composited there, encoded here (render_encode.c says why this way round). */
        st = encode_all(b, err);
        pthread_join(comp, NULL);
        if (st == CK_OK && b->comp_status != CK_OK) {
            st = b->comp_status;
            if (err)
                *err = b->comp_err;
        }
    }
    if (st == CK_OK && b->fin)
        st = ck_ts_finisher_wait(b->fin, err);
    /* After a failure: the segments waiting to be finished are abandoned, then those whose
     * last frame was not encoded (nothing is left at their paths). */
    ck_ts_finisher_destroy(&b->fin);
    render_encq_destroy(&b->encq);
    for (int k = 0; k < slots && b->ws; k++)
        ck_ts_writer_destroy(&b->ws[k]);
    render_spans_destroy(&b->spans);
    for (int j = 0; j < b->njobs && st == CK_OK; j++)
        b->jobs[j].stats.seconds = b->done[j] - b->started[j];
    free(b->started);
    free(b->done);
    free(b->ws);
    return st;
}

ck_status ck_render_segments_speech(ck_render *r, const ck_record *rec,
                                    const ck_render_speech *speech, ck_render_job *jobs, int n,
                                    void (*progress)(void *ctx, int done), void *ctx, ck_error *err)
{
    for (int j = 0; j < n; j++) {
        if (jobs[j].index < 0 || jobs[j].index >= r->plan.count)
            return ck_error_set(err, CK_ERR_INVALID, NULL, 0, 0, "segment %d out of range (0..%d)",
                                jobs[j].index, r->plan.count - 1);
        memset(&jobs[j].stats, 0, sizeof jobs[j].stats);
        jobs[j].rec = rec;
        jobs[j].speech = speech;
    }
    batch b = {.r = r, .jobs = jobs, .njobs = n, .progress = progress, .progress_ctx = ctx};
    return run_batch(&b, n, err);
}

ck_status ck_render_stream(ck_render *r, const ck_render_feed *feed, ck_error *err)
{
    ck_render_job ring[STREAM_SLOTS];
    batch b = {.r = r, .jobs = ring, .feed = feed};
    return run_batch(&b, STREAM_SLOTS, err);
}

ck_status ck_render_segment(ck_render *r, const ck_record *rec, int index, const char *path,
                            ck_render_stats *stats, ck_error *err)
{
    return ck_render_segment_speech(r, rec, NULL, index, path, stats, err);
}

/* Segment `index` is personal only by `speech` (its pictures are a shared segment's): its
 * video can be copied from the shared file (render_remux.c). */
static bool audio_only_personal(const ck_render *r, const ck_render_speech *speech, int index)
{
    return index >= 0 && index < r->plan.count && r->shared[index] && r->audio &&
           render_speech_touches(r, speech, index);
}

/* Segment `index` for a person whose clips sound over shared pictures: the shared segment's
 * video packets muxed with the person's audio span. Only when the shared file is there: this
 * renderer does not make shared segments behind its caller's back (a server counts them, and a
 * cluster renders each exactly once); without it the segment is encoded (same bytes). */
static ck_status remux_segment(ck_render *r, const ck_render_speech *speech, int index,
                               const char *path, ck_render_stats *stats, ck_error *err)
{
    char *shared = ck_render_shared_path(r, r->shared_digest[index]);
    if (!shared)
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "out of memory");
    ck_status st = CK_OK;
    if (!ck_file_exists(shared))
        st = ck_error_set(err, CK_ERR_NOT_FOUND, shared, 0, 0,
                          "the shared segment is not rendered yet");
    if (st == CK_OK) {
        ck_ts_params tp = {.enc = &r->enc, .first_frame = r->plan.items[index].first_frame};
        render_segment_samples(r, index, &tp.audio_from, &tp.audio_to);
        st = render_remux_segment(shared, path, &tp, r->audio, speech->clips, speech->count, stats,
                                  err);
    }
    free(shared);
    return st;
}

bool ck_render_copies(const ck_render *r, const ck_render_speech *speech, int index)
{
    if (!audio_only_personal(r, speech, index))
        return false;
    char *shared = ck_render_shared_path(r, r->shared_digest[index]);
    bool there = shared && ck_file_exists(shared);
    free(shared);
    return there;
}

ck_status ck_render_segment_speech(ck_render *r, const ck_record *rec,
                                   const ck_render_speech *speech, int index, const char *path,
                                   ck_render_stats *stats, ck_error *err)
{
    if (render_audio_ready(r, err) != CK_OK)
        return err->status;
    if (audio_only_personal(r, speech, index)) {
        ck_error e = {0};
        if (remux_segment(r, speech, index, path, stats, &e) == CK_OK)
            return CK_OK;
        /* Not rendered yet, or unreadable, its folder gone...: encode it (same bytes). */
        if (e.status != CK_ERR_NOT_FOUND) {
            char buf[1400];
            ck_log(CK_LOG_WARN, "render: %s: segment %d from the shared video: %s; encoding it",
                   r->scene->id, index, ck_error_format(&e, buf, sizeof buf));
        }
    }
    ck_render_job job = {.index = index, .path = path};
    ck_status st = ck_render_segments_speech(r, rec, speech, &job, 1, NULL, NULL, err);
    if (st == CK_OK && stats)
        *stats = job.stats;
    return st;
}
