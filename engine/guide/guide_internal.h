/* guide_internal.h: what the files of engine/guide share. Not a public header.
 *
 *   guide_content.c  the campaigns' guide texts (templates), and the common sections
 *   guide.c          ck_guide: compiling the texts, the person's cues
 *   player.c         the player page
 *   pdf.c            the PDF guide (cairo + pango)
 */
#ifndef CK_GUIDE_INTERNAL_H
#define CK_GUIDE_INTERNAL_H

#include "ck_guide.h"

#define GUIDE_MAX_FACTS 12
#define GUIDE_MAX_ITEMS 10

/* A text as written: a template over the scene's fields, shown only when `when` holds. */
typedef struct guide_src {
    const char *text;
    const char *when; /* NULL: always */
} guide_src;

typedef struct guide_fact_src {
    const char *label;
    const char *value; /* template */
    const char *when;
} guide_fact_src;

typedef struct guide_campaign_src {
    const char *id;
    const char *topic;        /* "Assegno sociale": the page band */
    const char *title;        /* the PDF's title: "La sua guida all'Assegno sociale" */
    const char *popups_title; /* the heading over the pop-ups' texts; NULL: "Da sapere" */
    const char *intro;        /* template */
    guide_fact_src facts[GUIDE_MAX_FACTS];
    const char *duties_title;
    guide_src duties[GUIDE_MAX_ITEMS];
    /* The scene's window is a deadline the viewer must meet (RED: the last day to send the
     * declaration): stated with this label. NULL: the window only bounds the links, and the
     * PDF states the link's own last day instead. */
    const char *deadline_label;
} guide_campaign_src;

/* The campaign's texts, or NULL (the generic guide is used). */
const guide_campaign_src *guide_campaign_find(const char *id);
extern const char guide_greeting[]; /* template; needs first_name, last_name, gender */
extern const char guide_salute[];   /* the page's greeting: no name (see player.c) */
extern const guide_src guide_generic_duties[];
extern const char *const guide_health[]; /* NULL-terminated */
extern const char *const guide_fraud[];
extern const char *const guide_help[];

/* A compiled text. */
typedef struct guide_text {
    ck_template *tpl;
    ck_expr *when;
    const char *label; /* facts */
} guide_text;

struct ck_guide {
    const ck_scene *scene;
    ck_binding *binding;
    const char *topic;
    const char *title;        /* the PDF's title and H1 */
    const char *popups_title; /* the heading over the pop-ups' texts */
    ck_template *greeting;    /* NULL: "Gentile utente," */
    ck_template *salute;      /* the page's: no name; NULL: "Gentile utente," */
    ck_template *intro;       /* may be NULL */
    guide_text facts[GUIDE_MAX_FACTS + 8];
    int fact_count;
    const char *duties_title;
    guide_text duties[GUIDE_MAX_ITEMS];
    int duty_count;
    const char *deadline_label; /* NULL: the scene's window is no deadline */
    ck_arena arena;
};

/* Renders a compiled text for rec, or NULL when its `when` does not hold or it renders empty. */
const char *guide_text_render(const guide_text *t, const ck_record *rec, ck_arena *arena);
/* The last day of the scene's window for rec (a link made by `ciak import` ends then), or -1
 * when the scene has no window or rec lacks its date. */
int32_t guide_last_day(const ck_scene *scene, const ck_record *rec);

/* What the tests see of a PDF's layout. */
typedef struct guide_pdf_trace {
    int pages;
    int lone_headings; /* headings that end a page (or the document) with nothing after them */
} guide_pdf_trace;
/* ck_guide_pdf, counting into `trace` (may be NULL). */
ck_status guide_pdf_traced(const ck_guide *g, const ck_record *rec,
                           const ck_guide_pdf_params *params, guide_pdf_trace *trace, char **data,
                           size_t *len, ck_error *err);

#endif
