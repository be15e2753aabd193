/* media_remux.c: a segment made from another segment's video and other audio (ck_media.h,
 * ck_ts_remux_video).
 *
 * A segment that is personal only by its audio (one of the person's speech lines sounds in it,
 * its pictures are the shared ones) has the shared segment's video packets byte for byte: the
 * same frames through the same encoder settings. Encoding them again costs a libx264 session
 * (~0.4 s of CPU at 720p for 2 s); copying them out of the shared file costs a few ms. The
 * result must be the bytes the writer would make (a digest names one byte string), so the
 * muxer is set up as ck_ts_writer_create sets it up (same options, same streams in the same
 * order, the audio packets first, the video packets through the same interleaver with the same
 * timestamps and flags); test_media and test_render compare the files byte for byte. Keep the
 * two in step. */
#include "ck_media.h"
#include "media_internal.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct remux {
    const char *src, *path;
    char *tmp;
    AVFormatContext *ic, *oc;
    AVStream *vst, *ast;
    int in_video; /* the source's video stream index, -1: not found yet */
    AVPacket *pkt;
} remux;

/* Opens the source segment for reading its packets as they are stored: no parser (it would
 * split and join access units by its own reading), no timestamps filled in. */
static ck_status open_source(remux *m, ck_error *err)
{
    if (!(m->ic = avformat_alloc_context()))
        return ck_error_set(err, CK_ERR_NOMEM, m->src, 0, 0, "out of memory");
    m->ic->flags |= AVFMT_FLAG_NOPARSE | AVFMT_FLAG_NOFILLIN;
    const AVInputFormat *ts = av_find_input_format("mpegts");
    int ret = avformat_open_input(&m->ic, m->src, ts, NULL); /* frees ic on failure */
    if (ret < 0)
        return media_averr(err, m->src, ret, "cannot read the segment");
    m->in_video = -1;
    for (unsigned i = 0; i < m->ic->nb_streams; i++)
        if (m->ic->streams[i]->codecpar->codec_id == AV_CODEC_ID_H264)
            m->in_video = (int)i;
    if (m->in_video < 0)
        return ck_error_set(err, CK_ERR_MEDIA, m->src, 0, 0, "the segment has no H.264 video");
    return CK_OK;
}

/* The output muxer and its header, then the audio packets: as ck_ts_writer_create does. */
static ck_status open_output(remux *m, const ck_ts_params *p, ck_error *err)
{
    if (media_ts_muxer(&m->oc, m->path, err) != CK_OK)
        return err->status;
    if (!(m->vst = avformat_new_stream(m->oc, NULL)))
        return ck_error_set(err, CK_ERR_NOMEM, m->path, 0, 0, "out of memory");
    /* The MPEG-TS muxer reads the codec id (stream type) and, for H.264 packets without a
     * start code, the extradata; the encoder's stream has none (no global header), and the
     * source's is left out. */
    AVCodecParameters *vp = m->vst->codecpar;
    vp->codec_type = AVMEDIA_TYPE_VIDEO;
    vp->codec_id = AV_CODEC_ID_H264;
    vp->width = p->enc->width;
    vp->height = p->enc->height;
    m->vst->time_base = (AVRational){p->enc->fps_den, p->enc->fps_num};
    m->vst->avg_frame_rate = (AVRational){p->enc->fps_num, p->enc->fps_den};
    if (p->audio && !(m->ast = media_ts_audio_stream(m->oc, ck_audio_channels(p->audio))))
        return ck_error_set(err, CK_ERR_NOMEM, m->path, 0, 0, "out of memory");
    if (media_ts_header(m->oc, m->tmp, m->path, err) != CK_OK)
        return err->status;
    return media_ts_audio_packets(m->oc, m->ast, m->pkt, p, m->path, err);
}

/* Does this access unit hold an IDR slice (NAL type 5)? The encoder flags exactly those as
 * keyframes; the demuxer's own flag is not read (it comes from the adaptation field). */
static bool has_idr(const uint8_t *d, int size)
{
    for (int i = 0; i + 3 < size; i++)
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
            int type = d[i + 3] & 0x1f;
            if (type == 5)
                return true;
            if (type == 1)
                return false; /* a non-IDR slice: the access unit is not a keyframe */
            i += 2;
        }
    return false;
}

/* Copies the source's video packets with the timestamps the encoder gave them: the file's are
 * those plus the muxer's delay, found from the first packet (the segment's first frame). */
static ck_status copy_video(remux *m, const ck_ts_params *p, ck_error *err)
{
    const AVStream *is = m->ic->streams[m->in_video];
    AVRational frame_tb = {p->enc->fps_den, p->enc->fps_num};
    int64_t first = av_rescale_q(p->first_frame, frame_tb, is->time_base);
    int64_t shift = 0;
    bool any = false;
    int ret;
    while ((ret = av_read_frame(m->ic, m->pkt)) >= 0) {
        AVPacket *k = m->pkt;
        if (k->stream_index != m->in_video || k->size <= 0) {
            av_packet_unref(k);
            continue;
        }
        if (k->pts == AV_NOPTS_VALUE) {
            av_packet_unref(k);
            return ck_error_set(err, CK_ERR_MEDIA, m->src, 0, 0, "a video packet without PTS");
        }
        if (k->dts == AV_NOPTS_VALUE)
            k->dts = k->pts;
        if (!any)
            shift = k->dts - first;
        any = true;
        int64_t pts = k->pts - shift, dts = k->dts - shift;
        bool key = has_idr(k->data, k->size);
        /* A packet as the encoder hands it: data, timestamps and the key flag, nothing else. */
        av_packet_free_side_data(k);
        k->flags = key ? AV_PKT_FLAG_KEY : 0;
        k->pts = av_rescale_q(pts, is->time_base, m->vst->time_base);
        k->dts = av_rescale_q(dts, is->time_base, m->vst->time_base);
        k->duration = 0;
        k->pos = -1;
        k->stream_index = m->vst->index;
        if ((ret = av_interleaved_write_frame(m->oc, k)) < 0)
            return media_averr(err, m->path, ret, "cannot write the segment");
    }
    if (ret != AVERROR_EOF)
        return media_averr(err, m->src, ret, "cannot read the segment");
    if (!any)
        return ck_error_set(err, CK_ERR_MEDIA, m->src, 0, 0, "the segment has no video packets");
    return CK_OK;
}

static ck_status finish(remux *m, int64_t *bytes, ck_error *err)
{
    int ret = av_write_trailer(m->oc);
    if (ret < 0)
        return media_averr(err, m->path, ret, "cannot finish the segment");
    avio_flush(m->oc->pb);
    if (m->oc->pb->error < 0)
        return media_averr(err, m->path, m->oc->pb->error, "cannot write the segment");
    if ((ret = avio_closep(&m->oc->pb)) < 0)
        return media_averr(err, m->path, ret, "cannot write the segment");
    struct stat sb;
    if (bytes)
        *bytes = stat(m->tmp, &sb) == 0 ? (int64_t)sb.st_size : 0;
    return media_commit(m->tmp, m->path, err);
}

ck_status ck_ts_remux_video(const char *video_src, const char *path, const ck_ts_params *p,
                            int64_t *bytes, ck_error *err)
{
    ck_media_init();
    remux m = {.src = video_src, .path = path};
    ck_status st = CK_OK;
    if (!(m.tmp = media_tmp_path(path)) || !(m.pkt = av_packet_alloc()))
        st = ck_error_set(err, CK_ERR_NOMEM, path, 0, 0, "out of memory");
    if (st == CK_OK)
        st = open_source(&m, err);
    if (st == CK_OK)
        st = open_output(&m, p, err);
    if (st == CK_OK)
        st = copy_video(&m, p, err);
    if (st == CK_OK)
        st = finish(&m, bytes, err);
    avformat_close_input(&m.ic);
    if (m.oc) {
        if (m.oc->pb)
            avio_closep(&m.oc->pb);
        avformat_free_context(m.oc);
    }
    if (st != CK_OK && m.tmp)
        unlink(m.tmp); /* gone already after a successful rename */
    av_packet_free(&m.pkt);
    free(m.tmp);
    return st;
}
