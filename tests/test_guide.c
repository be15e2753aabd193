/* test_guide.c: the viewer side of a person's guide: cues decided on the server (a pop-up only
 * for a person holding that benefit, never another person's text), the player page (escaped,
 * no raw template, captions on, services and rating), and the PDF (A4, tagged, /Lang it-IT,
 * one link per service, valid trailer after the incremental update). */
#include "ck_test.h"
#include "guide_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static ck_scene *load_scene(const char *name)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/scenes/%s", CK_SOURCE_DIR, name);
    ck_scene_params p = {.skip_asset_check = true};
    ck_diags d = {0};
    ck_scene *s = ck_scene_load(dir, &p, &d);
    ck_diags_free(&d);
    return s;
}

static ck_records *load_samples(const ck_scene *s, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/scenes/%s/samples.json", CK_SOURCE_DIR, name);
    ck_diags d = {0};
    ck_records *r = ck_records_load(s, path, &d);
    ck_diags_free(&d);
    return r;
}

static const ck_record *by_id(const ck_records *r, const char *id)
{
    long i = ck_records_find(r, id);
    return i >= 0 ? &r->items[i] : NULL;
}

static bool has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static size_t count(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle), c = 0;
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            c++;
    return c;
}

static void test_cues_per_person(void)
{
    ck_scene *s = load_scene("red-sollecito");
    CK_CHECK(s != NULL);
    if (!s)
        return;
    ck_records *r = load_samples(s, "red-sollecito");
    CK_CHECK(r != NULL);
    ck_error err = {0};
    ck_guide *g = ck_guide_create(s, &err);
    CK_CHECK(g != NULL);
    if (!r || !g)
        goto out;
    const ck_record *none = by_id(r, "RED-0001"), *q = by_id(r, "RED-0002"),
                    *two = by_id(r, "RED-0007");
    CK_CHECK(none && q && two);
    if (!none || !q || !two)
        goto out;

    ck_arena a = {0};
    ck_guide_cue *c = NULL;
    int n = ck_guide_cues(g, q, &a, &c);
    bool quattordicesima = false, integrazione = false, generale = false;
    int buttons = 0;
    for (int i = 0; i < n; i++) {
        quattordicesima |= strcmp(c[i].id, "redditi-quattordicesima") == 0;
        integrazione |= strcmp(c[i].id, "redditi-integrazione-minimo") == 0;
        generale |= strcmp(c[i].id, "redditi-generale") == 0;
        buttons += c[i].kind == CK_CUE_BUTTON;
        CK_CHECK(!has(c[i].title, "{{") && !has(c[i].body, "{{") && !has(c[i].label, "{{"));
    }
    CK_CHECK(quattordicesima && !integrazione && !generale);
    CK_CHECK(buttons == 6);
    n = ck_guide_cues(g, none, &a, &c);
    quattordicesima = generale = false;
    for (int i = 0; i < n; i++) {
        quattordicesima |= strcmp(c[i].id, "redditi-quattordicesima") == 0;
        generale |= strcmp(c[i].id, "redditi-generale") == 0;
    }
    CK_CHECK(!quattordicesima && generale);
    ck_arena_free(&a);

    /* The page: only this person's pop-ups, their name, polite Italian, no template. */
    char *p1 = ck_guide_player_html(g, q, "TOKEN123", true);
    char *p0 = ck_guide_player_html(g, none, "TOKEN000", true);
    char *p2 = ck_guide_player_html(g, two, "TOKEN777", true);
    CK_CHECK(has(p1, "id=\"pop-redditi-quattordicesima\""));
    CK_CHECK(!has(p1, "pop-redditi-integrazione-minimo"));
    CK_CHECK(!has(p1, "pop-redditi-generale"));
    CK_CHECK(!has(p0, "pop-redditi-quattordicesima") && has(p0, "pop-redditi-generale"));
    CK_CHECK(has(p2, "pop-redditi-quattordicesima") && has(p2, "pop-redditi-integrazione-minimo"));
    CK_CHECK(has(p2, "se è coniugato")); /* gender wording rendered on the server */
    CK_CHECK(has(p1, "Gentile signore, questo video"));
    CK_CHECK(has(p0, "Gentile signora, questo video"));
    /* No name on the page (the video, captions and PDF carry it), no person id. */
    CK_CHECK(!has(p1, "Pierluigi") && !has(p1, "Russo") && !has(p1, "RED-0002"));
    CK_CHECK(!has(p0, "Addolorata") && !has(p0, "Acqua"));
    CK_CHECK(!has(p0, "{{") && !has(p1, "{{"));
    CK_CHECK(has(p1, "lang=\"it\"") && has(p1, "kind=\"captions\"") && has(p1, " default"));
    CK_CHECK(has(p1, "/v/TOKEN123/media.m3u8") && has(p1, "/v/TOKEN123/guida.pdf") &&
             has(p1, "/v/TOKEN123/events"));
    /* Polite form, and the scale answers "Quanto?" as the hint does. */
    CK_CHECK(has(p1, "Quanto Le è stata utile questa video-guida?"));
    CK_CHECK(!has(p1, " ti ") && !has(p1, "moltissimo utile"));
    CK_CHECK(has(p1, "<span class=\"w\">per niente</span>") &&
             has(p1, "<span class=\"w\">moltissimo</span>"));
    /* The buttons the video draws are links where it draws them (btn-red-precompilato: 560x100
     * centred on 348,246 of 1280x720), while it draws them (81-94 s). */
    CK_CHECK(count(p1, strlen(p1), "<a class=\"hot\"") == 6);
    CK_CHECK(has(p1, "data-service=\"red-precompilato\" data-start=\"81.00\" "
                     "data-end=\"94.00\" data-x=\"5.31\" data-y=\"27.22\" data-w=\"43.75\" "
                     "data-h=\"13.89\""));
    CK_CHECK(count(p1, strlen(p1), "name=\"voto\"") == 5);
    CK_CHECK(count(p1, strlen(p1), "class=\"service\"") == 6);
    CK_CHECK(has(p1, "data-service=\"red-precompilato\""));
    CK_CHECK(!has(p1, "autoplay"));
    free(p0);
    free(p1);
    free(p2);

    /* PDF. */
    char *pdf = NULL;
    size_t len = 0;
    ck_guide_pdf_params pp = {.today = ck_days_from_civil(2022, 12, 5)};
    CK_CHECK(ck_guide_pdf(g, two, &pp, &pdf, &len, &err) == CK_OK);
    CK_CHECK(pdf && len > 1000 && memcmp(pdf, "%PDF-", 5) == 0);
    if (pdf) {
        CK_CHECK(count(pdf, len, "/Lang (it-IT)") == 1);
        CK_CHECK(count(pdf, len, "/StructTreeRoot") >= 1);
        CK_CHECK(count(pdf, len, "/DisplayDocTitle true") == 1);
        CK_CHECK(count(pdf, len, "/URI (https://www.inps.it/") == 6);
        CK_CHECK(count(pdf, len, "/MediaBox [ 0 0 595.") >= 1);
        CK_CHECK(count(pdf, len, "/Prev ") == 1);
        CK_CHECK(len > 6 && memcmp(pdf + len - 6, "%%EOF\n", 6) == 0);
    }
    free(pdf);
out:
    ck_guide_destroy(&g);
    CK_CHECK(g == NULL);
    ck_records_destroy(&r);
    ck_scene_destroy(&s);
}

/* Markup in a name is text, never markup; every campaign makes a page and a PDF. */
static void test_escaping_and_campaigns(void)
{
    ck_scene *s = load_scene("assegno-sociale");
    CK_CHECK(s != NULL);
    if (!s)
        return;
    const char *json = "{\"id\": \"X-1\", \"first_name\": \"Anna<script>x\", \"last_name\": "
                       "\"O\\\"Neil & Co\", \"gender\": \"F\", \"decision_date\": \"2026-11-01\", "
                       "\"first_payment_date\": \"2026-12-01\", \"amount\": 53869, "
                       "\"deductions\": 0, \"net_amount\": 53869}";
    ck_diags d = {0};
    ck_records *r = ck_records_parse(s, json, strlen(json), "x.json", &d);
    ck_diags_free(&d);
    ck_error err = {0};
    ck_guide *g = ck_guide_create(s, &err);
    CK_CHECK(r && r->count == 1 && g);
    if (r && r->count == 1 && g) {
        char *p = ck_guide_player_html(g, &r->items[0], "T", true);
        CK_CHECK(p && !has(p, "<script>x") && !has(p, "Neil"));
        free(p);
        char *pdf = NULL;
        size_t len = 0;
        CK_CHECK(ck_guide_pdf(g, &r->items[0], NULL, &pdf, &len, &err) == CK_OK && len > 1000);
        free(pdf);
    }
    ck_guide_destroy(&g);
    ck_records_destroy(&r);
    ck_scene_destroy(&s);

    static const char *const names[] = {"naspi-accolta", "neopensionato"};
    for (size_t i = 0; i < CK_ARRAY_LEN(names); i++) {
        ck_scene *sc = load_scene(names[i]);
        ck_records *rs = sc ? load_samples(sc, names[i]) : NULL;
        ck_guide *gg = sc ? ck_guide_create(sc, &err) : NULL;
        CK_CHECK(sc && rs && rs->count > 0 && gg);
        if (sc && rs && rs->count > 0 && gg) {
            char *p = ck_guide_player_html(gg, &rs->items[0], "T", sc->caption_count > 0);
            CK_CHECK(p && !has(p, "{{") && has(p, "class=\"chapter\""));
            free(p);
            char *pdf = NULL;
            size_t len = 0;
            CK_CHECK(ck_guide_pdf(gg, &rs->items[0], NULL, &pdf, &len, &err) == CK_OK);
            CK_CHECK(pdf && count(pdf, len, "/URI (https://") >= 5);
            free(pdf);
        }
        ck_guide_destroy(&gg);
        ck_records_destroy(&rs);
        ck_scene_destroy(&sc);
    }
}

/* A heading never ends a page: every sample of every campaign, at body sizes that move the
 * page breaks around (the NASpI guide ended page 1 with "I servizi online per lei"). */
static void test_keep_with_next(void)
{
    static const char *const names[] = {"assegno-sociale", "naspi-accolta", "neopensionato",
                                        "red-sollecito"};
    int made = 0;
    for (size_t i = 0; i < CK_ARRAY_LEN(names); i++) {
        ck_error err = {0};
        ck_scene *sc = load_scene(names[i]);
        ck_records *rs = sc ? load_samples(sc, names[i]) : NULL;
        ck_guide *g = sc ? ck_guide_create(sc, &err) : NULL;
        CK_CHECK(sc && rs && g);
        for (size_t r = 0; g && rs && r < rs->count; r++)
            for (double pt = 13; pt <= 19; pt += 3) {
                ck_guide_pdf_params pp = {.body_pt = pt, .today = 20000};
                guide_pdf_trace tr = {0};
                char *pdf = NULL;
                size_t len = 0;
                CK_CHECK(guide_pdf_traced(g, &rs->items[r], &pp, &tr, &pdf, &len, &err) == CK_OK);
                CK_CHECK(tr.pages >= 2);
                if (tr.lone_headings)
                    fprintf(stderr, "  %s record %zu at %.0f pt: %d lone heading(s)\n", names[i], r,
                            pt, tr.lone_headings);
                CK_CHECK(tr.lone_headings == 0);
                made++;
                free(pdf);
            }
        ck_guide_destroy(&g);
        ck_records_destroy(&rs);
        ck_scene_destroy(&sc);
    }
    CK_CHECK(made >= 4 * 3);
}

/* Whether `word` occurs in `s` as a whole word (ASCII case-insensitive). */
static bool has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = s; *p; p++) {
        if (strncasecmp(p, word, n) != 0)
            continue;
        bool start = p == s || !(isalnum((unsigned char)p[-1]) || (unsigned char)p[-1] >= 0x80 ||
                                 p[-1] == '\'');
        bool end = !(isalnum((unsigned char)p[n]) || (unsigned char)p[n] >= 0x80);
        if (start && end)
            return true;
    }
    return false;
}

/* The guide speaks to the viewer as "Lei", and greets by a truncated title before the name. */
static void test_guide_texts(void)
{
    static const char *const tu[] = {"ti",   "tuo", "tua",    "tuoi",   "tue", "puoi", "devi",
                                     "vuoi", "hai", "scopri", "clicca", "vai", "entra"};
    const char *const *lists[] = {guide_health, guide_fraud, guide_help};
    for (size_t l = 0; l < CK_ARRAY_LEN(lists); l++)
        for (int i = 0; lists[l][i]; i++)
            for (size_t k = 0; k < CK_ARRAY_LEN(tu); k++)
                if (has_word(lists[l][i], tu[k])) {
                    CK_CHECK(!"a tu form in the guide");
                    fprintf(stderr, "  \"%s\": \"%s\"\n", lists[l][i], tu[k]);
                }
    static const char *const names[] = {"assegno-sociale", "naspi-accolta", "neopensionato",
                                        "red-sollecito"};
    for (size_t c = 0; c < CK_ARRAY_LEN(names); c++) {
        ck_error err = {0};
        ck_scene *sc = load_scene(names[c]);
        ck_records *rs = sc ? load_samples(sc, names[c]) : NULL;
        ck_guide *g = sc ? ck_guide_create(sc, &err) : NULL;
        CK_CHECK(sc && rs && g);
        ck_arena arena = {0};
        int gender = sc ? ck_scene_field(sc, "gender") : -1;
        for (size_t r = 0; g && rs && r < rs->count; r++) {
            const ck_record *rec = &rs->items[r];
            const char *greet = ck_template_render(g->greeting, rec, &arena);
            bool male = gender >= 0 && strcmp(rec->values[gender].str, "M") == 0;
            CK_CHECK(
                strncmp(greet, male ? "Gentile signor " : "Gentile signora ", male ? 15 : 16) == 0);
            CK_CHECK(!has(greet, "signore"));
            const char *texts[GUIDE_MAX_ITEMS + 2];
            int n = 0;
            texts[n++] = g->intro ? ck_template_render(g->intro, rec, &arena) : "";
            for (int i = 0; i < g->duty_count; i++) {
                const char *t = guide_text_render(&g->duties[i], rec, &arena);
                texts[n++] = t ? t : "";
            }
            for (int i = 0; i < n; i++)
                for (size_t k = 0; k < CK_ARRAY_LEN(tu); k++)
                    if (has_word(texts[i], tu[k])) {
                        CK_CHECK(!"a tu form in the guide");
                        fprintf(stderr, "  %s: \"%s\": \"%s\"\n", names[c], texts[i], tu[k]);
                    }
        }
        ck_arena_free(&arena);
        ck_guide_destroy(&g);
        ck_records_destroy(&rs);
        ck_scene_destroy(&sc);
    }
}

int main(void)
{
    test_cues_per_person();
    test_escaping_and_campaigns();
    test_keep_with_next();
    test_guide_texts();
    return ck_test_done("test_guide");
}
