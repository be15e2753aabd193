/* guide_content.c: the texts of the PDF guides, in Italian, as templates over each scene's
 * fields. Wording follows the INPS notices on the video-guides (obligations to keep the
 * benefit, online services, healthy ageing, fraud attempts); a designer edits them here until
 * the scene format gets a `guide` section. A template that does not compile against the scene
 * (a renamed field) is left out with a warning in the log, never printed raw. */
#include "guide_internal.h"

#include <string.h>

const char guide_greeting[] =
    "{{gender|F:Gentile signora|M:Gentile signor}} {{first_name|name}} {{last_name|name}},";
const char guide_salute[] = "{{gender|F:Gentile signora|M:Gentile signore}},";

/* RED: the person holds at least one income-linked benefit. */
#define ANY_BENEFIT                                                                                \
    "benefits has \"quattordicesima\" or benefits has \"integrazione_minimo\" or "                 \
    "benefits has \"maggiorazione_sociale\" or benefits has \"assegni_nucleo_familiare\" or "      \
    "benefits has \"importo_aggiuntivo\""

static const guide_campaign_src campaigns[] = {
    {
        .id = "assegno-sociale",
        .topic = "Assegno sociale",
        .title = "La sua guida all'Assegno sociale",
        .intro = "la sua domanda di Assegno sociale è stata accolta. In questa guida trova le "
                 "date e gli importi del suo assegno, gli obblighi da rispettare per "
                 "mantenerlo e i servizi online che può usare in autonomia.",
        .facts =
            {
                {"Data del provvedimento", "{{decision_date|date}}", NULL},
                {"Primo pagamento", "{{first_payment_date|weekday_date}}", NULL},
                {"Importo mensile", "{{amount|euro}}", NULL},
                {"Trattenute mensili", "{{deductions|euro}}", NULL},
                {"Importo netto mensile", "{{net_amount|euro}}", NULL},
                {"Arretrati con la prima rata", "{{arrears|euro}}", "arrears > 0"},
            },
        .duties_title = "Gli obblighi per mantenere l'Assegno sociale",
        .duties =
            {
                {"Abitare in Italia in modo stabile e continuativo. Se resta all'estero per più "
                 "di 29 giorni, il pagamento viene sospeso; dopo un anno di assenza l'assegno "
                 "viene revocato.",
                 NULL},
                {"Comunicare all'INPS ogni ricovero in un istituto o in una struttura sanitaria "
                 "pubblica, o con retta a carico di un ente pubblico: l'importo dell'assegno "
                 "può cambiare.",
                 NULL},
                {"Dichiarare ogni anno i suoi redditi e, se è "
                 "{{gender|F:sposata|M:sposato}}, quelli del coniuge, con la dichiarazione "
                 "reddituale (RED), anche con il servizio RED precompilato.",
                 NULL},
                {"Comunicare subito all'INPS i cambi di indirizzo, di stato civile e dei "
                 "redditi.",
                 NULL},
            },
    },
    {
        .id = "naspi-accolta",
        .topic = "NASpI",
        .title = "La sua guida alla NASpI",
        .intro = "la sua domanda di NASpI, l'indennità di disoccupazione, è stata accolta. In "
                 "questa guida trova le date e gli importi, i suoi impegni e i servizi online "
                 "che può usare in autonomia.",
        .facts =
            {
                {"Data del provvedimento", "{{decision_date|date}}", NULL},
                {"Primo pagamento", "{{first_payment_date|weekday_date}}", NULL},
                {"Importo mensile lordo iniziale", "{{monthly_amount|euro}}", NULL},
                {"Durata", "{{weeks|plural:settimana:settimane}}", NULL},
            },
        .duties_title = "I suoi impegni per mantenere la NASpI",
        .duties =
            {
                {"Comunicare all'INPS con il servizio NASpI-Com, entro 30 giorni, l'inizio di "
                 "un nuovo lavoro o di un'attività autonoma, indicando il reddito annuo "
                 "previsto.",
                 NULL},
                {"Partecipare alle iniziative del Centro per l'impiego previste dal patto di "
                 "servizio: colloqui, orientamento, formazione.",
                 NULL},
                {"Tenere presente che dal sesto mese l'importo si riduce del 3% ogni mese; "
                 "dall'ottavo mese se ha compiuto 55 anni.",
                 NULL},
                {"Tenere aggiornati i suoi contatti e l'IBAN per ricevere i pagamenti.", NULL},
            },
    },
    {
        .id = "neopensionato",
        .topic = "La sua pensione",
        .title = "La sua guida alla pensione",
        .intro = "la sua pensione è pronta. In questa guida trova la data del primo pagamento, "
                 "gli importi e i servizi online per seguire la sua pensione in autonomia.",
        .facts =
            {
                {"Tipo di pensione", "{{pension_type}}", NULL},
                {"Data del provvedimento", "{{decision_date|date}}", NULL},
                {"Primo pagamento", "{{first_payment_date|weekday_date}}", NULL},
                {"Importo mensile lordo", "{{gross_amount|euro}}", NULL},
                {"Importo mensile netto", "{{net_amount|euro}}", NULL},
            },
        .duties_title = "Cosa fare per la sua pensione",
        .duties =
            {
                {"Controllare ogni mese il cedolino della pensione: mostra l'importo lordo, le "
                 "trattenute e il netto che riceve.",
                 NULL},
                {"Scaricare ogni anno la Certificazione Unica, che serve per la dichiarazione "
                 "dei redditi.",
                 NULL},
                {"Se riceve prestazioni collegate al reddito, dichiarare ogni anno i redditi "
                 "con la dichiarazione reddituale (RED).",
                 NULL},
                {"Tenere aggiornati in MyINPS il suo numero di cellulare e l'indirizzo e-mail, "
                 "per ricevere gli avvisi dell'INPS.",
                 NULL},
            },
    },
    {
        .id = "red-sollecito",
        .topic = "Dichiarazione RED",
        .title = "La sua guida al modello RED",
        .popups_title = "I redditi da dichiarare per le sue prestazioni",
        .intro = "non abbiamo ancora ricevuto la sua dichiarazione dei redditi, il modello RED. "
                 "Serve a verificare il diritto alle prestazioni collegate al reddito che "
                 "riceve con la pensione. In questa guida trova cosa dichiarare e come "
                 "inviarla.",
        .facts =
            {
                {"Data della lettera di sollecito", "{{letter_date|date}}", NULL},
                {"Anno dei redditi da dichiarare", "2020", NULL},
                {"Prestazioni collegate al reddito", "{{benefits|list}}", ANY_BENEFIT},
            },
        .deadline_label = "Scadenza per inviare la dichiarazione",
        .duties_title = "Cosa deve fare",
        .duties =
            {
                {"Inviare la dichiarazione RED entro la scadenza indicata qui sopra. Senza la "
                 "dichiarazione, le prestazioni pagate in via provvisoria possono essere "
                 "sospese e poi revocate, e le somme non dovute richieste indietro.",
                 NULL},
                {"Dichiarare i redditi richiesti per ciascuna prestazione che riceve: "
                 "{{benefits|list}}. Quali sono, per ciascuna, lo trova più avanti in questa "
                 "guida.",
                 ANY_BENEFIT},
                {"Usare il servizio RED precompilato, che propone i dati già in possesso "
                 "dell'INPS, oppure rivolgersi gratuitamente a un CAF o a un professionista "
                 "abilitato.",
                 NULL},
                {"Verificare con il Consulente digitale delle pensioni se ha diritto ad altre "
                 "prestazioni collegate al reddito.",
                 NULL},
            },
    },
};

const guide_campaign_src *guide_campaign_find(const char *id)
{
    for (size_t i = 0; id && i < CK_ARRAY_LEN(campaigns); i++)
        if (strcmp(campaigns[i].id, id) == 0)
            return &campaigns[i];
    return NULL;
}

const guide_src guide_generic_duties[] = {
    {"Comunicare subito all'INPS i cambi di indirizzo, di stato civile e dei redditi.", NULL},
    {"Tenere aggiornati in MyINPS il suo numero di cellulare e l'indirizzo e-mail.", NULL},
    {NULL, NULL},
};

const char *const guide_health[] = {
    "Si muova ogni giorno: una passeggiata di almeno 30 minuti a passo svelto fa bene al cuore, "
    "alle ossa e all'umore.",
    "Mangi in modo vario, con frutta e verdura ogni giorno, poco sale e pochi zuccheri.",
    "Beva acqua spesso, anche quando non ha sete, soprattutto d'estate. Nelle giornate molto "
    "calde resti in casa nelle ore più calde, dalle 11 alle 18.",
    "Parli con il suo medico di famiglia delle vaccinazioni raccomandate, come quella contro "
    "l'influenza, e dei controlli utili alla sua età.",
    "Renda sicura la casa: buona illuminazione, tappeti fissati, un tappetino antiscivolo nella "
    "doccia. Molte cadute si possono evitare.",
    "Coltivi le relazioni: amici, familiari, volontariato e attività di gruppo aiutano a "
    "restare in salute.",
    NULL,
};

const char *const guide_fraud[] = {
    "L'INPS non le chiederà mai, per telefono, e-mail, SMS o messaggio, i suoi dati personali, "
    "le credenziali SPID o CIE, i codici della carta o del conto.",
    "L'INPS non invia collegamenti per ricevere rimborsi o per «aggiornare i dati». Non apra "
    "collegamenti arrivati da numeri o indirizzi sconosciuti.",
    "Nessun dipendente dell'INPS viene a casa sua per controllare la pensione o per ritirare "
    "denaro o documenti. Non apra la porta a chi si presenta così.",
    "Diffidi di chi le mette fretta: l'urgenza è il trucco più usato. In caso di dubbio chiami "
    "il Contact Center INPS.",
    "Se pensa di aver subito una truffa, chiami il 112 e presenti denuncia alla Polizia di Stato "
    "o ai Carabinieri. Può segnalare i tentativi online alla Polizia Postale, sul sito "
    "www.commissariatodips.it.",
    NULL,
};

const char *const guide_help[] = {
    "Contact Center INPS: 803 164, gratuito da rete fissa, oppure 06 164 164 da cellulare "
    "(a pagamento secondo il suo operatore).",
    "Area riservata MyINPS sul sito www.inps.it, con SPID, CIE o CNS, e l'app INPS Mobile.",
    "Gli uffici INPS della sua zona, i patronati e i CAF, che offrono assistenza gratuita.",
    NULL,
};
