#define _POSIX_C_SOURCE 200809L

#include "fetch.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ headers */

/* Does the header line p (n bytes) carry header name? Returns the value,
 * trimmed (its length in *vlen), or NULL. */
static const char *header_value(const char *p, size_t n, const char *name,
                                size_t *vlen)
{
    size_t k = strlen(name);
    const char *v, *e = p + n;
    if (n <= k || strncasecmp(p, name, k) != 0 || p[k] != ':')
        return NULL;
    v = p + k + 1;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v &&
           (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *vlen = (size_t)(e - v);
    return v;
}

static int parse_u64(const char **p, const char *e, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    if (s >= e || !isdigit((unsigned char)*s))
        return -1;
    while (s < e && isdigit((unsigned char)*s)) {
        if (v > (UINT64_MAX - 9u) / 10u)
            return -1;
        v = v * 10u + (uint64_t)(*s - '0');
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

/* "bytes first-last/total", or "bytes *\/total" (416). */
static void parse_content_range(struct fetch *f, const char *v, size_t n)
{
    const char *e = v + n;
    f->have_range = 0;
    if (n < 6 || strncasecmp(v, "bytes ", 6) != 0)
        return;
    v += 6;
    if (v < e && *v == '*') {
        v++;
        f->cr_first = f->cr_last = UINT64_MAX;
    } else if (parse_u64(&v, e, &f->cr_first) || v >= e || *v++ != '-' ||
               parse_u64(&v, e, &f->cr_last)) {
        return;
    }
    if (v >= e || *v++ != '/')
        return;
    if (v < e && *v == '*')
        f->cr_total = UINT64_MAX;
    else if (parse_u64(&v, e, &f->cr_total))
        return;
    f->have_range = 1;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *user)
{
    struct fetch *f = user;
    size_t n = size * nmemb, vlen;
    const char *v;

    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or a 100): forget the last. */
        f->etag[0] = 0;
        f->have_range = f->have_length = 0;
    } else if ((v = header_value(p, n, "ETag", &vlen)) != NULL) {
        if (vlen >= sizeof(f->etag))
            vlen = sizeof(f->etag) - 1; /* longer ETags are cut, alike */
        memcpy(f->etag, v, vlen);
        f->etag[vlen] = 0;
    } else if ((v = header_value(p, n, "Content-Range", &vlen)) != NULL) {
        parse_content_range(f, v, vlen);
    } else if ((v = header_value(p, n, "Content-Length", &vlen)) != NULL) {
        const char *s = v;
        f->have_length = parse_u64(&s, v + vlen, &f->length) == 0;
    }
    return n;
}

/* ------------------------------------------------------------ setup */

int fetch_init(struct fetch *f, const struct fetch_opts *o)
{
    memset(f, 0, sizeof(*f));
    f->o = *o;
    f->h = curl_easy_init();
    if (!f->h)
        return -1;
    curl_easy_setopt(f->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, f->err);
    curl_easy_setopt(f->h, CURLOPT_USERAGENT, "fwresume-http_update/0.3");
    curl_easy_setopt(f->h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    /* A stalled transfer (server or path gone quiet) is dropped and the
     * request retried; the engine keeps what it has. */
    curl_easy_setopt(f->h, CURLOPT_LOW_SPEED_LIMIT, o->stall_bps);
    curl_easy_setopt(f->h, CURLOPT_LOW_SPEED_TIME, o->stall_s);
    curl_easy_setopt(f->h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(f->h, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(f->h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(f->h, CURLOPT_MAXREDIRS, 3L);
    /* A device has no proxy environment: the host's must not leak in. */
    curl_easy_setopt(f->h, CURLOPT_PROXY, "");
    /* No Accept-Encoding: byte ranges are of the identity encoding. */
    return 0;
}

void fetch_free(struct fetch *f)
{
    if (f->h)
        curl_easy_cleanup(f->h);
    f->h = NULL;
}

/* Per-request headers: the boot number, and If-Range when given. */
static struct curl_slist *request_headers(const struct fetch *f,
                                          const char *if_range)
{
    char line[FETCH_ETAG_MAX + 16];
    struct curl_slist *l, *n;

    snprintf(line, sizeof(line), "X-Fwr-Boot: %u", f->o.boot);
    l = curl_slist_append(NULL, line);
    if (l && if_range) {
        snprintf(line, sizeof(line), "If-Range: %s", if_range);
        n = curl_slist_append(l, line);
        if (!n) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = n;
    }
    return l;
}

static void reset_response(struct fetch *f)
{
    f->status = 0;
    f->etag[0] = 0;
    f->have_range = f->have_length = 0;
    f->err[0] = 0;
    f->why[0] = 0;
}

/* Run the request set up on f->h; the curl result. */
static CURLcode perform(struct fetch *f, const char *url,
                        struct curl_slist *hdrs)
{
    CURLcode c;
    curl_easy_setopt(f->h, CURLOPT_URL, url);
    curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, hdrs);
    f->requests++;
    c = curl_easy_perform(f->h);
    curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &f->status);
    curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    return c;
}

static enum fetch_rc net_error(struct fetch *f, CURLcode c)
{
    snprintf(f->why, sizeof(f->why), "%s",
             f->err[0] ? f->err : curl_easy_strerror(c));
    return FETCH_NET;
}

static enum fetch_rc http_error(struct fetch *f)
{
    snprintf(f->why, sizeof(f->why), "HTTP status %ld", f->status);
    return FETCH_HTTP;
}

/* ------------------------------------------------------------ small GET */

struct small {
    char *buf;
    size_t cap, len;
    int over;
};

static size_t on_small(char *p, size_t size, size_t nmemb, void *user)
{
    struct small *s = user;
    size_t n = size * nmemb;
    if (s->len + n >= s->cap) {
        s->over = 1;
        return 0;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return n;
}

enum fetch_rc fetch_small(struct fetch *f, const char *url, char *buf,
                          size_t cap)
{
    struct small s = {buf, cap, 0, 0};
    CURLcode c;

    reset_response(f);
    buf[0] = 0;
    curl_easy_setopt(f->h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(f->h, CURLOPT_RANGE, NULL);
    curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_small);
    curl_easy_setopt(f->h, CURLOPT_WRITEDATA, &s);
    c = perform(f, url, request_headers(f, NULL));
    buf[s.len] = 0;
    if (s.over && f->status == 200) {
        snprintf(f->why, sizeof(f->why), "%s: more than %zu bytes", url,
                 cap - 1u);
        return FETCH_HTTP;
    }
    if (c != CURLE_OK && !s.over)
        return net_error(f, c);
    return f->status == 200 ? FETCH_OK : http_error(f);
}

enum fetch_rc fetch_head(struct fetch *f, const char *url)
{
    CURLcode c;
    reset_response(f);
    curl_easy_setopt(f->h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(f->h, CURLOPT_RANGE, NULL);
    c = perform(f, url, request_headers(f, NULL));
    curl_easy_setopt(f->h, CURLOPT_HTTPGET, 1L); /* undoes NOBODY */
    if (c != CURLE_OK)
        return net_error(f, c);
    return f->status == 200 ? FETCH_OK : http_error(f);
}

/* ------------------------------------------------------------ ranges */

struct rx {
    struct fetch *f;
    uint64_t first, last, total;
    const char *etag; /* ours; "" none */
    fetch_sink sink;
    void *user;
    uint64_t pos; /* image offset of the next body byte */
    uint64_t fed; /* bytes the sink took */
    int decided;  /* status judged (at the first body byte or the end) */
    int stopped;  /* the transfer was ended on purpose */
    enum fetch_rc rc;
};

/* Is the response's ETag not ours? A 206 without one is taken as ours
 * (the server honoured If-Range); a 200 without one is not. */
static int etag_differs(const struct rx *r, int strict)
{
    if (!r->etag[0] || (!strict && !r->f->etag[0]))
        return 0;
    return strcmp(r->etag, r->f->etag) != 0;
}

/* Judge the response from its status and headers. */
static void decide(struct rx *r)
{
    struct fetch *f = r->f;
    curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &f->status);
    r->decided = 1;
    r->rc = FETCH_OK;
    if (f->status == 206) {
        if (etag_differs(r, 0) || (f->have_range && f->cr_total != UINT64_MAX &&
                                   f->cr_total != r->total)) {
            snprintf(f->why, sizeof(f->why), "206 of another image (ETag %s)",
                     f->etag[0] ? f->etag : "none");
            r->rc = FETCH_CHANGED;
        } else if (!f->have_range || f->cr_first != r->first ||
                   f->cr_last > r->last || f->cr_last < f->cr_first) {
            snprintf(f->why, sizeof(f->why),
                     "206 without the range asked for (%" PRIu64 "-%" PRIu64
                     ")",
                     r->first, r->last);
            r->rc = FETCH_NET;
        } else {
            r->pos = r->first;
        }
    } else if (f->status == 200) {
        /* The whole image: the server ignored Range (no support), or
         * If-Range did not match (the image changed). */
        if (etag_differs(r, 1) || (f->have_length && f->length != r->total)) {
            snprintf(f->why, sizeof(f->why), "200 of another image (ETag %s)",
                     f->etag[0] ? f->etag : "none");
            r->rc = FETCH_CHANGED;
        } else {
            r->pos = 0;
        }
    } else if (f->status == 412 || f->status == 416) {
        snprintf(f->why, sizeof(f->why), "HTTP status %ld: image changed",
                 f->status);
        r->rc = FETCH_CHANGED;
    } else {
        snprintf(f->why, sizeof(f->why), "HTTP status %ld", f->status);
        r->rc = FETCH_HTTP;
    }
}

static size_t on_range(char *p, size_t size, size_t nmemb, void *user)
{
    struct rx *r = user;
    size_t n = size * nmemb, skip = 0, take;
    int s;

    if (!r->decided)
        decide(r);
    if (r->rc != FETCH_OK) {
        r->stopped = 1;
        return 0; /* nothing of this body is wanted */
    }
    r->f->body_bytes += n;
    if (r->pos < r->first) {
        /* 200: discard up to the range's start. */
        uint64_t gap = r->first - r->pos;
        skip = gap < n ? (size_t)gap : n;
        r->pos += skip;
    }
    take = n - skip;
    if (r->pos + take > r->last + 1u)
        take = (size_t)(r->last + 1u - r->pos);
    if (take > 0) {
        s = r->sink(r->user, p + skip, take);
        if (s) {
            r->rc = s > 0 ? FETCH_AGAIN : FETCH_SINK;
            r->stopped = 1;
            return 0;
        }
        r->pos += take;
        r->fed += take;
    }
    if (r->pos > r->last) {
        /* Our range is in. On a 206 this is the end of the body anyway;
         * on a 200 the rest is dropped with the connection. */
        r->stopped = 1;
        return skip + take == n && r->f->status == 206 ? n : 0;
    }
    return n;
}

enum fetch_rc fetch_range(struct fetch *f, const char *url, uint64_t first,
                          uint64_t last, uint64_t total, const char *etag,
                          fetch_sink sink, void *user, uint64_t *fed)
{
    struct rx r;
    char range[64];
    const char *if_range = NULL;
    CURLcode c;

    memset(&r, 0, sizeof(r));
    r.f = f;
    r.first = first;
    r.last = last;
    r.total = total;
    r.etag = etag ? etag : "";
    r.sink = sink;
    r.user = user;
    /* RFC 9110: a weak validator never goes into If-Range. */
    if (r.etag[0] && strncmp(r.etag, "W/", 2) != 0)
        if_range = r.etag;

    reset_response(f);
    snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, first, last);
    curl_easy_setopt(f->h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(f->h, CURLOPT_RANGE, range);
    curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_range);
    curl_easy_setopt(f->h, CURLOPT_WRITEDATA, &r);
    c = perform(f, url, request_headers(f, if_range));
    curl_easy_setopt(f->h, CURLOPT_RANGE, NULL);
    *fed = r.fed;

    if (!r.decided && c == CURLE_OK)
        decide(&r); /* an empty body: 412, 416, 404... */
    if (r.stopped || (r.decided && r.rc != FETCH_OK)) {
        if (r.rc == FETCH_OK && r.pos <= r.last)
            return net_error(f, c);
        return r.rc;
    }
    if (c != CURLE_OK)
        return net_error(f, c); /* reset, stall, timeout, short body */
    if (r.pos <= r.last) {
        snprintf(f->why, sizeof(f->why),
                 "response ended at byte %" PRIu64 " of %" PRIu64 "-%" PRIu64,
                 r.pos, first, last);
        return FETCH_NET;
    }
    return FETCH_OK;
}
