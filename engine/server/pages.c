/* pages.c: the HTML the server answers with when it cannot show a video-guide: 404, 410, 429,
 * 500, 503 (two: a failure, and a busy or draining node for a new viewer, which reloads
 * itself). They look like the player page (INPS header and blue, large type; the style is
 * inline, so a page shows right even when /static is what fails), speak Italian to the viewer
 * as "Lei", and say what to do next and whom to call, because the viewers are mostly elderly
 * people who reached us from a paper letter. Nothing personal is on them: a bad link may be
 * someone else's. The player page itself is made per person by engine/guide
 * (ck_guide_player_html), served from viewer.c. */
#include "ck_template.h"
#include "server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The colours and sizes of web/player.css (INPS blue #0b3d91, text at least 7:1). */
#define STYLE                                                                                      \
    "<style>\n"                                                                                    \
    ":root{font-size:112.5%}*{box-sizing:border-box}"                                              \
    "body{margin:0;font-family:\"Titillium Web\",system-ui,-apple-system,\"Segoe UI\",Roboto,"     \
    "\"DejaVu Sans\",sans-serif;line-height:1.5;color:#1a1a1a;background:#fff}"                    \
    "a{color:#0047bb}a:focus-visible{outline:4px solid #ffbf47;outline-offset:2px;"                \
    "box-shadow:0 0 0 7px #072a66}"                                                                \
    ".top{background:#0b3d91;color:#fff;padding:.6rem 1rem}.top p{margin:0;font-size:1rem}"        \
    ".logo{font-weight:700;font-size:1.25rem;letter-spacing:.05em;margin-right:.4rem}"             \
    "main{max-width:40rem;margin:0 auto;padding:0 1rem 2rem}"                                      \
    "h1{font-size:1.6rem;line-height:1.2;color:#0b3d91;margin:1.2rem 0 .6rem}"                     \
    "h2{font-size:1.25rem;color:#0b3d91;margin:1.5rem 0 .4rem}li{margin:.3rem 0}"                  \
    ".help{background:#f2f2f2;padding:1rem;font-size:.95rem}"                                      \
    ".help p{max-width:40rem;margin:.3rem auto}.help a{font-weight:700}\n"                         \
    "</style>\n"

#define HEAD_OPEN                                                                                  \
    "<!doctype html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n"                      \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                   \
    "<meta name=\"robots\" content=\"noindex\">\n"                                                 \
    "<link rel=\"icon\" href=\"/favicon.ico\" sizes=\"32x32\">\n<title>"
#define HEAD_CLOSE                                                                                 \
    " - INPS</title>\n" STYLE "</head>\n<body>\n<header class=\"top\">\n"                          \
    "<p><span class=\"logo\">INPS</span> <span>La sua video-guida personale</span></p>\n"          \
    "</header>\n<main>\n"
#define HEAD(title) HEAD_OPEN title HEAD_CLOSE

/* Where to find the same information, and whom to call (as on the player page). */
#define MYINPS                                                                                     \
    "<li>Può trovare le stesse informazioni nell'area riservata <a "                              \
    "href=\"https://www.inps.it/\">MyINPS</a> del sito www.inps.it, accedendo con SPID, CIE o "    \
    "CNS, oppure nell'app INPS Mobile.</li>\n"
#define FOOT                                                                                       \
    "</main>\n<footer class=\"help\">\n<p>Serve aiuto? Chiami il Contact Center INPS: "            \
    "<a href=\"tel:803164\">803 164</a> (gratuito da rete fissa) oppure "                          \
    "<a href=\"tel:+3906164164\">06 164 164</a> (da cellulare, secondo la tariffa del suo "        \
    "operatore).</p>\n"                                                                            \
    "<p>L'INPS non le chiederà mai dati personali, codici o denaro per telefono, e-mail o "       \
    "SMS.</p>\n</footer>\n</body>\n</html>\n"

#define GONE_HEAD                                                                                  \
    HEAD("Video-guida non più disponibile")                                                        \
    "<h1>Questa video-guida non è più disponibile</h1>\n"

#define GONE_BODY                                                                                  \
    " Ci scusiamo per l'inconveniente.</p>\n"                                                      \
    "<h2>Cosa può fare</h2>\n<ul>\n" MYINPS                                                        \
    "<li>Se ha bisogno di chiarimenti sulla sua pratica, chiami il Contact Center: i numeri "      \
    "sono qui sotto.</li>\n</ul>\n" FOOT

const char srv_page_gone[] = GONE_HEAD "<p>La video-guida personale si poteva vedere per un "
                                       "periodo limitato, che si è concluso." GONE_BODY;

char *srv_page_gone_until(int32_t last_day)
{
    char date[64];
    if (ck_it_date(date, sizeof date, last_day) == 0)
        return NULL;
    /* "fino al 5 gennaio", but "fino all'1", "all'8", "all'11". */
    const char *al =
        strncmp(date, "1 ", 2) == 0 || strncmp(date, "8 ", 2) == 0 || strncmp(date, "11 ", 3) == 0
            ? "all'"
            : "al ";
    size_t size = sizeof GONE_HEAD + sizeof GONE_BODY + 256;
    char *page = malloc(size);
    if (page)
        snprintf(page, size,
                 "%s<p>La video-guida personale si poteva vedere fino %s%s; quel periodo si è "
                 "concluso.%s",
                 GONE_HEAD, al, date, GONE_BODY);
    return page;
}

const char srv_page_not_found[] =
    HEAD("Pagina non trovata") "<h1>Pagina non trovata</h1>\n"
                               "<p>Il collegamento che ha aperto non è valido o non è "
                               "completo.</p>\n<h2>Cosa può fare</h2>\n<ul>\n"
                               "<li>Se ha inquadrato il codice QR della lettera, lo inquadri "
                               "di nuovo con il foglio ben disteso e illuminato.</li>\n"
                               "<li>Se ha scritto l'indirizzo a mano, controlli di averlo "
                               "copiato per intero, lettera per lettera: maiuscole e minuscole "
                               "sono diverse.</li>\n" MYINPS "</ul>\n" FOOT;

const char srv_page_too_many[] =
    HEAD("Troppi tentativi") "<h1>Troppi tentativi</h1>\n"
                             "<p>Il collegamento che ha aperto non è valido, e dalla sua rete "
                             "ne sono arrivati molti altri non validi in poco tempo: per "
                             "qualche minuto non possiamo controllarne altri.</p>\n"
                             "<h2>Cosa può fare</h2>\n<ul>\n"
                             "<li>Attenda qualche minuto, poi inquadri di nuovo il codice QR "
                             "della lettera o controlli di aver copiato l'indirizzo per "
                             "intero.</li>\n" MYINPS "</ul>\n" FOOT;

const char srv_page_error[] =
    HEAD("Servizio momentaneamente non disponibile") "<h1>Servizio momentaneamente non "
                                                     "disponibile</h1>\n"
                                                     "<p>Non siamo riusciti a preparare la "
                                                     "video-guida in questo momento.</p>\n"
                                                     "<h2>Cosa può fare</h2>\n<ul>\n"
                                                     "<li>Riprovi tra qualche minuto: può "
                                                     "ricaricare la pagina senza "
                                                     "problemi.</li>\n" MYINPS "</ul>\n" FOOT;

/* The head with a reload after 20 s: the viewer need not do anything to try again. */
#define HEAD_RELOAD(title)                                                                         \
    HEAD_OPEN title " - INPS</title>\n<meta http-equiv=\"refresh\" content=\"20\">\n" STYLE        \
                    "</head>\n<body>\n<header class=\"top\">\n"                                    \
                    "<p><span class=\"logo\">INPS</span> <span>La sua video-guida "                \
                    "personale</span></p>\n</header>\n<main>\n"

const char srv_page_busy[] =
    HEAD_RELOAD("Molte richieste in questo momento") "<h1>Molte richieste in questo "
                                                     "momento</h1>\n"
                                                     "<p>In questo momento molte persone stanno "
                                                     "guardando la propria video-guida e "
                                                     "preparare la sua richiederebbe un'attesa "
                                                     "troppo lunga. Il suo collegamento resta "
                                                     "valido.</p>\n"
                                                     "<h2>Cosa può fare</h2>\n<ul>\n"
                                                     "<li>Non deve fare nulla: questa pagina "
                                                     "si ricarica da sola tra pochi secondi. "
                                                     "Se preferisce, riprovi più tardi con lo "
                                                     "stesso collegamento.</li>\n" MYINPS
                                                     "</ul>\n" FOOT;

const char srv_page_internal[] =
    HEAD("Si è verificato un problema") "<h1>Si è verificato un problema</h1>\n"
                                        "<p>Qualcosa non ha funzionato da parte nostra nel "
                                        "preparare questa pagina. Ci scusiamo per "
                                        "l'inconveniente.</p>\n<h2>Cosa può fare</h2>\n<ul>\n"
                                        "<li>Riprovi tra qualche minuto.</li>\n" MYINPS
                                        "</ul>\n" FOOT;

/* ---- the favicon ---- */
/* A 32x32 ICO drawn here (no file to ship or lose): the white "i" of information on an INPS
 * blue rounded square. 32-bit BGRA with alpha, bottom-up rows, then an empty AND mask. */
#define ICON_PX  32
#define ICON_LEN (6 + 16 + 40 + ICON_PX * ICON_PX * 4 + ICON_PX * 4)
static uint8_t icon[ICON_LEN];
static pthread_once_t icon_once = PTHREAD_ONCE_INIT;

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

/* Whether pixel (x, y), y from the top, is inside the rounded square / the "i". */
static bool in_square(double x, double y)
{
    const double r = 7, lo = r, hi = ICON_PX - r;
    double dx = x < lo ? lo - x : x > hi ? x - hi : 0, dy = y < lo ? lo - y : y > hi ? y - hi : 0;
    return dx * dx + dy * dy <= r * r;
}

static bool in_letter(double x, double y)
{
    double dx = x - 16, dy = y - 8.5;
    return dx * dx + dy * dy <= 3.2 * 3.2 || (x >= 13.5 && x <= 18.5 && y >= 13 && y <= 26);
}

static void icon_draw(void)
{
    uint8_t *p = icon;
    put16(p + 2, 1); /* ICONDIR: type icon, one image */
    put16(p + 4, 1);
    p += 6;
    p[0] = p[1] = ICON_PX; /* ICONDIRENTRY */
    put16(p + 4, 1);
    put16(p + 6, 32);
    put32(p + 8, ICON_LEN - 22);
    put32(p + 12, 22);
    p += 16;
    put32(p, 40); /* BITMAPINFOHEADER: the height counts the colour and mask halves */
    put32(p + 4, ICON_PX);
    put32(p + 8, ICON_PX * 2);
    put16(p + 12, 1);
    put16(p + 14, 32);
    put32(p + 20, ICON_PX * ICON_PX * 4 + ICON_PX * 4);
    p += 40;
    for (int row = 0; row < ICON_PX; row++) {
        double y = ICON_PX - 1 - row + 0.5; /* bottom-up */
        for (int col = 0; col < ICON_PX; col++, p += 4) {
            double x = col + 0.5;
            if (!in_square(x, y))
                continue; /* transparent */
            bool white = in_letter(x, y);
            p[0] = white ? 0xff : 0x91; /* B G R A: #0b3d91 */
            p[1] = white ? 0xff : 0x3d;
            p[2] = white ? 0xff : 0x0b;
            p[3] = 0xff;
        }
    }
    /* The AND mask stays zero: the alpha channel says what is transparent. */
}

const uint8_t *srv_favicon(size_t *len)
{
    pthread_once(&icon_once, icon_draw);
    *len = sizeof icon;
    return icon;
}
