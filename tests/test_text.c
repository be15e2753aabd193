/* test_text.c: fonts, shaping, fallback, line breaking and fit modes.
 *
 * Uses Titillium Web (assets/fonts, in the repo) as the main font and DejaVu Sans (system)
 * as the fallback; Titillium lacks Greek, Cyrillic and most symbols, DejaVu has them. The
 * fallback checks are skipped when DejaVu is not installed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ck_test.h"
#include "ck_text.h"

#define TITILLIUM CK_SOURCE_DIR "/assets/fonts/TitilliumWeb-Regular.ttf"
#define DEJAVU    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

enum { F_MAIN = 0, F_IMAGE = 1, F_FALLBACK = 2 };

static ck_fontset *fs;
static bool have_fallback;
static ck_arena arena;

static ck_layout_params params(const char *text, float size)
{
    ck_layout_params p = {0};
    p.text = text;
    p.font = F_MAIN;
    p.fallback_font = have_fallback ? F_FALLBACK : -1;
    p.size = size;
    return p;
}

static ck_layout lay(const ck_layout_params *p)
{
    ck_layout l;
    ck_error err = {0};
    ck_status st = ck_text_layout(fs, p, &arena, &l, &err);
    if (st != CK_OK)
        fprintf(stderr, "layout of \"%s\" failed: %s\n", p->text, err.msg);
    CK_CHECK(st == CK_OK);
    return l;
}

static float width_of(const char *text, float size)
{
    ck_layout_params p = params(text, size);
    return lay(&p).width;
}

static bool all_from(const ck_layout *l, int font)
{
    for (size_t i = 0; i < l->glyph_count; i++)
        if (l->glyphs[i].font != font)
            return false;
    return true;
}

static void test_fontset(void)
{
    ck_asset assets[3] = {
        {.id = "titillium", .kind = CK_ASSET_FONT, .path = TITILLIUM},
        {.id = "logo", .kind = CK_ASSET_IMAGE, .path = "/nonexistent/logo.png"},
        {.id = "dejavu", .kind = CK_ASSET_FONT, .path = DEJAVU},
    };
    ck_scene scene = {.file = "scene.json", .assets = assets, .asset_count = 3};
    have_fallback = access(DEJAVU, R_OK) == 0;
    if (!have_fallback) {
        fprintf(stderr, "note: %s missing, fallback checks skipped\n", DEJAVU);
        assets[2].kind = CK_ASSET_AUDIO; /* not loaded */
    }
    ck_diags diags = {0};
    fs = ck_fontset_create(&scene, &diags);
    CK_CHECK(fs != NULL);
    CK_CHECK(diags.errors == 0);
    ck_diags_free(&diags);
    if (!fs)
        return;
    CK_CHECK(fs->count == 3);
    CK_CHECK(fs->fonts[F_MAIN] != NULL);
    CK_CHECK(fs->fonts[F_IMAGE] == NULL);
    CK_CHECK((fs->fonts[F_FALLBACK] != NULL) == have_fallback);

    /* The bytes for the GPU rasteriser are the TrueType file itself. */
    size_t size = 0;
    const unsigned char *data = ck_font_data(fs->fonts[F_MAIN], &size);
    CK_CHECK(data != NULL && size > 10000);
    CK_CHECK(data && data[0] == 0 && data[1] == 1 && data[2] == 0 && data[3] == 0);

    float asc, desc, gap;
    ck_font_metrics(fs->fonts[F_MAIN], 100, &asc, &desc, &gap);
    CK_CHECK(asc > 50 && asc < 150);
    CK_CHECK(desc < 0 && desc > -60);
    CK_CHECK(gap >= 0);

    CK_CHECK(ck_font_has(fs->fonts[F_MAIN], 'A'));
    CK_CHECK(ck_font_has(fs->fonts[F_MAIN], 0xF2));   /* ò */
    CK_CHECK(!ck_font_has(fs->fonts[F_MAIN], 0x3A9)); /* Ω */
    CK_CHECK(!ck_font_has(fs->fonts[F_MAIN], 0x416)); /* Ж */
    if (have_fallback) {
        CK_CHECK(ck_font_has(fs->fonts[F_FALLBACK], 0x3A9));
        CK_CHECK(ck_font_has(fs->fonts[F_FALLBACK], 0x416));
        CK_CHECK(!ck_font_has(fs->fonts[F_FALLBACK], 0x1F44D)); /* 👍: neither has it */
    }
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CK_CHECK(f != NULL);
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void test_bad_fonts(void)
{
    char garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 7919u >> 3);
    /* A TrueType tag followed by garbage tables: must be refused, not crash. */
    memcpy(garbage, "\x00\x01\x00\x00\x00\x05", 6);
    char bad[] = "/tmp/ck_test_text_XXXXXX";
    int fd = mkstemp(bad);
    CK_CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    write_file(bad, garbage, sizeof garbage);
    char empty[] = "/tmp/ck_test_text_XXXXXX";
    fd = mkstemp(empty);
    if (fd >= 0)
        close(fd);

    ck_error err = {0};
    ck_font *f = ck_font_load(bad, &err);
    CK_CHECK(f == NULL);
    CK_CHECK(strstr(err.msg, bad) != NULL);
    CK_CHECK(err.status != CK_OK);
    err = (ck_error){0};
    CK_CHECK(ck_font_load(empty, &err) == NULL);
    CK_CHECK(strstr(err.msg, "cannot load font") != NULL);
    err = (ck_error){0};
    CK_CHECK(ck_font_load("/nonexistent/font.ttf", &err) == NULL);
    CK_CHECK(strstr(err.msg, "/nonexistent/font.ttf") != NULL);
    CK_CHECK(ck_font_load(CK_SOURCE_DIR, &err) == NULL); /* a directory */
    /* NULL-safe */
    ck_font_destroy(&f);

    /* Every failing font asset is reported, at its position in scene.json. */
    ck_asset assets[3] = {
        {.id = "corrupt", .kind = CK_ASSET_FONT, .path = bad, .pos = {12, 5}},
        {.id = "ok", .kind = CK_ASSET_FONT, .path = TITILLIUM, .pos = {13, 5}},
        {.id = "gone", .kind = CK_ASSET_FONT, .path = "/nonexistent/x.ttf", .pos = {14, 7}},
    };
    ck_scene scene = {.file = "campaign/scene.json", .assets = assets, .asset_count = 3};
    ck_diags diags = {0};
    ck_fontset *set = ck_fontset_create(&scene, &diags);
    CK_CHECK(set == NULL);
    CK_CHECK(diags.errors == 2);
    if (diags.count == 2) {
        char want[256];
        snprintf(want, sizeof want, "assets.corrupt: cannot load font \"%s\": ", bad);
        CK_CHECK(strncmp(diags.items[0].msg, want, strlen(want)) == 0);
        CK_CHECK_STR(diags.items[0].file, "campaign/scene.json");
        CK_CHECK(diags.items[0].line == 12 && diags.items[0].col == 5);
        CK_CHECK(strncmp(diags.items[1].msg, "assets.gone: cannot load font", 29) == 0);
        CK_CHECK(diags.items[1].line == 14 && diags.items[1].col == 7);
    }
    ck_diags_free(&diags);
    ck_fontset_destroy(&set);
    unlink(bad);
    unlink(empty);
}

static void test_shaping(void)
{
    /* Kerning: "AV" shaped together is narrower than A and V apart. */
    float av = width_of("AV", 100), a = width_of("A", 100), v = width_of("V", 100);
    CK_CHECK(a > 0 && v > 0);
    CK_CHECK(av < a + v - 1.0f);

    /* Advances scale with the size exactly (no hinting). */
    CK_CHECK_NEAR(width_of("Buongiorno", 50) * 2, width_of("Buongiorno", 100), 1e-3);

    const char *names[] = {"Nicolò", "D'Angelo", "D\u2019Angelo", "Nicolò D'Angelo"};
    for (size_t i = 0; i < CK_ARRAY_LEN(names); i++) {
        ck_layout_params p = params(names[i], 48);
        ck_layout l = lay(&p);
        CK_CHECK(l.missing == 0);
        CK_CHECK(l.glyph_count == ck_utf8_len(names[i]));
        CK_CHECK(all_from(&l, F_MAIN));
        for (size_t g = 0; g < l.glyph_count; g++)
            CK_CHECK(l.glyphs[g].glyph != 0);
    }

    /* Clusters are byte offsets in the caller's text: "Nicolò " is 8 bytes. */
    ck_layout_params p = params("Nicolò D'Angelo", 48);
    ck_layout l = lay(&p);
    CK_CHECK(l.glyph_count == 15);
    if (l.glyph_count == 15) {
        CK_CHECK(l.glyphs[5].cluster == 5); /* ò */
        CK_CHECK(l.glyphs[7].cluster == 8); /* D */
        for (size_t g = 1; g < l.glyph_count; g++)
            CK_CHECK(l.glyphs[g].x > l.glyphs[g - 1].x);
    }

    /* A decomposed "o" + U+0300 (Titillium has no combining grave) stays in the main font
     * and composes to the same glyph as "ò". */
    ck_layout_params pc = params("Nicolo\xCC\x80", 48);
    ck_layout lc = lay(&pc);
    ck_layout_params pp = params("Nicolò", 48);
    ck_layout lp = lay(&pp);
    CK_CHECK(lc.missing == 0);
    CK_CHECK(all_from(&lc, F_MAIN));
    CK_CHECK(lc.glyph_count == lp.glyph_count);
    if (lc.glyph_count == 6 && lp.glyph_count == 6)
        CK_CHECK(lc.glyphs[5].glyph == lp.glyphs[5].glyph);
}

static void test_fallback(void)
{
    if (!have_fallback)
        return;
    /* Greek and Cyrillic come from the fallback font, the rest from the main font. */
    ck_layout_params p = params("Ciao Ωmega Жук", 40);
    ck_layout l = lay(&p);
    CK_CHECK(l.missing == 0);
    CK_CHECK(l.glyph_count == 14); /* spaces inside a line are glyphs too */
    int fallback_glyphs = 0;
    for (size_t i = 0; i < l.glyph_count; i++) {
        const ck_glyph *g = &l.glyphs[i];
        uint32_t c = (unsigned char)p.text[g->cluster];
        bool non_ascii = c >= 0x80;
        CK_CHECK(g->font == (non_ascii ? F_FALLBACK : F_MAIN));
        fallback_glyphs += g->font == F_FALLBACK;
        CK_CHECK(g->glyph != 0);
    }
    CK_CHECK(fallback_glyphs == 4); /* Ω, Ж, у, к */

    /* Without a fallback font the same characters are missing. */
    p.fallback_font = -1;
    l = lay(&p);
    CK_CHECK(l.missing == 4);
    CK_CHECK(l.first_missing == 0x3A9);
    CK_CHECK(all_from(&l, F_MAIN));

    /* A character neither font has: the main font's .notdef, counted once each. */
    p = params("ok 👍 e 中", 40);
    l = lay(&p);
    CK_CHECK(l.missing == 2);
    CK_CHECK(l.first_missing == 0x1F44D);
    for (size_t i = 0; i < l.glyph_count; i++) {
        if (l.glyphs[i].cluster == 3) {
            CK_CHECK(l.glyphs[i].glyph == 0);
            CK_CHECK(l.glyphs[i].font == F_MAIN);
        }
    }
    /* A font listed as its own fallback is just the main font. */
    p = params("Ω", 40);
    p.fallback_font = F_MAIN;
    l = lay(&p);
    CK_CHECK(l.missing == 1);
}

static void test_shrink(void)
{
    const char *name = "Maria Concetta Giuseppina Abbondanza-Pellegrini";
    ck_layout_params p = params(name, 60);
    p.fit = CK_FIT_SHRINK;
    p.box_w = 800;
    p.box_h = 100;
    ck_layout l = lay(&p);
    CK_CHECK(l.fits);
    CK_CHECK(l.shrunk);
    CK_CHECK(l.lines == 1);
    CK_CHECK(!l.wrapped);
    CK_CHECK(l.size < 60 && l.size >= 30);
    CK_CHECK(l.width <= 800 + 1e-3);
    CK_CHECK_NEAR(l.width, 800, 0.01); /* width is the limit here, so it is met exactly */
    CK_CHECK_NEAR(l.width, width_of(name, l.size), 1e-3);
    float last = 0;
    for (size_t i = 0; i < l.glyph_count; i++)
        last = l.glyphs[i].x;
    CK_CHECK(last < 800);

    /* Short text that fits is left alone. */
    p.text = "Maria";
    l = lay(&p);
    CK_CHECK(l.fits && !l.shrunk && l.size == 60);

    /* Too long even at min_size: stays at min_size and says so. */
    p.text = name;
    p.box_w = 150;
    p.min_size = 30;
    l = lay(&p);
    CK_CHECK(!l.fits);
    CK_CHECK(l.shrunk);
    CK_CHECK(l.size == 30);
    CK_CHECK(l.width > 150);

    /* min_size 0 means half the size. */
    p.min_size = 0;
    l = lay(&p);
    CK_CHECK(l.size == 30);

    /* The box height limits too: two lines in a short box. */
    p = params("Mario\nRossi", 60);
    p.fit = CK_FIT_SHRINK;
    p.box_w = 1000;
    p.box_h = 100;
    l = lay(&p);
    CK_CHECK(l.fits && l.shrunk && l.lines == 2);
    CK_CHECK_NEAR(l.height, 100, 0.05);
}

static void test_wrap(void)
{
    /* Two words that fit on two lines at the requested size: wrapped, not shrunk. */
    float w1 = width_of("Giuseppina", 60), w2 = width_of("Abbondanza", 60);
    float wmax = w1 > w2 ? w1 : w2;
    ck_layout_params p = params("Giuseppina Abbondanza", 60);
    p.fit = CK_FIT_WRAP;
    p.box_w = wmax + 10;
    ck_layout l = lay(&p);
    CK_CHECK(l.fits);
    CK_CHECK(l.lines == 2);
    CK_CHECK(l.wrapped);
    CK_CHECK(!l.shrunk && l.size == 60);
    CK_CHECK_NEAR(l.width, wmax, 1e-3);
    CK_CHECK(l.glyph_count == 20); /* the space at the break is dropped */
    if (l.glyph_count == 20) {
        CK_CHECK(l.glyphs[10].x == 0); /* "Abbondanza" starts its own line */
        CK_CHECK(l.glyphs[10].y > l.glyphs[9].y);
        CK_CHECK(l.glyphs[10].cluster == 11);
    }

    /* Three words in a box for one word a line, at most 2 lines: shrinks until two fit. */
    p.text = "Maria Giuseppina Abbondanza";
    p.box_w = wmax + 5;
    l = lay(&p);
    CK_CHECK(l.fits);
    CK_CHECK(l.lines == 2);
    CK_CHECK(l.wrapped && l.shrunk);
    CK_CHECK(l.size < 60 && l.size >= 30);
    CK_CHECK(l.width <= p.box_w + 1e-3);
    /* ... and as large as possible: 1% larger does not fit in two lines. */
    ck_layout_params q = p;
    q.size = q.min_size = l.size * 1.01f;
    ck_layout l2 = lay(&q);
    CK_CHECK(!l2.fits);

    /* max_lines 3 allows it at full size. */
    p.max_lines = 3;
    l = lay(&p);
    CK_CHECK(l.fits && l.lines == 3 && !l.shrunk);

    /* A single word wider than the box forces a shrink. */
    p = params("Abbondanzapellegrini", 60);
    p.fit = CK_FIT_WRAP;
    p.box_w = 300;
    l = lay(&p);
    CK_CHECK(l.lines == 1);
    CK_CHECK(l.shrunk && l.fits);
    CK_CHECK(l.width <= 300 + 1e-3);

    /* The box height limits the lines: room for one line only, so it shrinks to one. */
    p = params("Mario Rossi", 60);
    p.fit = CK_FIT_WRAP;
    p.box_w = width_of("Mario Rossi", 60) - 20;
    p.box_h = 100;
    l = lay(&p);
    CK_CHECK(l.fits && l.lines == 1 && l.shrunk);
    CK_CHECK(l.height <= 100 + 1e-3);

    /* Impossible even at min_size: fits = false, at min_size. */
    p.box_w = 40;
    p.min_size = 40;
    l = lay(&p);
    CK_CHECK(!l.fits && l.size == 40);

    /* Explicit lines are kept even beyond max_lines (no size could merge them). */
    p = params("uno\ndue\ntre", 40);
    p.fit = CK_FIT_WRAP;
    p.box_w = 500;
    l = lay(&p);
    CK_CHECK(l.fits && l.lines == 3 && !l.wrapped && !l.shrunk);
}

static void test_align(void)
{
    float asc, desc;
    ck_font_metrics(fs->fonts[F_MAIN], 50, &asc, &desc, NULL);
    ck_layout_params p = params("Ciao", 50);
    p.box_w = 500;
    p.box_h = 200;
    ck_layout l = lay(&p);
    float w = l.width, h = l.height;
    CK_CHECK_NEAR(h, asc - desc, 1e-3);
    CK_CHECK(l.fits && l.lines == 1);
    CK_CHECK(l.glyphs[0].x == 0);
    CK_CHECK_NEAR(l.glyphs[0].y, asc, 1e-3);

    p.align = CK_ALIGN_CENTER;
    p.valign = CK_ALIGN_CENTER;
    l = lay(&p);
    CK_CHECK_NEAR(l.glyphs[0].x, (500 - w) / 2, 1e-3);
    CK_CHECK_NEAR(l.glyphs[0].y, (200 - h) / 2 + asc, 1e-3);

    p.align = CK_ALIGN_END;
    p.valign = CK_ALIGN_END;
    l = lay(&p);
    CK_CHECK_NEAR(l.glyphs[0].x, 500 - w, 1e-3);
    CK_CHECK_NEAR(l.glyphs[0].y, 200 - h + asc, 1e-3);
    CK_CHECK_NEAR(l.left, 500 - w, 1e-3);
    CK_CHECK_NEAR(l.top, 200 - h, 1e-3);

    /* Ink: the drawn pixels, inside the line box; a descender reaches below the baseline,
     * capitals alone do not. */
    p = params("CIAO", 50);
    p.box_w = 500;
    p.box_h = 200;
    p.valign = CK_ALIGN_CENTER;
    l = lay(&p);
    float base = l.glyphs[0].y;
    CK_CHECK(l.ink[0] >= 0 && l.ink[0] < 10 && l.ink[2] > l.ink[0] && l.ink[2] <= l.width + 1);
    CK_CHECK(l.ink[1] >= l.top - 1e-3 && l.ink[1] < base - 20); /* cap height ~ 0.7 em */
    CK_CHECK(l.ink[3] <= base + 1 && l.ink[3] > base - 2);
    p.text = "giugno";
    l = lay(&p);
    CK_CHECK(l.ink[3] > l.glyphs[0].y + 5 && l.ink[3] <= l.top + l.height + 1e-3);
    p.text = " ";
    l = lay(&p);
    CK_CHECK(l.ink[0] == 0 && l.ink[2] == 0); /* nothing drawn */

    /* No box width: lines align within the widest line. */
    float wa = width_of("A", 50), wb = width_of("WWWW", 50);
    p = params("A\nWWWW", 50);
    p.align = CK_ALIGN_CENTER;
    l = lay(&p);
    CK_CHECK_NEAR(l.width, wb, 1e-3);
    CK_CHECK_NEAR(l.glyphs[0].x, (wb - wa) / 2, 1e-3);
    CK_CHECK(l.glyphs[1].x == 0);
    p.align = CK_ALIGN_END;
    l = lay(&p);
    CK_CHECK_NEAR(l.glyphs[0].x, wb - wa, 1e-3);

    /* Overflow with fit none: kept at size, fits = false. */
    p = params("Una frase piuttosto lunga", 50);
    p.box_w = 100;
    l = lay(&p);
    CK_CHECK(!l.fits && l.size == 50 && l.lines == 1);
}

static void test_newlines(void)
{
    ck_layout_params p = params("uno\ndue", 40);
    ck_layout l = lay(&p);
    CK_CHECK(l.lines == 2 && !l.wrapped);
    CK_CHECK(l.glyph_count == 6);
    if (l.glyph_count == 6) {
        CK_CHECK(l.glyphs[3].x == 0);
        CK_CHECK_NEAR(l.glyphs[3].y - l.glyphs[0].y, 1.2 * 40, 1e-3);
        CK_CHECK(l.glyphs[3].cluster == 4);
    }
    p.line_height = 1.5f;
    l = lay(&p);
    if (l.glyph_count == 6)
        CK_CHECK_NEAR(l.glyphs[3].y - l.glyphs[0].y, 1.5 * 40, 1e-3);

    /* Windows line ends and a blank line. */
    p = params("uno\r\n\r\ndue", 40);
    l = lay(&p);
    CK_CHECK(l.lines == 3 && l.glyph_count == 6 && l.missing == 0);
    if (l.glyph_count == 6)
        CK_CHECK_NEAR(l.glyphs[3].y - l.glyphs[0].y, 2 * 1.2 * 40, 1e-3);

    /* A tab is a space, not a missing glyph. */
    p = params("a\tb", 40);
    l = lay(&p);
    CK_CHECK(l.missing == 0 && l.lines == 1);

    /* Empty text: nothing to draw, nothing wrong. */
    p = params("", 40);
    l = lay(&p);
    CK_CHECK(l.glyph_count == 0 && l.glyphs == NULL && l.lines == 0);
    CK_CHECK(l.width == 0 && l.height == 0 && l.fits && l.size == 40);
    p.text = NULL;
    p.fit = CK_FIT_WRAP;
    p.box_w = 10;
    l = lay(&p);
    CK_CHECK(l.glyph_count == 0 && l.fits && !l.shrunk);
}

static void test_errors(void)
{
    ck_layout l;
    ck_error err = {0};
    ck_layout_params p = params("ab\xC3", 40);
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);
    CK_CHECK(strstr(err.msg, "invalid UTF-8") != NULL);
    CK_CHECK(strstr(err.msg, "byte 2") != NULL);
    p.text = "\xFF\xFE";
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);
    p.text = "\xED\xA0\x80"; /* a UTF-16 surrogate */
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);

    p = params("ok", 40);
    p.font = F_IMAGE;
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);
    p.font = 99;
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);
    p.font = F_MAIN;
    p.fallback_font = F_IMAGE;
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);
    p = params("ok", 0);
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);
    p = params("ok", NAN);
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);
    p = params("ok", 40);
    p.box_w = -1;
    CK_CHECK(ck_text_layout(fs, &p, &arena, &l, &err) == CK_ERR_INVALID);
    CK_CHECK(ck_text_layout(fs, NULL, &arena, &l, &err) != CK_OK);
}

static void test_determinism(void)
{
    ck_layout_params p = params("Gentile Nicolò D'Angelo, il tuo assegno Ω è pronto\nGrazie!", 64);
    p.fit = CK_FIT_WRAP;
    p.box_w = 700;
    p.box_h = 160;
    p.align = CK_ALIGN_CENTER;
    p.valign = CK_ALIGN_CENTER;
    p.max_lines = 3;
    ck_arena a1 = {0}, a2 = {0};
    ck_layout l1, l2;
    CK_CHECK(ck_text_layout(fs, &p, &a1, &l1, NULL) == CK_OK);
    CK_CHECK(ck_text_layout(fs, &p, &a2, &l2, NULL) == CK_OK);
    CK_CHECK(l1.glyph_count == l2.glyph_count && l1.glyph_count > 0);
    CK_CHECK(memcmp(l1.glyphs, l2.glyphs, l1.glyph_count * sizeof *l1.glyphs) == 0);
    CK_CHECK(memcmp(&l1.size, &l2.size, sizeof l1.size) == 0);
    CK_CHECK(memcmp(&l1.width, &l2.width, sizeof l1.width) == 0);
    CK_CHECK(memcmp(&l1.height, &l2.height, sizeof l1.height) == 0);
    CK_CHECK(l1.lines == l2.lines && l1.fits == l2.fits && l1.shrunk == l2.shrunk);
    CK_CHECK(l1.missing == l2.missing && l1.wrapped == l2.wrapped);
    CK_CHECK(l1.fits && l1.lines == 3 && l1.shrunk);
    ck_arena_free(&a1);
    ck_arena_free(&a2);
}

/* Random valid UTF-8 (marks, controls, newlines, astral characters) in every fit mode: no
 * crash, glyphs inside the text, sizes within [min_size, size]. Run under the sanitizers. */
static void test_random(void)
{
    static const uint32_t pool[] = {'a',   'W',  ' ',   ' ',    '\n',   '\t',    '\r',    0x300,
                                    0x301, 0xF2, 0x3A9, 0x416,  0x200D, 0xFE0F,  0x1F44D, 0x4E2D,
                                    0xA0,  'f',  'i',   0x2019, 0x7F,   0x1F600, 0x5D0,   0x627};
    uint32_t seed = 12345;
    char text[512];
    for (int round = 0; round < 300; round++) {
        size_t n = 0;
        seed = seed * 1664525u + 1013904223u;
        int chars = (int)(seed >> 8) % 60;
        for (int i = 0; i < chars; i++) {
            seed = seed * 1664525u + 1013904223u;
            uint32_t c = pool[(seed >> 16) % CK_ARRAY_LEN(pool)];
            if (c < 0x80) {
                text[n++] = (char)c;
            } else if (c < 0x800) {
                text[n++] = (char)(0xC0 | c >> 6);
                text[n++] = (char)(0x80 | (c & 0x3F));
            } else if (c < 0x10000) {
                text[n++] = (char)(0xE0 | c >> 12);
                text[n++] = (char)(0x80 | (c >> 6 & 0x3F));
                text[n++] = (char)(0x80 | (c & 0x3F));
            } else {
                text[n++] = (char)(0xF0 | c >> 18);
                text[n++] = (char)(0x80 | (c >> 12 & 0x3F));
                text[n++] = (char)(0x80 | (c >> 6 & 0x3F));
                text[n++] = (char)(0x80 | (c & 0x3F));
            }
        }
        text[n] = 0;
        ck_layout_params p = params(text, 20 + (float)(seed % 50));
        p.fit = (ck_fit)(round % 3);
        p.box_w = (float)(seed >> 8 & 511);
        p.box_h = (float)(seed >> 4 & 255);
        p.max_lines = round % 4;
        p.align = (ck_align)(round % 3);
        p.valign = (ck_align)(round / 3 % 3);
        ck_layout l = lay(&p);
        CK_CHECK(l.size <= p.size && l.size >= p.size * 0.5f);
        bool ok = true;
        for (size_t i = 0; i < l.glyph_count; i++)
            ok = ok && l.glyphs[i].cluster < n && isfinite(l.glyphs[i].x);
        CK_CHECK(ok);
        ck_arena_reset(&arena);
    }
}

int main(void)
{
    test_fontset();
    test_bad_fonts();
    if (fs) {
        test_shaping();
        test_fallback();
        test_shrink();
        test_wrap();
        test_align();
        test_newlines();
        test_errors();
        test_determinism();
        test_random();
    }
    ck_fontset_destroy(&fs);
    CK_CHECK(fs == NULL);
    ck_arena_free(&arena);
    return ck_test_done("test_text");
}
