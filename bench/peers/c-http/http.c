/*
 * c-http: minimal single-threaded epoll HTTP/1.1 responder.
 *
 * The "machine's limit" reference peer for bench/http.sh: what one core can
 * do when answering the TechEmpower plaintext/json requests with no framework
 * at all. It is NOT a general HTTP server.
 *
 *   usage: c-http PORT
 *
 * Binds 127.0.0.1:PORT (SO_REUSEADDR), non-blocking accept4, level-triggered
 * epoll, TCP_NODELAY on accepted sockets. Each connection has an 8 KiB read
 * buffer. On readability it does ONE read, then for every COMPLETE request in
 * the buffer appends its canned response (../c-common/canned_http.h: the
 * requests understood, the responses and "Connection: close", shared with the
 * io_uring responder c-uring) to one output buffer; a timerfd refreshes the
 * Date header once per second (on the second). The responses of the batch are
 * then sent with ONE write, so pipelined requests that arrive in one read are
 * answered with one write. Connections are kept alive unless a request asks
 * for "Connection: close": then later requests are ignored and the connection
 * is closed once that response is sent. A partial request stays in the buffer
 * for the next read; a request head larger than the buffer closes the
 * connection. If a write is partial, the rest is kept per connection, EPOLLOUT
 * is armed and reading from that connection stops until the pending output is
 * flushed. Closes on EOF or error. Exits 0 on SIGTERM/SIGINT (blocked except
 * inside epoll_pwait, so a stop signal cannot slip in unseen).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "canned_http.h"
#include "listen_port.h"
#include "stop_signals.h"

#define RBUF_SIZE HTTP_HEAD_MAX
#define MAX_EVENTS 256

struct conn {
    int fd;
    size_t rlen;         /* bytes in rbuf (a partial request, between reads) */
    size_t pending_off;  /* first unsent byte in pending */
    size_t pending_len;  /* bytes still to send */
    size_t pending_cap;
    char *pending;       /* allocated on the first partial write */
    int close_after;     /* close once the output is sent (Connection: close) */
    char rbuf[RBUF_SIZE];
};

static int listen_fd = -1; /* sentinel: data.ptr == &listen_fd */
static int timer_fd = -1;  /* sentinel: data.ptr == &timer_fd */
static char *out;          /* responses of one batch, shared by all connections */
static size_t out_cap;

static void conn_close(int epfd, struct conn *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->pending);
    free(c);
}

static int conn_set_events(int epfd, struct conn *c, uint32_t events)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = c;
    return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send as much as possible of data[0..len). Returns bytes sent, or -1 on a
 * hard error. A return < len means the socket buffer is full (EAGAIN). */
static ssize_t send_some(int fd, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            return -1;
        }
    }
    return (ssize_t)sent;
}

/* Append r to the batch output buffer at *(size_t *)ctx (its length). Returns -1 if out of memory. */
static int append(void *ctx, const struct response *r)
{
    size_t *olen = ctx;
    if (*olen + r->len > out_cap) {
        size_t cap = out_cap * 2;
        while (cap < *olen + r->len)
            cap *= 2;
        char *p = realloc(out, cap);
        if (p == NULL)
            return -1;
        out = p;
        out_cap = cap;
    }
    memcpy(out + *olen, r->data, r->len);
    *olen += r->len;
    return 0;
}

/* Returns 0 to keep the connection, -1 to close it. */
static int on_readable(int epfd, struct conn *c)
{
    ssize_t n;
    do {
        n = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, 0);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        return -1; /* EOF */
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    c->rlen += (size_t)n;

    /* Answer every complete request in the buffer, up to one that closes. */
    const char *p = c->rbuf, *end = c->rbuf + c->rlen;
    size_t olen = 0;
    int answered = answer_requests(&p, end, append, &olen);
    if (answered < 0)
        return -1;
    c->close_after = answered;
    size_t rest = (size_t)(end - p);
    if (rest == RBUF_SIZE)
        return -1; /* a request head that does not fit the buffer */
    if (rest > 0 && p != c->rbuf)
        memmove(c->rbuf, p, rest);
    c->rlen = rest;
    if (olen == 0)
        return c->close_after ? -1 : 0;

    /* One write for the whole batch. */
    ssize_t sent = send_some(c->fd, out, olen);
    if (sent < 0)
        return -1;
    if ((size_t)sent < olen) {
        /* Partial write: keep the rest, wait for EPOLLOUT, stop reading. */
        size_t left = olen - (size_t)sent;
        if (c->pending_cap < left) {
            char *q = realloc(c->pending, left);
            if (q == NULL)
                return -1;
            c->pending = q;
            c->pending_cap = left;
        }
        memcpy(c->pending, out + sent, left);
        c->pending_off = 0;
        c->pending_len = left;
        return conn_set_events(epfd, c, EPOLLOUT) < 0 ? -1 : 0;
    }
    return c->close_after ? -1 : 0;
}

/* Returns 0 to keep the connection, -1 to close it. */
static int on_writable(int epfd, struct conn *c)
{
    ssize_t sent = send_some(c->fd, c->pending + c->pending_off, c->pending_len);
    if (sent < 0)
        return -1;
    c->pending_off += (size_t)sent;
    c->pending_len -= (size_t)sent;
    if (c->pending_len > 0)
        return 0; /* still blocked; EPOLLOUT stays armed */
    c->pending_off = 0;
    if (c->close_after)
        return -1;
    /* Level-triggered: if input arrived meanwhile, EPOLLIN fires on the next wait. */
    return conn_set_events(epfd, c, EPOLLIN) < 0 ? -1 : 0;
}

static void on_accept(int epfd)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                perror("accept4");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = malloc(sizeof *c); /* rbuf left untouched: no RSS until used */
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->rlen = 0;
        c->pending_off = c->pending_len = c->pending_cap = 0;
        c->pending = NULL;
        c->close_after = 0;
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            perror("epoll_ctl ADD");
            close(fd);
            free(c);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    long port = parse_port(argv[1]);
    if (port < 0)
        return 2;

    sigset_t wait_mask; /* see stop_signals.h */
    if (block_stop_signals(&wait_mask) < 0)
        return 1;

    out_cap = 64 * 1024;
    if ((out = malloc(out_cap)) == NULL) {
        perror("malloc");
        return 1;
    }
    update_date();

    if ((listen_fd = listen_on_loopback(port, SOCK_NONBLOCK)) < 0) {
        perror("listen on 127.0.0.1");
        return 1;
    }

    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        perror("epoll_create1");
        return 1;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_fd;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
        perror("epoll_ctl ADD listen");
        return 1;
    }
    if ((timer_fd = make_date_timer(TFD_NONBLOCK)) < 0) {
        perror("timerfd");
        return 1;
    }
    ev.data.ptr = &timer_fd;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, timer_fd, &ev) < 0) {
        perror("epoll_ctl ADD timer");
        return 1;
    }

    printf("c-http listening on 127.0.0.1:%ld\n", port);
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    while (!stop_requested) {
        int n = epoll_pwait(epfd, events, MAX_EVENTS, -1, &wait_mask);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_pwait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == &listen_fd) {
                on_accept(epfd);
                continue;
            }
            if (events[i].data.ptr == &timer_fd) {
                uint64_t expirations;
                if (read(timer_fd, &expirations, sizeof expirations) > 0)
                    update_date();
                continue;
            }
            struct conn *c = events[i].data.ptr;
            uint32_t e = events[i].events;
            int rc = 0;
            if (c->pending_len > 0) {
                /* Only EPOLLOUT (plus ERR/HUP) is armed while output is pending. */
                if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    rc = on_writable(epfd, c);
            } else if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                rc = on_readable(epfd, c);
            }
            if (rc < 0)
                conn_close(epfd, c);
        }
    }

    /* Connections are reclaimed by the kernel at exit. */
    close(timer_fd);
    close(epfd);
    close(listen_fd);
    free(out);
    return 0;
}
