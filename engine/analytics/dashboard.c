/* dashboard.c: the admin dashboard's HTML, with its chart as inline SVG (no scripts, no
 * third-party services). Text in Italian, like every page ciak serves. */
#include "ck_analytics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    ck_strbuf o = {0};
    ck_strbuf_puts(&o,
                   HEAD_OPEN "Accesso al cruscotto – video-guide INPS</title>\n</head>\n<body>\n"
                             "<main class=\"login\">\n<h1>Cruscotto delle video-guide</h1>\n");
    if (failed)
        ck_strbuf_puts(&o,
                       "<p class=\"error\" role=\"alert\">Password non corretta. Riprovi.</p>\n");
    ck_strbuf_puts(&o,
                   "<form method=\"post\" action=\"/admin/login\">\n"
                   "<label for=\"password\">Password di amministrazione</label>\n"
                   "<input id=\"password\" name=\"password\" type=\"password\" "
                   "autocomplete=\"current-password\" required>\n"
                   "<button type=\"submit\">Accedi</button>\n</form>\n"
                   "<p class=\"note\">I dati del cruscotto sono anonimi: nessun nome, codice, "
                   "collegamento o indirizzo viene registrato.</p>\n</main>\n</body>\n</html>\n");
    return ck_strbuf_take(&o);
}

/* A horizontal bar inside a table cell: SVG, so no inline style is needed. */
static void bar(ck_strbuf *o, int64_t v, int64_t max)
{
    double w = max > 0 ? 100.0 * (double)v / (double)max : 0;
    ck_strbuf_printf(
        o,
        "<svg class=\"bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" "
        "aria-hidden=\"true\" focusable=\"false\"><rect width=\"%.1f\" height=\"10\"/></svg>",
        w);
}

/* The title the caller gave for a cue id, or the id. */
static const char *cue_title(const ck_an_names *names, const char *id)
{
    for (int i = 0; names && i < names->cue_count; i++)
        if (names->cues[i].id && names->cues[i].title && strcmp(names->cues[i].id, id) == 0)
            return names->cues[i].title;
    return id;
}

static const char *campaign_title(const ck_an_report *r, const ck_an_names *names)
{
    return names && names->campaign && names->campaign[0] ? names->campaign : r->campaign;
}

/* `kind` prefixes each row's id (kind-<cue id>), so a row can be found by its cue. */
static void count_table(ck_strbuf *o, const char *caption, const char *col, const char *what,
                        const char *kind, const ck_an_count *c, int n, const ck_an_names *names,
                        const char *empty)
{
    ck_strbuf_printf(o, "<section>\n<h3>%s</h3>\n", caption);
    if (n == 0) {
        ck_strbuf_printf(o, "<p>%s</p>\n</section>\n", empty);
        return;
    }
    int64_t max = 0;
    for (int i = 0; i < n; i++)
        max = c[i].count > max ? c[i].count : max;
    ck_strbuf_printf(o,
                     "<table>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">"
                     "%s</th><th scope=\"col\"><span class=\"sr-only\">Grafico</span></th></tr>"
                     "</thead>\n<tbody>\n",
                     col, what);
    for (int i = 0; i < n; i++) {
        char b[32];
        ck_strbuf_printf(o, "<tr id=\"%s-", kind);
        ck_strbuf_html(o, c[i].id);
        ck_strbuf_puts(o, "\"><td>");
        ck_strbuf_html(o, cue_title(names, c[i].id));
        ck_strbuf_printf(o, "</td><td class=\"num\">%s</td><td>", it_int(b, sizeof b, c[i].count));
        bar(o, c[i].count, max);
        ck_strbuf_puts(o, "</td></tr>\n");
    }
    ck_strbuf_puts(o, "</tbody>\n</table>\n</section>\n");
}

/* The daily series as an SVG chart: per day a bar of unique viewers and, drawn over it, the
 * bar of those whose view was complete (never taller: a complete view is a viewer's). */
static void chart(ck_strbuf *o, const ck_an_report *r)
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
    char tot[32], done[32];
    ck_strbuf_printf(
        o,
        "<figure>\n<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
        "aria-labelledby=\"chart-title\">\n<title id=\"chart-title\">Spettatori unici e "
        "visioni complete per giorno, ultimi %d giorni: %s spettatori, %s visioni complete"
        "</title>\n",
        W, H, n, it_int(tot, sizeof tot, r->viewers), it_int(done, sizeof done, r->funnel[3]));
    /* Grid lines and scale. */
    for (int k = 0; k <= 4; k++) {
        double y = T + ph - ph * k / 4.0;
        char lab[32];
        ck_strbuf_printf(o, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", L,
                         W - 8, y, y);
        ck_strbuf_printf(o,
                         "<text class=\"axis\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                         L - 6, y + 4, it_int(lab, sizeof lab, max * k / 4));
    }
    for (int i = 0; i < n; i++) {
        double hv = ph * (double)r->days[i].viewers / (double)max,
               hc = ph * (double)r->days[i].completions / (double)max;
        double x = L + i * bw + bw * 0.15, w = bw * 0.7;
        ck_strbuf_printf(
            o, "<rect class=\"viewers\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x,
            T + ph - hv, w, hv);
        if (r->days[i].completions > 0)
            ck_strbuf_printf(o,
                             "<rect class=\"complete\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                             "height=\"%.1f\"/>",
                             x + w * 0.2, T + ph - hc, w * 0.6, hc);
    }
    /* About six date labels along the axis. */
    int step = n > 6 ? (n + 5) / 6 : 1;
    for (int i = 0; i < n; i += step) {
        int y, m, d;
        ck_civil_from_days(r->days[i].day, &y, &m, &d);
        ck_strbuf_printf(
            o, "<text class=\"axis\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%02d/%02d</text>",
            L + i * bw + bw / 2, H - 8, d, m);
    }
    ck_strbuf_puts(o, "\n</svg>\n<figcaption><span class=\"key viewers\"></span> spettatori unici "
                      "&nbsp; <span class=\"key complete\"></span> di cui con visione completa"
                      "</figcaption>\n</figure>\n");
    /* The same numbers as a table for screen readers and for copying. */
    ck_strbuf_puts(
        o, "<details>\n<summary>Dati giornalieri in tabella</summary>\n<table>\n<thead><tr>"
           "<th scope=\"col\">Giorno</th><th scope=\"col\" class=\"num\">Spettatori unici</th>"
           "<th scope=\"col\" class=\"num\">Avvii</th><th scope=\"col\" class=\"num\">Visioni "
           "complete</th></tr></thead>\n<tbody>\n");
    for (int i = n - 1; i >= 0; i--) {
        if (!r->days[i].viewers && !r->days[i].plays)
            continue;
        int y, m, d;
        char a[32], b[32], c[32];
        ck_civil_from_days(r->days[i].day, &y, &m, &d);
        ck_strbuf_printf(
            o,
            "<tr><td>%02d/%02d/%04d</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
            "<td class=\"num\">%s</td></tr>\n",
            d, m, y, it_int(a, sizeof a, r->days[i].viewers), it_int(b, sizeof b, r->days[i].plays),
            it_int(c, sizeof c, r->days[i].completions));
    }
    char a[32], b[32], c[32];
    ck_strbuf_printf(o,
                     "</tbody>\n<tfoot><tr><th scope=\"row\">Totale</th><td class=\"num\">%s</td>"
                     "<td class=\"num\">%s</td><td class=\"num\" id=\"daily-complete\">%s</td>"
                     "</tr></tfoot>\n</table>\n</details>\n",
                     it_int(a, sizeof a, r->viewers), it_int(b, sizeof b, r->plays),
                     it_int(c, sizeof c, r->funnel[3]));
}

static void figure(ck_strbuf *o, const char *id, const char *label, const char *value,
                   const char *note)
{
    ck_strbuf_printf(o, "<div class=\"figure\"><dt id=\"%s-l\">%s</dt><dd id=\"%s\">%s", id, label,
                     id, value);
    if (note)
        ck_strbuf_printf(o, "<span class=\"note\">%s</span>", note);
    ck_strbuf_puts(o, "</dd></div>\n");
}

char *ck_dashboard_html(const ck_an_report *reports, const ck_an_names *names, int count,
                        int selected)
{
    ck_strbuf o = {0};
    ck_strbuf_puts(&o, HEAD_OPEN
                   "Cruscotto delle video-guide INPS</title>\n</head>\n<body>\n"
                   "<header class=\"top\">\n<p class=\"brand\">INPS · video-guide</p>\n"
                   "<form method=\"post\" action=\"/admin/logout\"><button type=\"submit\">"
                   "Esci</button></form>\n</header>\n<main>\n"
                   "<h1>Cruscotto delle video-guide</h1>\n"
                   "<p class=\"lead\">Dati anonimi degli ultimi giorni: nessun nome, codice, "
                   "collegamento o indirizzo viene registrato.</p>\n");
    if (count <= 0) {
        ck_strbuf_puts(&o, "<p>Nessuna campagna caricata.</p>\n</main>\n</body>\n</html>\n");
        return ck_strbuf_take(&o);
    }
    if (selected < 0 || selected >= count)
        selected = 0;
    ck_strbuf_puts(&o, "<nav aria-label=\"Campagne\">\n<ul class=\"campaigns\">\n");
    for (int i = 0; i < count; i++) {
        ck_strbuf_puts(&o, "<li><a href=\"/admin/?c=");
        ck_strbuf_html(&o, reports[i].campaign);
        ck_strbuf_puts(&o, i == selected ? "\" aria-current=\"page\">" : "\">");
        ck_strbuf_html(&o, campaign_title(&reports[i], names ? &names[i] : NULL));
        ck_strbuf_puts(&o, "</a></li>\n");
    }
    ck_strbuf_puts(&o, "</ul>\n</nav>\n");

    const ck_an_report *r = &reports[selected];
    const ck_an_names *nm = names ? &names[selected] : NULL;
    char a[96], b[64], c[160];
    ck_strbuf_puts(&o, "<h2>Campagna «");
    ck_strbuf_html(&o, campaign_title(r, nm));
    ck_strbuf_puts(&o, "»</h2>\n<dl class=\"figures\">\n");
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
    snprintf(c, sizeof c, "su 5, %s %s", it_int(b, sizeof b, nrat),
             nrat == 1 ? "valutazione" : "valutazioni");
    figure(&o, "rating", "Valutazione media", nrat ? it_dec(a, sizeof a, r->rating_avg, 1) : "–",
           c);
    snprintf(c, sizeof c, "mediana, %s %s", it_int(b, sizeof b, r->startup_count),
             r->startup_count == 1 ? "misura" : "misure");
    snprintf(a, sizeof a, "%s s", it_dec(b, sizeof b, r->startup_p50_ms / 1000.0, 2));
    figure(&o, "startup", "Avvio del video", r->startup_count ? a : "–", c);
    ck_strbuf_puts(&o, "</dl>\n");

    ck_strbuf_puts(&o, "<section>\n<h3>Andamento giornaliero</h3>\n");
    chart(&o, r);
    ck_strbuf_puts(&o, "</section>\n<div class=\"cols\">\n");

    /* Completion funnel. */
    ck_strbuf_puts(
        &o, "<section>\n<h3>Quanto del video è stato visto</h3>\n<p class=\"note\">Conta il "
            "tempo davvero riprodotto da ciascun collegamento nel giorno: i salti in avanti non "
            "contano.</p>\n<table>\n<thead><tr>"
            "<th scope=\"col\">Punto del video</th><th scope=\"col\" class=\"num\">Spettatori"
            "</th><th scope=\"col\" class=\"num\">Quota</th></tr></thead>\n<tbody>\n");
    static const char *const marks[4] = {"25%", "metà (50%)", "75%", "fine (100%)"};
    for (int i = 0; i < 4; i++)
        ck_strbuf_printf(
            &o,
            "<tr><td>%s</td><td class=\"num\" id=\"funnel-%d\">%s</td><td class=\"num\">%s</td>"
            "</tr>\n",
            marks[i], (i + 1) * 25, it_int(a, sizeof a, r->funnel[i]),
            pct(b, sizeof b, r->funnel[i], r->viewers));
    ck_strbuf_puts(&o, "</tbody>\n</table>\n</section>\n");

    /* Ratings. */
    ck_strbuf_puts(
        &o, "<section>\n<h3>Valutazioni: «Quanto Le è stata utile questa video-guida?»</h3>\n"
            "<table>\n<thead><tr><th scope=\"col\">Voto</th><th scope=\"col\" class=\"num\">"
            "Risposte</th><th scope=\"col\"><span class=\"sr-only\">Grafico</span></th></tr>"
            "</thead>\n<tbody>\n");
    int64_t rmax = 0;
    for (int i = 0; i < 5; i++)
        rmax = r->ratings[i] > rmax ? r->ratings[i] : rmax;
    for (int i = 4; i >= 0; i--) {
        ck_strbuf_printf(&o, "<tr><td>%d su 5</td><td class=\"num\" id=\"rating-%d\">%s</td><td>",
                         i + 1, i + 1, it_int(a, sizeof a, r->ratings[i]));
        bar(&o, r->ratings[i], rmax);
        ck_strbuf_puts(&o, "</td></tr>\n");
    }
    ck_strbuf_puts(&o, "</tbody>\n</table>\n</section>\n");

    count_table(&o, "Pop-up aperti", "Pop-up", "Aperture", "popup", r->popups, r->popup_count, nm,
                "Nessun pop-up aperto finora.");
    count_table(&o, "Clic sui servizi online", "Servizio", "Clic", "service", r->buttons,
                r->button_count, nm, "Nessun clic sui servizi finora.");

    /* Startup and quality. */
    ck_strbuf_puts(&o,
                   "<section>\n<h3>Avvio e qualità della riproduzione</h3>\n<table>\n<tbody>\n");
    ck_strbuf_printf(&o,
                     "<tr><th scope=\"row\">Avvio, mediana</th><td class=\"num\">%s s</td></tr>\n",
                     it_dec(a, sizeof a, r->startup_p50_ms / 1000.0, 2));
    ck_strbuf_printf(
        &o, "<tr><th scope=\"row\">Avvio, 90° percentile</th><td class=\"num\">%s s</td></tr>\n",
        it_dec(a, sizeof a, r->startup_p90_ms / 1000.0, 2));
    ck_strbuf_printf(
        &o, "<tr><th scope=\"row\">Avvio, 99° percentile</th><td class=\"num\">%s s</td></tr>\n",
        it_dec(a, sizeof a, r->startup_p99_ms / 1000.0, 2));
    ck_strbuf_printf(
        &o,
        "<tr><th scope=\"row\">Interruzioni per caricamento</th><td class=\"num\">%s</td>"
        "</tr>\n",
        it_int(a, sizeof a, r->stalls));
    ck_strbuf_printf(
        &o, "<tr><th scope=\"row\">Errori di riproduzione</th><td class=\"num\">%s</td></tr>\n",
        it_int(a, sizeof a, r->errors));
    ck_strbuf_printf(
        &o,
        "<tr><th scope=\"row\">Sottotitoli attivati / disattivati</th><td class=\"num\">%s / "
        "%s</td></tr>\n",
        it_int(a, sizeof a, r->caption_on), it_int(b, sizeof b, r->caption_off));
    ck_strbuf_printf(
        &o, "<tr><th scope=\"row\">Guide PDF scaricate</th><td class=\"num\">%s</td></tr>\n",
        it_int(a, sizeof a, r->guides));
    ck_strbuf_puts(&o, "</tbody>\n</table>\n</section>\n</div>\n");

    ck_strbuf_puts(&o, "<p class=\"export\"><a href=\"/admin/export.csv?c=");
    ck_strbuf_html(&o, r->campaign);
    ck_strbuf_puts(&o, "\" download>Scarica i dati della campagna (CSV)</a> · "
                       "<a href=\"/admin/export.csv\" download>Scarica i dati di tutte le campagne "
                       "(CSV)</a></p>\n</main>\n</body>\n</html>\n");
    return ck_strbuf_take(&o);
}
