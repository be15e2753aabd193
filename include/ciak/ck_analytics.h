/* ck_analytics.h: anonymous viewing statistics, and the admin dashboard's login.
 *
 * The player sends small batches of events (navigator.sendBeacon, JSON, at most
 * CK_AN_MAX_BODY bytes and CK_AN_MAX_BATCH events) to POST /v/<token>/events. The server
 * verifies the token first (a forged or unknown one is a 404 before anything here runs), then
 * ck_analytics_ingest() validates every event of the batch and stores all of them or none.
 *
 * What is stored, per event, and nothing else:
 *   campaign, day (days since 1970-01-01, UTC), type, item (cue or service id, or an error
 *   code), value (rating, milliseconds, 0/1), viewer key.
 * A rating replaces the same viewer key's earlier rating of that day: one rating per link and
 * day, the later one counts.
 * Watched time is not an event row: `watched` events carry the time ranges the player actually
 * played (its video.played), and each view (campaign, day, viewer key: one link on one day,
 * reloads included) keeps the union of every range it reported, clipped to the video's
 * duration. How much of the video was seen is the length of that union, so seeking to the end
 * reaches nothing; reporting the same ranges again adds nothing.
 * The viewer key is BLAKE2b-64 of the token keyed with the day's salt: 32 random bytes made
 * on the first event of a day and deleted (secure_delete) when the day changes. It counts
 * unique viewers within a day; across days, or once the salt is gone, no one can link keys
 * to each other or to a token. No token, address, user agent, name or person id is stored.
 *
 * Rate limiting: per viewer key (so per link and day), at most `rate_events` events in
 * `rate_window_s`; over it a batch is refused whole (429). The table is bounded.
 *
 * Storage: its own SQLite file (WAL), separate from the people store, so it can be kept,
 * exported or deleted on its own schedule; or, for a fleet, the PostgreSQL database the nodes
 * share (tables events, views, salt next to the people store's), so that every node's events
 * land in one report. The day's salt is then shared (the first node's stays), so a link counts
 * as one viewer whichever node it reaches; the rate limit stays per node (nginx sends a link to
 * one node). Tables are versioned (row 'analytics' of ciak_schema): opening migrates an older
 * schema and refuses a newer one, naming both versions.
 * Thread safety: one ck_analytics may be used from any number of threads (one mutex).
 */
#ifndef CK_ANALYTICS_H
#define CK_ANALYTICS_H

#include "ck_base.h"

#define CK_AN_MAX_BODY    4096 /* bytes of one POST; more: 413 */
#define CK_AN_MAX_BATCH   32   /* events in one POST */
#define CK_AN_ID_MAX      64   /* cue, service and error ids: [a-z0-9_-]{1,64} */
#define CK_AN_MAX_RANGES  16   /* played ranges in one `watched` event */
#define CK_AN_VIEW_RANGES 64   /* disjoint ranges kept per view (more: the shortest go) */
/* A range may end this far past the scene's duration (the stream's last segment and audio
 * round up); it is clipped to the duration when stored. */
#define CK_AN_DURATION_SLACK_S 1.0

/* Event types: enum, wire name, what `item` and `value` hold. */
#define CK_AN_EVENT_LIST(X)                                                                        \
    X(CK_EV_PLAY, "play", "-, 0")                                                                  \
    X(CK_EV_WATCHED, "watched", "-, 0; ranges [[start_s, end_s], ...] played")                     \
    X(CK_EV_POPUP, "popup", "pop-up cue id, 0")                                                    \
    X(CK_EV_BUTTON, "button", "service (button cue) id, 0")                                        \
    X(CK_EV_RATING, "rating", "-, 1..5")                                                           \
    X(CK_EV_CAPTIONS, "captions", "-, 1 on / 0 off")                                               \
    X(CK_EV_STALL, "stall", "-, milliseconds spent waiting (0..600000)")                           \
    X(CK_EV_ERROR, "error", "error code [a-z0-9_-], 0")                                            \
    X(CK_EV_STARTUP, "startup", "-, milliseconds from page start to first frame (0..600000)")      \
    X(CK_EV_GUIDE, "guide", "-, 0 (PDF guide downloaded)")

typedef enum ck_an_event {
#define CK_X_ENUM(e, name, doc) e,
    CK_AN_EVENT_LIST(CK_X_ENUM)
#undef CK_X_ENUM
        CK_EV__COUNT
} ck_an_event;
const char *ck_an_event_name(ck_an_event e);

typedef struct ck_analytics ck_analytics;

/* Zero means default. */
typedef struct ck_analytics_params {
    int rate_events;   /* events per viewer per window; 0: 120 */
    int rate_window_s; /* 0: 600 */
} ck_analytics_params;

/* Opens (creating) the database at `where`: a PostgreSQL URL or libpq keyword string (the
 * rule of ck_store_is_postgres), else a SQLite path. NULL on failure with err set (never
 * repeating the connection string). A PostgreSQL connection that breaks is reset once by the
 * next call; a batch caught by the break answers CK_AN_FAILED and stores nothing. */
ck_analytics *ck_analytics_open(const char *where, const ck_analytics_params *params,
                                ck_error *err);
/* A node's analytics: `db` when it names PostgreSQL (what `--db` gives), else the SQLite file
 * <data_dir>/analytics.db (a `db` that is a SQLite path names the people store only). */
ck_analytics *ck_analytics_open_at(const char *data_dir, const char *db,
                                   const ck_analytics_params *params, ck_error *err);
void ck_analytics_close(ck_analytics **a);

/* Which ids a viewer may report: the pop-up and button cues the page was given (the cues
 * whose `when` holds for that person). Arrays of strings; NULL/0: none allowed. */
typedef struct ck_an_allowed {
    const char *const *popups;
    int popup_count;
    const char *const *buttons;
    int button_count;
    double duration_s; /* the video's duration (the scene's); 0: `watched` events refused */
} ck_an_allowed;

typedef enum ck_an_result {
    CK_AN_STORED,    /* 204 */
    CK_AN_BAD,       /* malformed JSON, unknown type, id or value out of range: 400 */
    CK_AN_TOO_LARGE, /* body over CK_AN_MAX_BODY or batch over CK_AN_MAX_BATCH: 413 */
    CK_AN_LIMITED,   /* rate limit: 429 */
    CK_AN_FAILED     /* database error (not logged: ck_analytics_last_failure says why): 503 */
} ck_an_result;

/* Validates `body` (len bytes, need not be NUL-terminated):
 *   {"events": [{"type": "watched", "ranges": [[0, 12.5], [40, 52.2]]},
 *               {"type": "popup", "id": "cue-id"}, ...]}
 * and stores every event, or none. `ranges`: 1..CK_AN_MAX_RANGES pairs of finite seconds,
 * 0 <= start < end <= duration + CK_AN_DURATION_SLACK_S, ascending and not overlapping (as
 * video.played gives them). `token` only keys the viewer hash; it is not stored.
 * `today` in days since 1970-01-01 (UTC), `now_s` a monotonic clock in seconds (rate limit). */
ck_an_result ck_analytics_ingest(ck_analytics *a, const char *campaign, const char *token,
                                 size_t token_len, const char *body, size_t len,
                                 const ck_an_allowed *allowed, int32_t today, double now_s);

/* Why the last batch ended CK_AN_FAILED ("cannot store events: disk I/O error (Read-only file
 * system)"), into buf; the caller logs it, once per fault rather than per batch. */
void ck_analytics_last_failure(ck_analytics *a, char *buf, size_t size);

/* ---- reports (the dashboard and the CSV export) ---- */
#define CK_AN_MAX_ITEMS 48 /* distinct cue / service ids listed per campaign */
#define CK_AN_MAX_DAYS  92 /* days in the time series */

typedef struct ck_an_count {
    char id[CK_AN_ID_MAX + 1];
    int64_t count;
} ck_an_count;

typedef struct ck_an_day {
    int32_t day;
    int64_t viewers;     /* unique viewer keys (links) that day */
    int64_t plays;       /* play events */
    int64_t completions; /* views that day whose played time covers the video (see below) */
} ck_an_day;

/* A view has seen q % of the video when the union of its played ranges is at least q % of the
 * duration (25, 50, 75); it is complete when what it has not played is at most
 * max(1 s, 2 % of the duration) (the player's first and last frames, small gaps). */
typedef struct ck_an_report {
    char campaign[65];
    int64_t links; /* links issued (people in the store): filled by the caller */
    /* viewers, plays and funnel are sums of the daily rows (days[]): the headline figures and
     * the daily table are one computation and cannot disagree. */
    int64_t viewers;   /* sum over days of unique viewer keys per day */
    int64_t plays;     /* play events */
    int64_t funnel[4]; /* views (viewer-days) that have seen 25, 50, 75 % and the whole video */
    ck_an_count popups[CK_AN_MAX_ITEMS];
    int popup_count;
    ck_an_count buttons[CK_AN_MAX_ITEMS];
    int button_count;
    int64_t ratings[5]; /* how many gave 1..5 */
    double rating_avg;  /* 0 when none */
    int64_t startup_count;
    double startup_p50_ms, startup_p90_ms, startup_p99_ms;
    int64_t stalls, errors, caption_on, caption_off, guides;
    ck_an_day days[CK_AN_MAX_DAYS]; /* oldest first, every day of the range (zeros included) */
    int day_count;
} ck_an_report;

/* What the dashboard calls things: titles taken from the scene by the caller (this module
 * knows no scenes). An id without a title is shown as is. Titles must be plain text, never a
 * template that could carry a person's data. */
typedef struct ck_an_label {
    const char *id, *title;
} ck_an_label;

typedef struct ck_an_names {
    const char *campaign;    /* the campaign's title; NULL: its id */
    const ck_an_label *cues; /* pop-up and button (service) cues */
    int cue_count;
} ck_an_names;

/* The report of one campaign over days [from, to] (inclusive; the range is clipped to the
 * last CK_AN_MAX_DAYS days). */
ck_status ck_analytics_report(ck_analytics *a, const char *campaign, int32_t from, int32_t to,
                              ck_an_report *out, ck_error *err);
/* The campaigns that have events, malloc'd array of malloc'd strings (free with
 * ck_analytics_free_list); *count gets the length. */
ck_status ck_analytics_campaigns(ck_analytics *a, char ***list, int *count, ck_error *err);
void ck_analytics_free_list(char **list, int count);

/* CSV (malloc'd): one row per (campaign, day, type, item) with events and unique viewers:
 *   campaign,day,type,item,events,viewers,value_sum
 * plus, per (campaign, day), one `watched` row per share reached (item 0, 25, 50, 75 or 100:
 * the highest reached, 100 = complete) with the views, the views again and the seconds
 * played. `campaign` NULL: every campaign. No viewer key is exported. */
char *ck_analytics_csv(ck_analytics *a, const char *campaign, ck_error *err);

/* Counts rows (tests). */
int64_t ck_analytics_event_count(ck_analytics *a);

/* ---- the dashboard page (dashboard.c) ---- */
/* The dashboard HTML (malloc'd): campaign picker, figures, funnel, pop-ups, services, ratings,
 * startup percentiles, an inline SVG chart of the daily series, CSV export link. `reports`
 * has `count` entries, `names` (NULL: ids only) as many; `selected` is the index shown in
 * detail. */
char *ck_dashboard_html(const ck_an_report *reports, const ck_an_names *names, int count,
                        int selected);
/* The login page (malloc'd); `failed` adds the "wrong password" message. */
char *ck_dashboard_login_html(bool failed);

/* ---- admin login ---- */
/* The admin credential is one line:
 *   password $argon2id$...          crypto_pwhash_str of a password, or
 *   token-sha256 HEX                SHA-256 of a long random token (at least 20 characters)
 * One node keeps it in a file (<data-dir>/admin, mode 0600) and its sessions in memory (a
 * restart logs everyone out). A fleet keeps both in PostgreSQL (tables ciak_admin and
 * ciak_admin_sessions, row 'admin' of ciak_schema), so a session made on one node is valid on
 * every node, and a logout ends it everywhere; a session row holds the SHA-256 of the cookie
 * value, never the value, and expires by the database's clock (one clock for every node).
 * Sessions: 32 random bytes in a cookie (HttpOnly; Secure; SameSite=Strict; Path=/admin), with
 * an 8-hour lifetime. The credential is read when the ck_admin is made: a new password takes
 * effect at the next start (and ends every PostgreSQL session at once). */
typedef struct ck_admin ck_admin;

/* NULL with err set when the file is missing, unreadable by its owner only, or malformed:
 * the server then answers /admin/ with 404 (no dashboard without a credential). */
ck_admin *ck_admin_create(const char *path, ck_error *err);
/* A node's admin: PostgreSQL when `db` names it (migrating its tables; CK_ERR_NOT_FOUND when no
 * credential was stored there), else ck_admin_create(<data_dir>/admin). */
ck_admin *ck_admin_open_at(const char *data_dir, const char *db, ck_error *err);
/* Stores a credential line (as ck_admin_hash_password writes it) where ck_admin_open_at reads
 * it: the PostgreSQL row (every session ends), or <data_dir>/admin written atomically with mode
 * 0600. What `ciak admin-password` does. */
ck_status ck_admin_save(const char *data_dir, const char *db, const char *line, ck_error *err);
void ck_admin_destroy(ck_admin **a);
/* Checks a password or token (constant time for the token). */
bool ck_admin_check(ck_admin *a, const char *secret, size_t len);
/* A new session; writes the cookie value (64 hex digits + NUL). `now_s`: the caller's clock
 * (in-memory sessions; PostgreSQL ones use the database's). When PostgreSQL cannot store it,
 * the error is logged and the session is not valid (the login page comes back). */
void ck_admin_session_new(ck_admin *a, double now_s, char out[65]);
/* True when the Cookie header holds a live session (false too when the database cannot be
 * asked). */
bool ck_admin_session_ok(ck_admin *a, const char *cookie_header, double now_s);
void ck_admin_session_end(ck_admin *a, const char *cookie_header);
/* Writes a credential line for `password` into `out` (crypto_pwhash_str). */
ck_status ck_admin_hash_password(const char *password, char *out, size_t size, ck_error *err);

#endif
