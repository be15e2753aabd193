/* pages.c: the HTML the server answers with. Plain, large type, Italian, no scripts except
 * the player's; every page says where to go next (MyINPS, the contact centre), because the
 * viewers are mostly elderly people who reached us from a paper letter. The player page itself
 * is made per person by engine/guide (ck_guide_player_html), served from viewer.c. */
#include "server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_OPEN                                                                                  \
    "<!doctype html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n"                      \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                   \
    "<meta name=\"robots\" content=\"noindex\">\n<title>"
#define HEAD_CLOSE                                                                                 \
    "</title>\n<style>body{font-family:system-ui,sans-serif;font-size:1.25rem;line-height:1.5;"    \
    "max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"                               \
    "a{color:#0047bb}video{width:100%;background:#000}</style>\n</head>\n<body>\n"
#define HEAD(title) HEAD_OPEN title HEAD_CLOSE

#define HELP                                                                                       \
    "<p>Può trovare le stesse informazioni nell'area riservata <a "                               \
    "href=\"https://www.inps.it/\">MyINPS</a> del sito www.inps.it, accedendo "                    \
    "con SPID, CIE o CNS, oppure nell'app INPS Mobile.</p>\n"                                      \
    "<p>Per assistenza può chiamare il Contact Center INPS: 803 164 (gratuito da rete fissa) "    \
    "oppure 06 164 164 (da cellulare).</p>\n</body>\n</html>\n"

const char srv_page_gone[] =
    HEAD("Video-guida non più disponibile") "<h1>Questa video-guida non è più disponibile</h1>\n"
                                            "<p>Gentile utente, la video-guida personalizzata era "
                                            "consultabile per un periodo "
                                            "limitato, che si è concluso. Ci scusiamo per "
                                            "l'inconveniente.</p>\n" HELP;

const char srv_page_not_found[] =
    HEAD("Pagina non trovata") "<h1>Pagina non trovata</h1>\n"
                               "<p>Il collegamento non è valido. Se lo ha copiato a mano, "
                               "controlli di averlo scritto per "
                               "intero; se ha inquadrato il codice QR della lettera, provi di "
                               "nuovo.</p>\n" HELP;

const char srv_page_too_many[] =
    HEAD("Troppi tentativi") "<h1>Troppi tentativi</h1>\n"
                             "<p>Abbiamo ricevuto molte richieste non valide da questa "
                             "connessione. Riprovi tra qualche "
                             "minuto.</p>\n" HELP;

const char srv_page_error[] =
    HEAD("Servizio momentaneamente non disponibile") "<h1>Servizio momentaneamente non "
                                                     "disponibile</h1>\n<p>Non siamo riusciti a "
                                                     "preparare la video-guida in questo momento. "
                                                     "Riprovi tra qualche minuto.</p>\n" HELP;
