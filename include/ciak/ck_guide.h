/* ck_guide.h: what a viewer gets besides the video: the player page and the personalised PDF
 * guide. Both are made for one person from the campaign's scene and that person's record.
 *
 * Cues: the scene's interactive cues (pop-ups, service buttons, chapters) are rendered here,
 * on the server, for the one record: a cue whose `when` does not hold is left out, and titles,
 * bodies and labels are filled in. The page receives only this person's rendered cues, never
 * the templates, the conditions or anyone else's data.
 *
 * Player page (it names nobody: the name is in the video, captions and PDF): HTML that links
 * /static/player.js and /static/player.css (web/), plays /v/<token>/media.m3u8 (native HLS where
 * the browser has it, hls.js otherwise) with the WebVTT captions /v/<token>/captions.vtt, and posts
 * anonymous events to /v/<token>/events.
 *
 * PDF guide (cairo + pango): A4, large type, tagged (title, language it-IT, headings,
 * paragraphs, links): greeting with the person's name, their key dates and amounts, the
 * obligations to keep the benefit, the text of each pop-up this person sees, a clickable link
 * to each online service, healthy-ageing advice and how to recognise fraud attempts. The
 * campaign texts live in guide_content.c, keyed by campaign id, with a generic fallback built
 * from the scene's date and money fields.
 *
 * Ownership: a ck_guide refers to the scene it was made from, which must outlive it; returned
 * strings and buffers are malloc'd (free()).
 * Thread safety: after creation a ck_guide is read-only; every call may run on any thread.
 * Personal data: nothing here logs names or values.
 */
#ifndef CK_GUIDE_H
#define CK_GUIDE_H

#include "ck_template.h"

typedef struct ck_guide ck_guide;

/* Compiles the scene's bindings and the campaign's guide texts. NULL on failure with err. */
ck_guide *ck_guide_create(const ck_scene *scene, ck_error *err);
void ck_guide_destroy(ck_guide **g);
const ck_scene *ck_guide_scene(const ck_guide *g);

/* One cue as this person sees it. Strings live in the arena passed in. */
typedef struct ck_guide_cue {
    const char *id;
    ck_cue_kind kind;
    double start, end;
    const char *title; /* pop-up, chapter */
    const char *body;  /* pop-up */
    const char *label; /* button */
    const char *url;   /* button */
} ck_guide_cue;

/* The cues whose `when` holds for `rec`, in scene order. Returns the count (0 when none or
 * out of memory); *out is an arena array. */
int ck_guide_cues(const ck_guide *g, const ck_record *rec, ck_arena *arena, ck_guide_cue **out);

/* The player page for `rec`, reached at /v/<token> (token: base64url, as verified by the
 * server). `captions`: the campaign has captions. malloc'd; NULL when out of memory. */
char *ck_guide_player_html(const ck_guide *g, const ck_record *rec, const char *token,
                           bool captions);

/* Zero means default. */
typedef struct ck_guide_pdf_params {
    int32_t today;    /* days since 1970-01-01; 0: now (the "prepared on" line) */
    const char *font; /* Pango family; NULL: "DejaVu Sans" (fonts-dejavu-core) */
    double body_pt;   /* 0: 14 */
    /* The last day the viewer's link opens, in days since 1970-01-01: the token's expiry, or
     * the stored one when that comes first (the server passes it). The PDF states it as
     * "Ultimo giorno per vedere la video-guida", never the scene's window, which an operator
     * can extend with `ciak links --expires`. 0: the record's window from the scene (what
     * `ciak import` stores for a new link); INT32_MAX: the link has no last day (not stated). */
    int32_t link_last_day;
} ck_guide_pdf_params;

/* The PDF for `rec` in memory: *data (malloc'd) and *len. */
ck_status ck_guide_pdf(const ck_guide *g, const ck_record *rec, const ck_guide_pdf_params *params,
                       char **data, size_t *len, ck_error *err);

#endif
