/* pdf.c: the personalised PDF guide with cairo + pango (see ck_guide.h).
 *
 * A4 portrait, 14 pt body text and 20-26 pt headings in DejaVu Sans (wide, open letters that
 * read well at large sizes), dark text on white (contrast far above 7:1). Structure tags
 * (H1, H2, P, L/LI, Link) make a tagged PDF that screen readers can follow; the document title
 * is shown instead of the file name. Cairo writes no /Lang, so the catalog gets /Lang (it-IT)
 * and /ViewerPreferences << /DisplayDocTitle true >> through a standard incremental update
 * appended to cairo's output (a new catalog object, an xref section, a trailer with /Prev). */
#include "guide_internal.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_W   595.276 /* A4 in points */
#define PAGE_H   841.890
#define MARGIN   56.0
#define TOP      92.0 /* below the page band */
#define BOTTOM   (PAGE_H - 60.0)
#define TEXT_W   (PAGE_W - 2 * MARGIN)
#define INK      0.10, 0.10, 0.12
#define BLUE     0.043, 0.239, 0.569 /* #0b3d91, the scenes' INPS blue */
#define LINKBLUE 0.0, 0.278, 0.733   /* #0047bb */
#define RED      0.62, 0.07, 0.10
#define URL_PT   12.0 /* printed addresses: read and retyped from paper */

typedef struct pdf_doc {
    cairo_t *cr;
    cairo_surface_t *surface;
    const char *font;
    double body_pt;
    double y;
    int page;
    const char *footer; /* "Guida preparata il ..." */
    const char *topic;
    /* A heading waits here until what follows it is drawn, so that both land on one page: a
     * heading never ends a page alone. */
    const char *pending;
    double pending_rgb[3];
    bool heading_last;      /* the last thing drawn on this page is a heading */
    guide_pdf_trace *trace; /* NULL, or what the tests check */
} pdf_doc;

/* ---- output into memory ---- */
static cairo_status_t write_buf(void *closure, const unsigned char *data, unsigned int length)
{
    ck_strbuf *b = closure;
    ck_strbuf_add(b, (const char *)data, length);
    return b->failed ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

/* ---- text ---- */
static PangoLayout *layout(pdf_doc *d, const char *text, double pt, bool bold, double width)
{
    PangoLayout *l = pango_cairo_create_layout(d->cr);
    pango_cairo_context_set_resolution(pango_layout_get_context(l), 72.0); /* pt = units */
    pango_layout_context_changed(l);
    PangoFontDescription *fd = pango_font_description_from_string(d->font);
    pango_font_description_set_size(fd, (int)(pt * PANGO_SCALE));
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_spacing(l, (int)(pt * 0.35 * PANGO_SCALE));
    pango_layout_set_text(l, text, -1);
    return l;
}

static double layout_h(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)h / PANGO_SCALE;
}

static void page_band(pdf_doc *d)
{
    cairo_t *cr = d->cr;
    cairo_save(cr);
    cairo_set_source_rgb(cr, BLUE);
    cairo_rectangle(cr, 0, 0, PAGE_W, 64);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    PangoLayout *l = layout(d, "INPS", 22, true, 120);
    cairo_move_to(cr, MARGIN, 18);
    pango_cairo_show_layout(cr, l);
    g_object_unref(l);
    l = layout(d, d->topic, 14, false, TEXT_W - 100);
    pango_layout_set_alignment(l, PANGO_ALIGN_RIGHT);
    cairo_move_to(cr, MARGIN + 100, 23);
    pango_cairo_show_layout(cr, l);
    g_object_unref(l);
    /* Footer: when it was made, and the page. */
    char pg[64];
    snprintf(pg, sizeof pg, "Pagina %d", d->page);
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.28);
    l = layout(d, d->footer, 10.5, false, TEXT_W - 80);
    cairo_move_to(cr, MARGIN, PAGE_H - 40);
    pango_cairo_show_layout(cr, l);
    g_object_unref(l);
    l = layout(d, pg, 10.5, false, 80);
    pango_layout_set_alignment(l, PANGO_ALIGN_RIGHT);
    cairo_move_to(cr, PAGE_W - MARGIN - 80, PAGE_H - 40);
    pango_cairo_show_layout(cr, l);
    g_object_unref(l);
    cairo_restore(cr);
}

static void new_page(pdf_doc *d)
{
    if (d->trace && d->heading_last)
        d->trace->lone_headings++;
    d->heading_last = false;
    if (d->page > 0)
        cairo_show_page(d->cr);
    d->page++;
    d->y = TOP;
    page_band(d);
}

#define HEADING_PT    20.0
#define HEADING_ABOVE 10.0
#define HEADING_BELOW 8.0

static void draw_text(pdf_doc *d, const char *tag, PangoLayout *l, double x)
{
    d->heading_last = strcmp(tag, "H2") == 0;
    cairo_tag_begin(d->cr, tag, NULL);
    cairo_move_to(d->cr, x, d->y);
    pango_cairo_show_layout(d->cr, l);
    cairo_tag_end(d->cr, tag);
}

/* Makes room for `h` points of content: a new page when they do not fit. A pending heading is
 * drawn first, on the same page as that content (keep-with-next). */
static void need(pdf_doc *d, double h)
{
    PangoLayout *hl = NULL;
    double hh = 0;
    if (d->pending) {
        hl = layout(d, d->pending, HEADING_PT, true, TEXT_W);
        hh = HEADING_ABOVE + layout_h(hl) + HEADING_BELOW;
    }
    if (d->y + hh + h > BOTTOM && d->y > TOP)
        new_page(d);
    if (hl) {
        if (d->y > TOP)
            d->y += HEADING_ABOVE;
        cairo_save(d->cr);
        cairo_set_source_rgb(d->cr, d->pending_rgb[0], d->pending_rgb[1], d->pending_rgb[2]);
        draw_text(d, "H2", hl, MARGIN);
        cairo_restore(d->cr);
        d->y += layout_h(hl) + HEADING_BELOW;
        g_object_unref(hl);
        d->pending = NULL;
    }
}

/* A block of text with its structure tag; `keep` more points of what follows must fit on the
 * same page (an introduction stays with the list it introduces). */
static void block_keep(pdf_doc *d, const char *tag, const char *text, double pt, bool bold,
                       double x, double after, double keep)
{
    PangoLayout *l = layout(d, text, pt, bold, TEXT_W - (x - MARGIN));
    double h = layout_h(l);
    need(d, h + after + keep);
    draw_text(d, tag, l, x);
    g_object_unref(l);
    d->y += h + after;
}

static void block(pdf_doc *d, const char *tag, const char *text, double pt, bool bold, double x,
                  double after)
{
    block_keep(d, tag, text, pt, bold, x, after, 0);
}

/* A section heading in `r, g, b`: drawn with the first thing that follows it. */
static void heading_rgb(pdf_doc *d, const char *text, double r, double g, double b)
{
    d->pending = text;
    d->pending_rgb[0] = r;
    d->pending_rgb[1] = g;
    d->pending_rgb[2] = b;
}

static void heading(pdf_doc *d, const char *text)
{
    heading_rgb(d, text, BLUE);
}

/* A bulleted list item. */
static void item(pdf_doc *d, const char *text)
{
    PangoLayout *l = layout(d, text, d->body_pt, false, TEXT_W - 26);
    double h = layout_h(l);
    need(d, h);
    d->heading_last = false;
    cairo_tag_begin(d->cr, "LI", NULL);
    PangoLayout *bl = layout(d, "•", d->body_pt, true, 20);
    cairo_tag_begin(d->cr, "Lbl", NULL);
    cairo_move_to(d->cr, MARGIN + 4, d->y);
    pango_cairo_show_layout(d->cr, bl);
    cairo_tag_end(d->cr, "Lbl");
    g_object_unref(bl);
    cairo_tag_begin(d->cr, "LBody", NULL);
    cairo_move_to(d->cr, MARGIN + 26, d->y);
    pango_cairo_show_layout(d->cr, l);
    cairo_tag_end(d->cr, "LBody");
    cairo_tag_end(d->cr, "LI");
    g_object_unref(l);
    d->y += h + 9;
}

static void list(pdf_doc *d, const char *const *items)
{
    cairo_tag_begin(d->cr, "L", NULL);
    for (int i = 0; items[i]; i++)
        item(d, items[i]);
    cairo_tag_end(d->cr, "L");
}

/* A service link: the label underlined in link blue, the address below it for a printed copy,
 * large and dark enough to retype (12 pt ink, without the "https://" a browser adds itself).
 * The Link tag makes both clickable. */
static void service(pdf_doc *d, const char *label, const char *url)
{
    PangoLayout *l = layout(d, label, d->body_pt + 1, true, TEXT_W - 26);
    PangoAttrList *al = pango_attr_list_new();
    pango_attr_list_insert(al, pango_attr_underline_new(PANGO_UNDERLINE_SINGLE));
    pango_layout_set_attributes(l, al);
    pango_attr_list_unref(al);
    const char *shown = strncmp(url, "https://", 8) == 0 ? url + 8 : url;
    PangoLayout *u = layout(d, shown, URL_PT, false, TEXT_W - 26);
    double h = layout_h(l), hu = layout_h(u);
    need(d, h + hu + 4);
    char *attr = g_strdup_printf("uri='%s'", url); /* scene URLs are https://, no quotes */
    d->heading_last = false;
    cairo_tag_begin(d->cr, "LI", NULL);
    cairo_tag_begin(d->cr, CAIRO_TAG_LINK, attr);
    cairo_set_source_rgb(d->cr, LINKBLUE);
    cairo_move_to(d->cr, MARGIN + 26, d->y);
    pango_cairo_show_layout(d->cr, l);
    cairo_set_source_rgb(d->cr, INK);
    cairo_move_to(d->cr, MARGIN + 26, d->y + h + 2);
    pango_cairo_show_layout(d->cr, u);
    cairo_tag_end(d->cr, CAIRO_TAG_LINK);
    cairo_tag_end(d->cr, "LI");
    cairo_set_source_rgb(d->cr, INK);
    g_free(attr);
    g_object_unref(l);
    g_object_unref(u);
    d->y += h + hu + 14;
}

/* A pop-up's text: its title in bold over its body, kept on one page. */
static void note(pdf_doc *d, const char *title, const char *body)
{
    PangoLayout *t = title && title[0] ? layout(d, title, d->body_pt + 1, true, TEXT_W) : NULL;
    PangoLayout *b = layout(d, body, d->body_pt, false, TEXT_W);
    double ht = t ? layout_h(t) + 4 : 0, hb = layout_h(b);
    need(d, ht + hb);
    if (t) {
        draw_text(d, "H3", t, MARGIN);
        d->y += ht;
        g_object_unref(t);
    }
    draw_text(d, "P", b, MARGIN);
    d->y += hb + 14;
    g_object_unref(b);
}

/* Whether a template shows money (the facts' heading promises amounts only then). */
static bool shows_money(const ck_scene *s, const ck_template *t)
{
    uint64_t deps = t ? ck_template_deps(t) : 0;
    for (int i = 0; i < s->field_count && i < 64; i++)
        if ((deps >> i & 1) && s->fields[i].type == CK_FIELD_MONEY)
            return true;
    return false;
}

/* The person's dates and amounts: a two-column table in a tinted box. */
static void facts(pdf_doc *d, const char *const *labels, const char *const *values, int n)
{
    if (n == 0)
        return;
    double lw = TEXT_W * 0.48, vw = TEXT_W - lw - 24, pad = 12;
    double total = 2 * pad;
    for (int i = 0; i < n; i++) {
        PangoLayout *a = layout(d, labels[i], d->body_pt, false, lw);
        PangoLayout *b = layout(d, values[i], d->body_pt + 1, true, vw);
        double h = layout_h(a) > layout_h(b) ? layout_h(a) : layout_h(b);
        total += h + 10;
        g_object_unref(a);
        g_object_unref(b);
    }
    need(d, total < BOTTOM - TOP ? total : 0);
    cairo_t *cr = d->cr;
    d->heading_last = false;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.93, 0.95, 0.99);
    cairo_rectangle(cr, MARGIN, d->y, TEXT_W, total - 10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, BLUE);
    cairo_rectangle(cr, MARGIN, d->y, 5, total - 10);
    cairo_fill(cr);
    cairo_restore(cr);
    d->y += pad;
    cairo_tag_begin(cr, "Table", NULL);
    for (int i = 0; i < n; i++) {
        PangoLayout *a = layout(d, labels[i], d->body_pt, false, lw);
        PangoLayout *b = layout(d, values[i], d->body_pt + 1, true, vw);
        double h = layout_h(a) > layout_h(b) ? layout_h(a) : layout_h(b);
        need(d, h);
        cairo_tag_begin(cr, "TR", NULL);
        cairo_tag_begin(cr, "TH", NULL);
        cairo_move_to(cr, MARGIN + 18, d->y);
        pango_cairo_show_layout(cr, a);
        cairo_tag_end(cr, "TH");
        cairo_tag_begin(cr, "TD", NULL);
        cairo_move_to(cr, MARGIN + 18 + lw, d->y);
        pango_cairo_show_layout(cr, b);
        cairo_tag_end(cr, "TD");
        cairo_tag_end(cr, "TR");
        g_object_unref(a);
        g_object_unref(b);
        d->y += h + 10;
    }
    cairo_tag_end(cr, "Table");
    d->y += pad;
}

/* ---- /Lang through an incremental update ---- */
static const char *find(const char *hay, size_t n, const char *needle, const char *from)
{
    size_t k = strlen(needle);
    for (const char *p = from ? from : hay; p + k <= hay + n; p++)
        if (memcmp(p, needle, k) == 0)
            return p;
    return NULL;
}

static const char *rfind(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (n < k)
        return NULL;
    for (const char *p = hay + n - k; p >= hay; p--)
        if (memcmp(p, needle, k) == 0)
            return p;
    return NULL;
}

static bool add_lang(ck_strbuf *b)
{
    const char *pdf = b->s;
    size_t n = b->len;
    const char *cat = find(pdf, n, "/Type /Catalog", NULL);
    const char *trailer = rfind(pdf, n, "trailer");
    const char *sx = rfind(pdf, n, "startxref");
    if (!cat || !trailer || !sx || find(pdf, n, "/Lang", NULL))
        return false;
    /* "<num> 0 obj" starts the line holding, or before, the catalog's "<<". */
    const char *open = cat;
    while (open > pdf && !(open[0] == '<' && open[1] == '<'))
        open--;
    const char *line = open;
    while (line > pdf && line[-1] != '\n')
        line--;
    if (line == open && line > pdf) { /* "<<" on its own line: the object header is above */
        line--;
        while (line > pdf && line[-1] != '\n')
            line--;
    }
    int obj = 0;
    if (sscanf(line, "%d 0 obj", &obj) != 1 || obj <= 0)
        return false;
    const char *end = find(pdf, n, "endobj", cat);
    if (!end)
        return false;
    const char *close = end;
    while (close > cat && !(close[0] == '>' && close[1] == '>'))
        close--;
    if (close <= cat)
        return false;
    int size = 0, info = 0;
    long prev = 0;
    const char *ps = find(pdf, n, "/Size", trailer), *pi = find(pdf, n, "/Info", trailer);
    if (!ps || sscanf(ps, "/Size %d", &size) != 1 || sscanf(sx, "startxref %ld", &prev) != 1)
        return false;
    if (pi)
        sscanf(pi, "/Info %d", &info);

    size_t body_len = (size_t)(close - (open + 2));
    char *body = malloc(body_len + 1);
    if (!body)
        return false;
    memcpy(body, open + 2, body_len);
    body[body_len] = '\0';
    size_t at = b->len;
    if (b->s[b->len - 1] != '\n')
        ck_strbuf_puts(b, "\n"), at++;
    char head[64];
    snprintf(head, sizeof head, "%d 0 obj\n<<", obj);
    ck_strbuf_puts(b, head);
    ck_strbuf_puts(b, body);
    ck_strbuf_puts(b, "   /Lang (it-IT)\n   /ViewerPreferences << /DisplayDocTitle true >>\n>>\n"
                      "endobj\n");
    free(body);
    size_t xref = b->len;
    char tail[512];
    char info_ref[32] = "";
    if (info > 0)
        snprintf(info_ref, sizeof info_ref, " /Info %d 0 R", info);
    snprintf(tail, sizeof tail,
             "xref\n%d 1\n%010zu 00000 n \ntrailer\n<< /Size %d /Root %d 0 R%s /Prev %ld >>\n"
             "startxref\n%zu\n%%%%EOF\n",
             obj, at, size, obj, info_ref, prev, xref);
    ck_strbuf_puts(b, tail);
    return !b->failed;
}

ck_status ck_guide_pdf(const ck_guide *g, const ck_record *rec, const ck_guide_pdf_params *params,
                       char **data, size_t *len, ck_error *err)
{
    return guide_pdf_traced(g, rec, params, NULL, data, len, err);
}

ck_status guide_pdf_traced(const ck_guide *g, const ck_record *rec,
                           const ck_guide_pdf_params *params, guide_pdf_trace *trace, char **data,
                           size_t *len, ck_error *err)
{
    const ck_scene *s = g->scene;
    *data = NULL;
    *len = 0;
    ck_arena arena = {0};
    ck_strbuf out = {0};
    pdf_doc d = {.trace = trace};
    d.font = params && params->font ? params->font : "DejaVu Sans";
    d.body_pt = params && params->body_pt > 0 ? params->body_pt : 14;
    d.topic = g->topic;
    int32_t today = params && params->today ? params->today : (int32_t)(time(NULL) / 86400);
    char date[64];
    ck_it_date(date, sizeof date, today);
    d.footer = ck_arena_printf(&arena, "Guida personale preparata il %s · www.inps.it", date);

    d.surface = cairo_pdf_surface_create_for_stream(write_buf, &out, PAGE_W, PAGE_H);
    d.cr = cairo_create(d.surface);
    const char *title = g->title;
    cairo_pdf_surface_set_metadata(d.surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(d.surface, CAIRO_PDF_METADATA_AUTHOR, "INPS");
    cairo_pdf_surface_set_metadata(d.surface, CAIRO_PDF_METADATA_SUBJECT,
                                   s->title ? s->title : g->topic);
    cairo_pdf_surface_set_metadata(d.surface, CAIRO_PDF_METADATA_CREATOR, "ciak");

    cairo_tag_begin(d.cr, "Document", NULL);
    new_page(&d);
    cairo_set_source_rgb(d.cr, BLUE);
    block(&d, "H1", title, 26, true, MARGIN, 14);
    cairo_set_source_rgb(d.cr, INK);
    const char *greeting = g->greeting ? ck_template_render(g->greeting, rec, &arena) : NULL;
    block(&d, "P", greeting && greeting[0] ? greeting : "Gentile utente,", d.body_pt + 3, true,
          MARGIN, 6);
    const char *intro = g->intro ? ck_template_render(g->intro, rec, &arena) : NULL;
    if (intro)
        block(&d, "P", intro, d.body_pt, false, MARGIN, 10);

    /* Dates and amounts. */
    const char *labels[GUIDE_MAX_FACTS + 2], *values[GUIDE_MAX_FACTS + 2];
    int nf = 0;
    bool money = false;
    for (int i = 0; i < g->fact_count; i++) {
        const char *v = guide_text_render(&g->facts[i], rec, &arena);
        if (v) {
            labels[nf] = g->facts[i].label;
            values[nf++] = v;
            money |= shows_money(s, g->facts[i].tpl);
        }
    }
    /* A campaign whose window is a deadline (RED) states it; every guide states the last day
     * its link opens, which `ciak links --expires` may have moved past the scene's window. */
    int32_t window = guide_last_day(s, rec);
    char deadline[64], until[64];
    if (g->deadline_label && window >= 0) {
        ck_it_date(deadline, sizeof deadline, window);
        labels[nf] = g->deadline_label;
        values[nf++] = deadline;
    }
    int32_t link = params && params->link_last_day ? params->link_last_day : window;
    if (link >= 0 && link != INT32_MAX && ck_it_date(until, sizeof until, link) > 0) {
        labels[nf] = "Ultimo giorno per vedere la video-guida";
        values[nf++] = until;
    }
    if (nf) {
        /* Amounts are promised only where the person's are shown (RED has none). */
        heading(&d, money ? "Le sue date e i suoi importi" : "Le sue date");
        facts(&d, labels, values, nf);
    }

    /* Obligations. */
    if (g->duty_count) {
        heading(&d, g->duties_title);
        const char *items[GUIDE_MAX_ITEMS + 1];
        int ni = 0;
        for (int i = 0; i < g->duty_count; i++) {
            const char *t = guide_text_render(&g->duties[i], rec, &arena);
            if (t)
                items[ni++] = t;
        }
        items[ni] = NULL;
        list(&d, items);
    }

    /* The pop-ups this person sees, in full: a printed guide cannot point to a window that
     * only opens in the video. */
    ck_guide_cue *cues = NULL;
    int nc = ck_guide_cues(g, rec, &arena, &cues), nb = 0, np = 0;
    for (int i = 0; i < nc; i++) {
        nb += cues[i].kind == CK_CUE_BUTTON && cues[i].url;
        np += cues[i].kind == CK_CUE_POPUP && cues[i].body && cues[i].body[0];
    }
    if (np) {
        heading(&d, g->popups_title);
        for (int i = 0; i < nc; i++)
            if (cues[i].kind == CK_CUE_POPUP && cues[i].body && cues[i].body[0])
                note(&d, cues[i].title, cues[i].body);
    }

    /* Services: the scene's buttons this person sees. */
    if (nb) {
        heading(&d, "I servizi online per lei");
        block_keep(&d, "P",
                   "Tocchi o clicchi un servizio per aprirlo sul sito dell'INPS. Per accedere "
                   "servono SPID, CIE o CNS.",
                   d.body_pt, false, MARGIN, 10, 3 * URL_PT * 1.35 + d.body_pt * 1.35);
        cairo_tag_begin(d.cr, "L", NULL);
        for (int i = 0; i < nc; i++)
            if (cues[i].kind == CK_CUE_BUTTON && cues[i].url)
                service(&d, cues[i].label ? cues[i].label : cues[i].id, cues[i].url);
        cairo_tag_end(d.cr, "L");
    }

    heading(&d, "Consigli per invecchiare in salute");
    list(&d, guide_health);

    heading_rgb(&d, "Attenzione alle truffe", RED);
    list(&d, guide_fraud);

    heading(&d, "Per assistenza");
    list(&d, guide_help);
    cairo_tag_end(d.cr, "Document");
    if (trace) {
        trace->lone_headings += d.heading_last;
        trace->pages = d.page;
    }

    cairo_destroy(d.cr);
    cairo_surface_finish(d.surface);
    cairo_status_t cs = cairo_surface_status(d.surface);
    cairo_surface_destroy(d.surface);
    ck_arena_free(&arena);
    if (cs != CAIRO_STATUS_SUCCESS || out.failed || !out.s) {
        free(out.s);
        return ck_error_set(err, CK_ERR_IO, NULL, 0, 0, "guide: cairo: %s",
                            out.failed ? "out of memory" : cairo_status_to_string(cs));
    }
    if (!add_lang(&out))
        ck_log(CK_LOG_WARN, "guide %s: could not add /Lang to the PDF", s->id);
    if (out.failed) {
        free(out.s);
        return ck_error_set(err, CK_ERR_NOMEM, NULL, 0, 0, "guide: out of memory");
    }
    *data = out.s;
    *len = out.len;
    return CK_OK;
}
