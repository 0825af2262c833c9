/*
 * c-echo: minimal single-threaded epoll TCP echo server.
 *
 * The "how close to the machine's limit" reference peer for bench/echo.sh.
 *
 *   usage: echo-server PORT
 *
 * Binds 127.0.0.1:PORT (SO_REUSEADDR), level-triggered epoll, non-blocking
 * accept4, TCP_NODELAY on accepted sockets. Reads into a 64 KiB buffer and
 * writes it back. If a write is partial, the remaining bytes are kept per
 * connection, EPOLLOUT is armed and reading from that connection stops until
 * the pending output is flushed. Closes on EOF or error. Exits cleanly on
 * SIGTERM/SIGINT (blocked except inside epoll_pwait, so a stop signal cannot slip
 * in unseen).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stop_signals.h"

#define BUF_SIZE (64 * 1024)
#define MAX_EVENTS 256

struct conn {
    int fd;
    size_t pending_off;  /* first unsent byte in out */
    size_t pending_len;  /* bytes still to send */
    char *out;           /* allocated lazily on first partial write */
};

static int listen_fd = -1; /* sentinel: data.ptr == &listen_fd */
static char buf[BUF_SIZE];

static void conn_close(int epfd, struct conn *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->out);
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

/* Returns 0 to keep the connection, -1 to close it. */
static int on_readable(int epfd, struct conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n == 0)
            return -1; /* EOF */
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        ssize_t sent = send_some(c->fd, buf, (size_t)n);
        if (sent < 0)
            return -1;
        if ((size_t)sent < (size_t)n) {
            /* Partial write: keep the rest, wait for EPOLLOUT, stop reading. */
            if (c->out == NULL && (c->out = malloc(BUF_SIZE)) == NULL)
                return -1;
            c->pending_len = (size_t)n - (size_t)sent;
            c->pending_off = 0;
            memcpy(c->out, buf + sent, c->pending_len);
            return conn_set_events(epfd, c, EPOLLOUT) < 0 ? -1 : 0;
        }
        if ((size_t)n < sizeof buf)
            return 0; /* drained what was available; avoid a needless EAGAIN recv */
    }
}

/* Returns 0 to keep the connection, -1 to close it. */
static int on_writable(int epfd, struct conn *c)
{
    ssize_t sent = send_some(c->fd, c->out + c->pending_off, c->pending_len);
    if (sent < 0)
        return -1;
    c->pending_off += (size_t)sent;
    c->pending_len -= (size_t)sent;
    if (c->pending_len > 0)
        return 0; /* still blocked; EPOLLOUT stays armed */
    c->pending_off = 0;
    if (conn_set_events(epfd, c, EPOLLIN) < 0)
        return -1;
    /* Level-triggered: if input arrived meanwhile, EPOLLIN fires next wait. */
    return 0;
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
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
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
    char *end = NULL;
    long port = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "invalid port: %s\n", argv[1]);
        return 2;
    }

    sigset_t wait_mask; /* see stop_signals.h */
    if (block_stop_signals(&wait_mask) < 0)
        return 1;

    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) {
        perror("socket");
        return 1;
    }
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        return 1;
    }
    if (listen(listen_fd, SOMAXCONN) < 0) {
        perror("listen");
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

    printf("c-echo listening on 127.0.0.1:%ld\n", port);
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
    close(epfd);
    close(listen_fd);
    return 0;
}
