/* dashboard.c: the admin dashboard's HTML, with its chart as inline SVG (no scripts, no
 * third-party services). Text in Italian, like every page ciak serves. */
#include "ck_analytics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *p;
    size_t n, cap;
    bool oom;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16384;
        while (cap < o->n + n + 1)
            cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putf(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(out *o, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (k > 0)
        put(o, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
}

static void esc(out *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            puts_(o, "&lt;");
            break;
        case '>':
            puts_(o, "&gt;");
            break;
        case '&':
            puts_(o, "&amp;");
            break;
        case '"':
            puts_(o, "&quot;");
            break;
        case '\'':
            puts_(o, "&#39;");
            break;
        default:
            put(o, s, 1);
        }
    }
}

static char *finish(out *o)
{
    if (o->oom) {
        free(o->p);
        return NULL;
    }
    return o->p;
}

/* Italian number formatting: "1.234" and "4,5". */
static const char *it_int(char *buf, size_t size, int64_t v)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%lld", (long long)(v < 0 ? -v : v));
    size_t n = strlen(raw), w = 0;
    if (v < 0 && w + 1 < size)
        buf[w++] = '-';
    for (size_t i = 0; i < n && w + 2 < size; i++) {
        if (i && (n - i) % 3 == 0)
            buf[w++] = '.';
        buf[w++] = raw[i];
    }
    buf[w] = '\0';
    return buf;
}

static const char *it_dec(char *buf, size_t size, double v, int decimals)
{
    snprintf(buf, size, "%.*f", decimals, v);
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = ',';
    return buf;
}

static const char *pct(char *buf, size_t size, int64_t part, int64_t whole)
{
    if (whole <= 0)
        return snprintf(buf, size, "–"), buf;
    char d[32];
    snprintf(buf, size, "%s%%", it_dec(d, sizeof d, 100.0 * (double)part / (double)whole, 1));
    return buf;
}

#define HEAD_OPEN                                                                                  \
    "<!doctype html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n"                      \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                   \
    "<meta name=\"robots\" content=\"noindex\">\n"                                                 \
    "<link rel=\"stylesheet\" href=\"/static/dashboard.css\">\n<title>"

char *ck_dashboard_login_html(bool failed)
{
    out o = {0};
    puts_(&o, HEAD_OPEN "Accesso al cruscotto – video-guide INPS</title>\n</head>\n<body>\n"
                        "<main class=\"login\">\n<h1>Cruscotto delle video-guide</h1>\n");
    if (failed)
        puts_(&o, "<p class=\"error\" role=\"alert\">Password non corretta. Riprovi.</p>\n");
    puts_(&o, "<form method=\"post\" action=\"/admin/login\">\n"
              "<label for=\"password\">Password di amministrazione</label>\n"
              "<input id=\"password\" name=\"password\" type=\"password\" "
              "autocomplete=\"current-password\" required>\n"
              "<button type=\"submit\">Accedi</button>\n</form>\n"
              "<p class=\"note\">I dati del cruscotto sono anonimi: nessun nome, codice, "
              "collegamento o indirizzo viene registrato.</p>\n</main>\n</body>\n</html>\n");
    return finish(&o);
}

/* A horizontal bar inside a table cell: SVG, so no inline style is needed. */
static void bar(out *o, int64_t v, int64_t max)
{
    double w = max > 0 ? 100.0 * (double)v / (double)max : 0;
    putf(o,
         "<svg class=\"bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" "
         "aria-hidden=\"true\" focusable=\"false\"><rect width=\"%.1f\" height=\"10\"/></svg>",
         w);
}

static void count_table(out *o, const char *caption, const char *col, const ck_an_count *c, int n,
                        const char *empty)
{
    putf(o, "<section>\n<h3>%s</h3>\n", caption);
    if (n == 0) {
        putf(o, "<p>%s</p>\n</section>\n", empty);
        return;
    }
    int64_t max = 0;
    for (int i = 0; i < n; i++)
        max = c[i].count > max ? c[i].count : max;
    putf(o,
         "<table>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">"
         "Aperture</th><th scope=\"col\"><span class=\"sr-only\">Grafico</span></th></tr>"
         "</thead>\n<tbody>\n",
         col);
    for (int i = 0; i < n; i++) {
        char b[32];
        puts_(o, "<tr><td><code>");
        esc(o, c[i].id);
        putf(o, "</code></td><td class=\"num\">%s</td><td>", it_int(b, sizeof b, c[i].count));
        bar(o, c[i].count, max);
        puts_(o, "</td></tr>\n");
    }
    puts_(o, "</tbody>\n</table>\n</section>\n");
}

/* The daily series as an SVG chart: unique viewers (bars) and completions (line). */
static void chart(out *o, const ck_an_report *r)
{
    const int W = 720, H = 240, L = 44, B = 28, T = 12;
    int n = r->day_count;
    int64_t max = 1;
    for (int i = 0; i < n; i++) {
        if (r->days[i].viewers > max)
            max = r->days[i].viewers;
        if (r->days[i].completions > max)
            max = r->days[i].completions;
    }
    max = (max + 3) / 4 * 4; /* four whole-number steps on the scale */
    double pw = (double)(W - L - 8), ph = (double)(H - B - T), bw = n ? pw / n : pw;
    char tot[32];
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += r->days[i].viewers;
    putf(o,
         "<figure>\n<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
         "aria-labelledby=\"chart-title\">\n<title id=\"chart-title\">Spettatori unici e "
         "visioni complete per giorno, ultimi %d giorni: %s spettatori in totale</title>\n",
         W, H, n, it_int(tot, sizeof tot, sum));
    /* Grid lines and scale. */
    for (int k = 0; k <= 4; k++) {
        double y = T + ph - ph * k / 4.0;
        char lab[32];
        putf(o, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", L, W - 8, y,
             y);
        putf(o, "<text class=\"axis\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6,
             y + 4, it_int(lab, sizeof lab, max * k / 4));
    }
    for (int i = 0; i < n; i++) {
        double h = ph * (double)r->days[i].viewers / (double)max;
        putf(o, "<rect class=\"viewers\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
             L + i * bw + bw * 0.15, T + ph - h, bw * 0.7, h);
    }
    puts_(o, "\n<polyline class=\"completions\" points=\"");
    for (int i = 0; i < n; i++)
        putf(o, "%.1f,%.1f ", L + i * bw + bw / 2,
             T + ph - ph * (double)r->days[i].completions / (double)max);
    puts_(o, "\"/>\n");
    /* About six date labels along the axis. */
    int step = n > 6 ? (n + 5) / 6 : 1;
    for (int i = 0; i < n; i += step) {
        int y, m, d;
        ck_civil_from_days(r->days[i].day, &y, &m, &d);
        putf(o, "<text class=\"axis\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%02d/%02d</text>",
             L + i * bw + bw / 2, H - 8, d, m);
    }
    puts_(o, "\n</svg>\n<figcaption><span class=\"key viewers\"></span> spettatori unici "
             "&nbsp; <span class=\"key completions\"></span> visioni complete</figcaption>\n"
             "</figure>\n");
    /* The same numbers as a table for screen readers and for copying. */
    puts_(o, "<details>\n<summary>Dati giornalieri in tabella</summary>\n<table>\n<thead><tr>"
             "<th scope=\"col\">Giorno</th><th scope=\"col\" class=\"num\">Spettatori unici</th>"
             "<th scope=\"col\" class=\"num\">Avvii</th><th scope=\"col\" class=\"num\">Visioni "
             "complete</th></tr></thead>\n<tbody>\n");
    for (int i = n - 1; i >= 0; i--) {
        if (!r->days[i].viewers && !r->days[i].plays)
            continue;
        int y, m, d;
        char a[32], b[32], c[32];
        ck_civil_from_days(r->days[i].day, &y, &m, &d);
        putf(o,
             "<tr><td>%02d/%02d/%04d</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
             "<td class=\"num\">%s</td></tr>\n",
             d, m, y, it_int(a, sizeof a, r->days[i].viewers),
             it_int(b, sizeof b, r->days[i].plays), it_int(c, sizeof c, r->days[i].completions));
    }
    puts_(o, "</tbody>\n</table>\n</details>\n");
}

static void figure(out *o, const char *id, const char *label, const char *value, const char *note)
{
    putf(o, "<div class=\"figure\"><dt id=\"%s-l\">%s</dt><dd id=\"%s\">%s", id, label, id, value);
    if (note)
        putf(o, "<span class=\"note\">%s</span>", note);
    puts_(o, "</dd></div>\n");
}

char *ck_dashboard_html(const ck_an_report *reports, int count, int selected)
{
    out o = {0};
    puts_(&o, HEAD_OPEN "Cruscotto delle video-guide INPS</title>\n</head>\n<body>\n"
                        "<header class=\"top\">\n<p class=\"brand\">INPS · video-guide</p>\n"
                        "<form method=\"post\" action=\"/admin/logout\"><button type=\"submit\">"
                        "Esci</button></form>\n</header>\n<main>\n"
                        "<h1>Cruscotto delle video-guide</h1>\n"
                        "<p class=\"lead\">Dati anonimi degli ultimi giorni: nessun nome, codice, "
                        "collegamento o indirizzo viene registrato.</p>\n");
    if (count <= 0) {
        puts_(&o, "<p>Nessuna campagna caricata.</p>\n</main>\n</body>\n</html>\n");
        return finish(&o);
    }
    if (selected < 0 || selected >= count)
        selected = 0;
    puts_(&o, "<nav aria-label=\"Campagne\">\n<ul class=\"campaigns\">\n");
    for (int i = 0; i < count; i++) {
        puts_(&o, "<li><a href=\"/admin/?c=");
        esc(&o, reports[i].campaign);
        puts_(&o, i == selected ? "\" aria-current=\"page\">" : "\">");
        esc(&o, reports[i].campaign);
        puts_(&o, "</a></li>\n");
    }
    puts_(&o, "</ul>\n</nav>\n");

    const ck_an_report *r = &reports[selected];
    char a[96], b[64], c[160];
    puts_(&o, "<h2>Campagna <code>");
    esc(&o, r->campaign);
    puts_(&o, "</code></h2>\n<dl class=\"figures\">\n");
    figure(&o, "links", "Collegamenti emessi", it_int(a, sizeof a, r->links), NULL);
    snprintf(c, sizeof c, "%s dei collegamenti", pct(b, sizeof b, r->viewers, r->links));
    figure(&o, "viewers", "Spettatori unici (per giorno)", it_int(a, sizeof a, r->viewers),
           r->links ? c : NULL);
    figure(&o, "plays", "Avvii del video", it_int(a, sizeof a, r->plays), NULL);
    snprintf(c, sizeof c, "%s degli spettatori", pct(b, sizeof b, r->funnel[3], r->viewers));
    figure(&o, "complete", "Visioni complete", it_int(a, sizeof a, r->funnel[3]), c);
    int64_t nrat = 0;
    for (int i = 0; i < 5; i++)
        nrat += r->ratings[i];
    snprintf(c, sizeof c, "su 5, %s valutazioni", it_int(b, sizeof b, nrat));
    figure(&o, "rating", "Valutazione media", nrat ? it_dec(a, sizeof a, r->rating_avg, 1) : "–",
           c);
    snprintf(c, sizeof c, "mediana, %s misure", it_int(b, sizeof b, r->startup_count));
    snprintf(a, sizeof a, "%s s", it_dec(b, sizeof b, r->startup_p50_ms / 1000.0, 2));
    figure(&o, "startup", "Avvio del video", r->startup_count ? a : "–", c);
    puts_(&o, "</dl>\n");

    puts_(&o, "<section>\n<h3>Andamento giornaliero</h3>\n");
    chart(&o, r);
    puts_(&o, "</section>\n<div class=\"cols\">\n");

    /* Completion funnel. */
    puts_(&o, "<section>\n<h3>Quanto del video è stato visto</h3>\n<table>\n<thead><tr>"
              "<th scope=\"col\">Punto del video</th><th scope=\"col\" class=\"num\">Spettatori"
              "</th><th scope=\"col\" class=\"num\">Quota</th></tr></thead>\n<tbody>\n");
    static const char *const marks[4] = {"25%", "metà (50%)", "75%", "fine (100%)"};
    for (int i = 0; i < 4; i++)
        putf(&o,
             "<tr><td>%s</td><td class=\"num\" id=\"funnel-%d\">%s</td><td class=\"num\">%s</td>"
             "</tr>\n",
             marks[i], (i + 1) * 25, it_int(a, sizeof a, r->funnel[i]),
             pct(b, sizeof b, r->funnel[i], r->viewers));
    puts_(&o, "</tbody>\n</table>\n</section>\n");

    /* Ratings. */
    puts_(&o, "<section>\n<h3>Valutazioni: «Quanto ti è stata utile questa video-guida?»</h3>\n"
              "<table>\n<thead><tr><th scope=\"col\">Voto</th><th scope=\"col\" class=\"num\">"
              "Risposte</th><th scope=\"col\"><span class=\"sr-only\">Grafico</span></th></tr>"
              "</thead>\n<tbody>\n");
    int64_t rmax = 0;
    for (int i = 0; i < 5; i++)
        rmax = r->ratings[i] > rmax ? r->ratings[i] : rmax;
    for (int i = 4; i >= 0; i--) {
        putf(&o, "<tr><td>%d su 5</td><td class=\"num\" id=\"rating-%d\">%s</td><td>", i + 1, i + 1,
             it_int(a, sizeof a, r->ratings[i]));
        bar(&o, r->ratings[i], rmax);
        puts_(&o, "</td></tr>\n");
    }
    puts_(&o, "</tbody>\n</table>\n</section>\n");

    count_table(&o, "Pop-up aperti", "Pop-up", r->popups, r->popup_count,
                "Nessun pop-up aperto finora.");
    count_table(&o, "Clic sui servizi online", "Servizio", r->buttons, r->button_count,
                "Nessun clic sui servizi finora.");

    /* Startup and quality. */
    puts_(&o, "<section>\n<h3>Avvio e qualità della riproduzione</h3>\n<table>\n<tbody>\n");
    putf(&o, "<tr><th scope=\"row\">Avvio, mediana</th><td class=\"num\">%s s</td></tr>\n",
         it_dec(a, sizeof a, r->startup_p50_ms / 1000.0, 2));
    putf(&o, "<tr><th scope=\"row\">Avvio, 90° percentile</th><td class=\"num\">%s s</td></tr>\n",
         it_dec(a, sizeof a, r->startup_p90_ms / 1000.0, 2));
    putf(&o, "<tr><th scope=\"row\">Avvio, 99° percentile</th><td class=\"num\">%s s</td></tr>\n",
         it_dec(a, sizeof a, r->startup_p99_ms / 1000.0, 2));
    putf(&o,
         "<tr><th scope=\"row\">Interruzioni per caricamento</th><td class=\"num\">%s</td>"
         "</tr>\n",
         it_int(a, sizeof a, r->stalls));
    putf(&o, "<tr><th scope=\"row\">Errori di riproduzione</th><td class=\"num\">%s</td></tr>\n",
         it_int(a, sizeof a, r->errors));
    putf(&o,
         "<tr><th scope=\"row\">Sottotitoli attivati / disattivati</th><td class=\"num\">%s / "
         "%s</td></tr>\n",
         it_int(a, sizeof a, r->caption_on), it_int(b, sizeof b, r->caption_off));
    putf(&o, "<tr><th scope=\"row\">Guide PDF scaricate</th><td class=\"num\">%s</td></tr>\n",
         it_int(a, sizeof a, r->guides));
    puts_(&o, "</tbody>\n</table>\n</section>\n</div>\n");

    puts_(&o, "<p class=\"export\"><a href=\"/admin/export.csv?c=");
    esc(&o, r->campaign);
    puts_(&o, "\" download>Scarica i dati della campagna (CSV)</a> · "
              "<a href=\"/admin/export.csv\" download>Scarica i dati di tutte le campagne "
              "(CSV)</a></p>\n</main>\n</body>\n</html>\n");
    return finish(&o);
}
