/* render_remux.c: segments personal only by their audio, made from the shared segment's
 * video (render_remux_segment, called by ck_render_segment_speech).
 *
 * Where one of a person's speech lines sounds over pictures that are everybody's, the segment
 * is drawn without the record, so its video packets are the shared segment's, byte for byte
 * (engine/render/README.md, "Personal audio"). Encoding those pictures again for each person
 * costs a whole libx264 session; copying the packets out of the shared file and muxing them
 * with the person's audio span costs a few ms, and gives the same bytes (ck_ts_remux_video;
 * test_render compares with the encoded segment). */
#include "ck_media.h"
#include "render_internal.h"

ck_status render_remux_segment(const char *shared_path, const char *path, const ck_ts_params *tp,
                               ck_audio *bed, const ck_audio_clip *clips, int count,
                               ck_render_stats *stats, ck_error *err)
{
    double t0 = ck_now_s();
    ck_ts_params p = *tp;
    /* The span exactly as the encoding path makes it (segment_writer): the bed mixed with
     * the person's clips, the span's packets only. */
    ck_audio *span = ck_audio_span(bed, clips, count, p.audio_from, p.audio_to, err);
    if (!span)
        return err->status ? err->status : CK_ERR_MEDIA;
    p.audio = span;
    int64_t bytes = 0;
    ck_status st = ck_ts_remux_video(shared_path, path, &p, &bytes, err);
    ck_audio_destroy(&span);
    if (st == CK_OK && stats) {
        stats->frames = 0; /* none encoded */
        stats->bytes = bytes;
        stats->seconds = ck_now_s() - t0;
        stats->encoder = "copy";
        stats->threads = 0;
    }
    return st;
}
