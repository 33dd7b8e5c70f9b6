/*
 * fetch: the device's HTTP client, libcurl with one easy handle reused
 * for every request (keep-alive: one TCP connection while the server keeps
 * it open).
 *
 * fetch_range() asks for bytes first..last of the image with
 * "Range: bytes=first-last" and "If-Range: <ETag>" and hands the body to a
 * sink, judging the answer the way docs/integration.md tabulates:
 *   206 of our range, our ETag   -> the bytes go to the sink
 *   200 with our ETag            -> no Range support: the bytes before
 *                                   first are skipped, first..last go to
 *                                   the sink, the transfer is dropped
 *   200/206 with another ETag,   -> FETCH_CHANGED: the image changed
 *   412, 416, another size
 *   any other status             -> FETCH_HTTP (404, 5xx...)
 *   connect failure, reset,      -> FETCH_NET
 *   stall, short body
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

enum fetch_rc {
    FETCH_OK = 0,  /* done: the whole range went to the sink */
    FETCH_CHANGED, /* the server's image is not the one asked for */
    FETCH_AGAIN,   /* the sink wants the rest no more */
    FETCH_SINK,    /* the sink failed (the engine stopped) */
    FETCH_HTTP,    /* an unexpected HTTP status (fetch.status) */
    FETCH_NET      /* no usable answer: connect, reset, stall, short */
};

struct fetch_opts {
    long connect_timeout_ms;
    long stall_bps; /* a transfer slower than this ... */
    long stall_s;   /* ... for this many seconds is dropped */
    unsigned boot;  /* sent as X-Fwr-Boot (servers' logs per boot) */
};

#define FETCH_ETAG_MAX 256

struct fetch {
    CURL *h;
    struct fetch_opts o;
    char err[CURL_ERROR_SIZE];
    /* The last response. */
    long status;
    char etag[FETCH_ETAG_MAX]; /* as sent, quotes included; "" none */
    int have_range;            /* Content-Range: bytes cr_first-cr_last/.. */
    uint64_t cr_first, cr_last, cr_total; /* cr_total UINT64_MAX: '*' */
    int have_length;
    uint64_t length;                /* Content-Length */
    char why[FETCH_ETAG_MAX + 256]; /* what went wrong, for messages */
    uint64_t body_bytes; /* image body bytes received, all requests */
    unsigned requests;
};

/* Returns 0, or -1 when libcurl cannot be set up. */
int fetch_init(struct fetch *f, const struct fetch_opts *o);
void fetch_free(struct fetch *f);

/* GET url into buf (NUL-terminated; a body of cap bytes or more is an
 * error). FETCH_OK only for a 200. */
enum fetch_rc fetch_small(struct fetch *f, const char *url, char *buf,
                          size_t cap);

/* HEAD url: status, etag and length filled. FETCH_OK only for a 200. */
enum fetch_rc fetch_head(struct fetch *f, const char *url);

/* Hand len body bytes over: 0 go on, 1 the rest is not wanted (stop,
 * FETCH_AGAIN), -1 failure (stop, FETCH_SINK). */
typedef int (*fetch_sink)(void *user, const void *buf, size_t len);

/*
 * Bytes first..last (inclusive) of an image of total bytes whose ETag is
 * etag ("" none: no If-Range, and a response's ETag is not compared;
 * weak ETags are never sent in If-Range). *fed: bytes the sink took.
 */
enum fetch_rc fetch_range(struct fetch *f, const char *url, uint64_t first,
                          uint64_t last, uint64_t total, const char *etag,
                          fetch_sink sink, void *user, uint64_t *fed);

#endif /* FETCH_H */
