/*
 * canned_http.h - the HTTP side of the C benchmark responders (c-http with epoll, c-uring with
 * io_uring), shared so that both answer exactly the same bytes for the same requests and differ only
 * in how they move them.
 *
 * A request ends at the first "\r\n\r\n"; only requests without a body are supported. Each complete
 * request gets a fixed response:
 *
 *   path /json (or /json?...)  -> 200, Content-Type: application/json, body {"message":"Hello, World!"}
 *   anything else              -> 200, Content-Type: text/plain, body Hello, World!
 *
 * both with Content-Length, a Date header (update_date, called when make_date_timer's timerfd fires
 * on every whole second) and "Server: c". A request with a "Connection: close" header (a comma-separated list holding the
 * token "close", any case; RFC 9112 section 9.6) gets the same response with "Connection: close" first
 * among the headers, and the caller closes the connection once that response is sent and reads no
 * further request from it. Everything else is kept alive: HTTP/1.0 is not looked at (wrk, curl and the
 * test clients speak HTTP/1.1). A request head (with its "\r\n\r\n") longer than HTTP_HEAD_MAX bytes
 * closes the connection without an answer.
 */
#ifndef EDDY_PEERS_CANNED_HTTP_H
#define EDDY_PEERS_CANNED_HTTP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define HTTP_HEAD_MAX 8192

struct response {
    char data[256];
    size_t len;
    int closes; /* the caller closes the connection after sending it */
};

static const char PLAIN_BODY[] = "Hello, World!";
static const char JSON_BODY[] = "{\"message\":\"Hello, World!\"}";

static struct response resp_plain, resp_json, resp_plain_close, resp_json_close;

/* Not a response: take_request's answer for a head longer than HTTP_HEAD_MAX. */
static const struct response head_too_large;

static void build_response(struct response *r, const char *connection, const char *type,
                           const char *body, const char *date)
{
    int n = snprintf(r->data, sizeof r->data,
                     "HTTP/1.1 200 OK\r\n"
                     "%s"
                     "Content-Length: %zu\r\n"
                     "Content-Type: %s\r\n"
                     "Date: %s\r\n"
                     "Server: c\r\n"
                     "\r\n"
                     "%s",
                     connection, strlen(body), type, date, body);
    if (n < 0 || (size_t)n >= sizeof r->data) {
        fprintf(stderr, "response too long\n");
        exit(1);
    }
    r->len = (size_t)n;
    r->closes = connection[0] != '\0';
}

/* Rebuild the responses with the current time in the Date header (RFC 9110 IMF-fixdate). */
static void update_date(void)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    /* The C locale is in effect (no setlocale), so %a and %b are English. */
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    build_response(&resp_plain, "", "text/plain", PLAIN_BODY, date);
    build_response(&resp_json, "", "application/json", JSON_BODY, date);
    build_response(&resp_plain_close, "Connection: close\r\n", "text/plain", PLAIN_BODY, date);
    build_response(&resp_json_close, "Connection: close\r\n", "application/json", JSON_BODY, date);
}

/* A timerfd that fires at every whole second of the wall clock, for update_date; flags: TFD_NONBLOCK
 * or 0. -1 with errno set on failure. */
static int make_date_timer(int flags)
{
    int fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | flags);
    if (fd < 0)
        return -1;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = time(NULL) + 1;
    its.it_interval.tv_sec = 1;
    if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Is the request whose head is [start, end) a request for /json? */
static int is_json(const char *start, const char *end)
{
    const char *sp = memchr(start, ' ', (size_t)(end - start));
    return sp != NULL && end - sp >= 7 && memcmp(sp + 1, "/json", 5) == 0 &&
           (sp[6] == ' ' || sp[6] == '?');
}

/* Does the Connection header value [v, end) hold the token "close"? */
static int has_close_token(const char *v, const char *end)
{
    while (v < end) {
        while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
            v++;
        const char *t = v;
        while (v < end && *v != ',' && *v != ' ' && *v != '\t')
            v++;
        if (v - t == 5 && strncasecmp(t, "close", 5) == 0)
            return 1;
    }
    return 0;
}

/* Does the head [start, end) (request line and header lines, without the final blank line) carry
 * "Connection: close"? */
static int asks_close(const char *start, const char *end)
{
    const char *line = memchr(start, '\n', (size_t)(end - start)); /* end of the request line */
    while (line != NULL && ++line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *stop = eol != NULL ? eol : end;
        if (stop > line && stop[-1] == '\r')
            stop--;
        if (stop - line >= 11 && strncasecmp(line, "connection:", 11) == 0 &&
            has_close_token(line + 11, stop))
            return 1;
        line = eol;
    }
    return 0;
}

/* The next complete request in [*p, end): moves *p past it and returns its response, or
 * &head_too_large if its head is longer than HTTP_HEAD_MAX. NULL: no complete request (the caller
 * keeps [*p, end) for its next read, and closes if that reaches HTTP_HEAD_MAX bytes). */
static const struct response *take_request(const char **p, const char *end)
{
    const char *start = *p;
    const char *head_end = memmem(start, (size_t)(end - start), "\r\n\r\n", 4);
    if (head_end == NULL)
        return NULL;
    if (head_end + 4 - start > HTTP_HEAD_MAX)
        return &head_too_large;
    *p = head_end + 4;
    if (asks_close(start, head_end))
        return is_json(start, head_end) ? &resp_json_close : &resp_plain_close;
    return is_json(start, head_end) ? &resp_json : &resp_plain;
}

/* Answers the complete requests in [*p, end) in order, calling append(ctx, response) for each, up to
 * and including one that closes, and moves *p past them. Returns 1 if the connection is to be closed
 * once the answers are sent ("Connection: close", or a head longer than HTTP_HEAD_MAX: what came
 * before it is answered), 0 to keep it, -1 if append failed. Static, so the compiler inlines it and
 * the call through append. */
static int answer_requests(const char **p, const char *end,
                           int (*append)(void *ctx, const struct response *r), void *ctx)
{
    const struct response *r;
    while ((r = take_request(p, end)) != NULL) {
        if (r == &head_too_large)
            return 1;
        if (append(ctx, r) < 0)
            return -1;
        if (r->closes)
            return 1;
    }
    return 0;
}

#endif
