/*
 * c-uring: minimal single-threaded io_uring HTTP/1.1 responder (issue 17, step 1: the gate).
 *
 * The io_uring twin of bench/peers/c-http (epoll): it answers exactly the same bytes for the same
 * requests (both take the requests, the canned responses and "Connection: close" from
 * ../c-common/canned_http.h) so that bench/http.sh can put the two syscall patterns side by side.
 * It is NOT a general HTTP server.
 *
 *   usage: c-uring PORT        serve on 127.0.0.1:PORT until SIGTERM/SIGINT
 *          c-uring --probe     check what this kernel supports, print it, exit 0 if all is there
 *
 * DESIGN
 *   One ring (liburing), set up with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN: only
 *   this thread submits, and completions are run when it waits in io_uring_enter, not by
 *   interrupting it. If the kernel refuses that (before 6.1), it says so on stderr and falls back to
 *   IORING_SETUP_COOP_TASKRUN, then to no flags. The loop is one call per iteration:
 *   io_uring_submit_and_wait_timeout(ring, 1, sigmask) submits everything queued and waits for at
 *   least one completion, with SIGTERM/SIGINT unblocked only inside that wait (as epoll_pwait in
 *   c-http: a stop signal cannot slip in unseen), then every completion is handled.
 *
 *   - Accept: one multishot accept on the (blocking) listening socket gives a completion per new
 *     connection. Each gets TCP_NODELAY with setsockopt, as in c-http, and a multishot recv. When
 *     the multishot ends (the kernel may end it at any time) it is armed again. On EMFILE/ENFILE
 *     (or ENOBUFS/ENOMEM) accepting pauses, with one message on stderr the first time, until a
 *     connection is closed or 100 ms (an IORING_OP_TIMEOUT) have passed, whichever comes first:
 *     re-arming at once would spin, as the pending connection stays in the backlog.
 *   - Receive: multishot recv with IOSQE_BUFFER_SELECT from one provided buffer ring (BUF_COUNT
 *     buffers of BUF_SIZE bytes, registered with io_uring_register_buf_ring). Each completion names
 *     its buffer; the requests in it are answered straight from the buffer, a partial request is
 *     copied out to the connection, and the buffer goes back to the ring (the ring's tail is
 *     advanced once per batch of completions, before the next submission). When the ring is empty
 *     the kernel ends the recv with -ENOBUFS; it is re-armed in the same batch, after the buffers
 *     have been returned. EOF (0) closes once the output is sent, an error closes at once.
 *   - Send: the responses to the requests of one completion (a pipelined batch) are sent with ONE
 *     IORING_OP_SEND; there is at most one send in flight per connection, so the bytes stay in
 *     order. A partial send is followed by a send of the rest. While a send is in flight, new
 *     input is kept (not parsed) and answered when the send completes; past PARK_LIMIT bytes of
 *     such input the recv is cancelled (reading stops, as c-http stops reading while output is
 *     pending) and armed again once the input is answered.
 *   - Close: after a "Connection: close" response is sent (and on EOF, error or a request head
 *     larger than HTTP_HEAD_MAX): the armed recv (and a send in flight) are cancelled and the
 *     descriptor closed with IORING_OP_CLOSE, all three without a completion on success
 *     (IOSQE_CQE_SKIP_SUCCESS). The recv must be cancelled: it holds a reference to the socket, so
 *     close() alone would not send the FIN. The connection is freed when its last request (the
 *     recv's final completion, a send's completion) has come back.
 *   - Date: a timerfd that fires at every whole second of the wall clock, read with IORING_OP_READ,
 *     rebuilds the responses, as in c-http.
 *
 *   Per request on a kept-alive connection this is one recv completion and one send submission,
 *   all in the one io_uring_enter per loop iteration; c-http makes a recv, a send and an
 *   epoll_wait (shared by the ready connections) for the same. Per short-lived connection c-http
 *   adds accept4, setsockopt, two epoll_ctl and close; c-uring only setsockopt.
 *
 *   At exit it prints counters on stderr (connections, ENOBUFS, partial sends, reads stopped,
 *   accept pauses), so a benchmark run shows whether the slow paths were taken.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "canned_http.h"
#include "listen_port.h"
#include "stop_signals.h"

#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384   /* room for a completion from each of many connections per wait */
#ifndef BUF_COUNT         /* compare.py's build (make c-uring-test) has 16, to run out */
#define BUF_COUNT 4096     /* provided receive buffers: a power of two, several per connection */
#endif
#define BUF_SIZE 2048      /* a pipelined batch of 16 wrk requests is ~800 bytes */
#define BUF_GROUP 0
#define OUT_INLINE 4096    /* output kept inside struct conn (16 pipelined answers: ~2-2.6 KiB) */
#define PARK_LIMIT (64 * 1024)
#define ACCEPT_RETRY_NS (100 * 1000 * 1000)

/* user_data: a struct conn pointer (malloc'd, so 16-byte aligned) or NULL, ORed with the operation. */
enum op { OP_IGNORE = 0, OP_ACCEPT, OP_RECV, OP_SEND, OP_TIMER, OP_ACCEPT_RETRY };
#define OP_MASK 7u

struct conn {
    int fd;
    unsigned recv_armed : 1;      /* a multishot recv is armed: its final completion is to come */
    unsigned recv_cancelling : 1; /* a cancel for it was submitted */
    unsigned send_inflight : 1;   /* out[out_off..out_len) is being sent */
    unsigned peer_eof : 1;        /* the peer shut its side: close once the output is sent */
    unsigned close_after : 1;     /* close once the output is sent (Connection: close) */
    unsigned close_now : 1;       /* close without sending more (error) */
    unsigned closing : 1;         /* the close was submitted; free once nothing is in flight */
    unsigned in_unparsed : 1;     /* in[] holds input that arrived while a send was in flight */
    char *in;                     /* input not yet answered: a partial request, or parked input */
    size_t in_len, in_cap;
    char *out;                    /* responses: out_inline, or heap once they outgrow it */
    size_t out_off, out_len, out_cap;
    char out_inline[OUT_INLINE];
};

static struct io_uring ring;
static struct io_uring_buf_ring *buf_ring;
static char *bufs;                /* BUF_COUNT x BUF_SIZE, the provided buffers */
static int bufs_to_return;        /* added to the buffer ring, not yet made visible (advanced) */
static int listen_fd = -1;
static int timer_fd = -1;
static uint64_t timer_expirations;
static int accept_armed, accept_paused, accept_retry_pending;
static struct __kernel_timespec accept_retry_ts = { .tv_sec = 0, .tv_nsec = ACCEPT_RETRY_NS };

static struct {
    unsigned long accepted, closed, enobufs, partial_sends, read_stops, accept_pauses;
} stats;

static void fail(const char *what, int err)
{
    fprintf(stderr, "c-uring: %s: %s\n", what, strerror(err));
    exit(1);
}

static uint64_t tag(const struct conn *c, enum op op)
{
    return (uint64_t)(uintptr_t)c | op;
}

/* Make the buffers returned so far visible to the kernel. Called before every submission, so a
 * recv re-armed after -ENOBUFS finds them. */
static void flush_buffers(void)
{
    if (bufs_to_return > 0) {
        io_uring_buf_ring_advance(buf_ring, bufs_to_return);
        bufs_to_return = 0;
    }
}

static void return_buffer(unsigned bid)
{
    io_uring_buf_ring_add(buf_ring, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(BUF_COUNT), bufs_to_return++);
}

/* A free SQE; when the submission queue is full, what is queued is submitted first. */
static struct io_uring_sqe *get_sqe(void)
{
    struct io_uring_sqe *sqe;
    while ((sqe = io_uring_get_sqe(&ring)) == NULL) {
        flush_buffers();
        int rc = io_uring_submit(&ring);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            fail("io_uring_submit", -rc);
    }
    return sqe;
}

static void arm_accept(void)
{
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_multishot_accept(sqe, listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, tag(NULL, OP_ACCEPT));
    accept_armed = 1;
}

static void arm_timer_read(void)
{
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_read(sqe, timer_fd, &timer_expirations, sizeof timer_expirations, 0);
    io_uring_sqe_set_data64(sqe, tag(NULL, OP_TIMER));
}

static void arm_recv(struct conn *c)
{
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUF_GROUP;
    io_uring_sqe_set_data64(sqe, tag(c, OP_RECV));
    c->recv_armed = 1;
}

static void submit_send(struct conn *c)
{
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_send(sqe, c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, tag(c, OP_SEND));
    c->send_inflight = 1;
}

/* Cancel c's request of kind op; no completion unless the cancel fails (then it is ignored: the
 * request had already finished and its own completion is on its way). */
static void submit_cancel(struct conn *c, enum op op)
{
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_cancel64(sqe, tag(c, op), 0);
    io_uring_sqe_set_data64(sqe, tag(NULL, OP_IGNORE));
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

static void pause_accepting(int err)
{
    if (stats.accept_pauses++ == 0)
        fprintf(stderr, "c-uring: accept: %s; accepting pauses until a connection closes or 100 ms "
                        "pass (reported once)\n", strerror(err));
    accept_paused = 1;
    if (!accept_retry_pending) {
        struct io_uring_sqe *sqe = get_sqe();
        io_uring_prep_timeout(sqe, &accept_retry_ts, 0, 0);
        io_uring_sqe_set_data64(sqe, tag(NULL, OP_ACCEPT_RETRY));
        accept_retry_pending = 1;
    }
}

static void resume_accepting(void)
{
    if (accept_paused) {
        accept_paused = 0;
        if (!accept_armed)
            arm_accept();
    }
}

/* Appends r to c's output. Only called while no send is in flight, so moving out is safe. */
static int out_append(void *ctx, const struct response *r)
{
    struct conn *c = ctx;
    if (c->out_len + r->len > c->out_cap) {
        size_t cap = c->out_cap * 2;
        while (cap < c->out_len + r->len)
            cap *= 2;
        char *p = c->out == c->out_inline ? malloc(cap) : realloc(c->out, cap);
        if (p == NULL)
            return -1;
        if (c->out == c->out_inline)
            memcpy(p, c->out_inline, c->out_len);
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, r->data, r->len);
    c->out_len += r->len;
    return 0;
}

/* Appends data to c's kept input. Returns -1 if out of memory. */
static int in_append(struct conn *c, const char *data, size_t n)
{
    if (c->in_len + n > c->in_cap) {
        size_t cap = c->in_cap > 0 ? c->in_cap * 2 : HTTP_HEAD_MAX;
        while (cap < c->in_len + n)
            cap *= 2;
        char *p = realloc(c->in, cap);
        if (p == NULL)
            return -1;
        c->in = p;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, data, n);
    c->in_len += n;
    return 0;
}

/* Answers the complete requests in [*p, end) into c's output; what is left is a partial request.
 * Returns 0, or -1 (out of memory) if the connection is to be closed at once. */
static int answer(struct conn *c, const char **p, const char *end)
{
    int rc = answer_requests(p, end, out_append, c);
    if (rc < 0)
        return -1;
    /* After a request that closes nothing is answered; a partial head of HTTP_HEAD_MAX bytes
     * cannot complete (c-http's full read buffer): send what is answered, then close. */
    if (rc > 0 || end - *p >= HTTP_HEAD_MAX) {
        c->close_after = 1;
        *p = end;
    }
    return 0;
}

/* Answers the input kept in c->in. No send is in flight. */
static void answer_kept_input(struct conn *c)
{
    const char *p = c->in, *end = c->in + c->in_len;
    c->in_unparsed = 0;
    if (answer(c, &p, end) < 0) {
        c->close_now = 1;
        return;
    }
    size_t rest = (size_t)(end - p);
    if (rest > 0 && p != c->in)
        memmove(c->in, p, rest);
    c->in_len = rest;
}

/* n bytes received into a provided buffer. */
static void on_data(struct conn *c, const char *data, size_t n)
{
    if (c->closing || c->close_now || c->close_after)
        return; /* nothing after a request that closes is answered */
    if (c->send_inflight || c->in_len > 0) {
        /* Keep it: behind a send in flight (answered when it completes), or after a partial request. */
        if (in_append(c, data, n) < 0) {
            c->close_now = 1;
            return;
        }
        c->in_unparsed = 1;
        if (!c->send_inflight)
            answer_kept_input(c);
        return;
    }
    /* The usual case: answer straight from the buffer; keep only a partial request. */
    const char *p = data, *end = data + n;
    if (answer(c, &p, end) < 0 || (p < end && in_append(c, p, (size_t)(end - p)) < 0))
        c->close_now = 1;
}

static void conn_free(struct conn *c)
{
    free(c->in);
    if (c->out != c->out_inline)
        free(c->out);
    free(c);
    stats.closed++;
    resume_accepting(); /* a descriptor is free again */
}

static void begin_close(struct conn *c)
{
    c->closing = 1;
    if (c->recv_armed && !c->recv_cancelling)
        submit_cancel(c, OP_RECV);
    c->recv_cancelling = c->recv_armed;
    if (c->send_inflight)
        submit_cancel(c, OP_SEND);
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_close(sqe, c->fd);
    io_uring_sqe_set_data64(sqe, tag(NULL, OP_IGNORE));
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* After every event of c: send what is ready, answer kept input, decide about reading and closing,
 * and free c once closed and nothing is in flight. The only place that closes or frees. */
static void conn_settle(struct conn *c)
{
    if (!c->closing && !c->close_now && !c->send_inflight) {
        if (c->out_off == c->out_len) {
            c->out_off = c->out_len = 0;
            if (c->in_unparsed)
                answer_kept_input(c);
        }
        if (!c->close_now) {
            if (c->out_off < c->out_len)
                submit_send(c);
            else if (c->close_after || c->peer_eof)
                c->close_now = 1;
        }
    }
    if (c->close_now && !c->closing)
        begin_close(c);
    if (c->closing) {
        if (!c->recv_armed && !c->send_inflight)
            conn_free(c);
        return;
    }
    if (c->peer_eof || c->close_after)
        return; /* nothing more to read; the close cancels the recv */
    if (c->in_len < PARK_LIMIT) {
        if (!c->recv_armed)
            arm_recv(c); /* new, ended by the kernel (ENOBUFS, CQ overflow), or stopped below */
    } else if (c->recv_armed && !c->recv_cancelling) {
        submit_cancel(c, OP_RECV); /* back-pressure: stop reading until the kept input is answered */
        c->recv_cancelling = 1;
        stats.read_stops++;
    }
}

static void on_recv(struct conn *c, int res, unsigned flags)
{
    if (!(flags & IORING_CQE_F_MORE))
        c->recv_armed = c->recv_cancelling = 0;
    if (flags & IORING_CQE_F_BUFFER) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        if (res > 0)
            on_data(c, bufs + (size_t)bid * BUF_SIZE, (size_t)res);
        return_buffer(bid);
    }
    if (res == 0)
        c->peer_eof = 1;
    else if (res == -ENOBUFS)
        stats.enobufs++; /* re-armed by conn_settle, after the buffers are returned */
    else if (res < 0 && res != -ECANCELED)
        c->close_now = 1;
    conn_settle(c);
}

static void on_send(struct conn *c, int res)
{
    c->send_inflight = 0;
    if (res <= 0) {
        c->close_now = 1; /* EPIPE, ECONNRESET, ...; or cancelled on close */
    } else {
        c->out_off += (size_t)res;
        if (c->out_off < c->out_len)
            stats.partial_sends++; /* conn_settle sends the rest */
    }
    conn_settle(c);
}

static void on_accept(int res, unsigned flags)
{
    if (!(flags & IORING_CQE_F_MORE))
        accept_armed = 0;
    if (res >= 0) {
        int one = 1;
        setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef TEST_SNDBUF
        /* compare.py's build (make c-uring-test): a small send buffer, so that sends go partial. */
        int sndbuf = TEST_SNDBUF;
        setsockopt(res, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
#endif
        struct conn *c = malloc(sizeof *c); /* out_inline left untouched: no RSS until used */
        if (c == NULL) {
            close(res);
        } else {
            memset(c, 0, offsetof(struct conn, out_inline));
            c->fd = res;
            c->out = c->out_inline;
            c->out_cap = OUT_INLINE;
            stats.accepted++;
            arm_recv(c);
        }
    } else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
        if (!accept_armed)
            pause_accepting(-res);
    } else if (res != -ECONNABORTED && res != -EINTR && res != -ECANCELED) {
        fprintf(stderr, "c-uring: accept: %s\n", strerror(-res));
    }
    if (!accept_armed && !accept_paused)
        arm_accept();
}

static void on_completion(const struct io_uring_cqe *cqe)
{
    uint64_t data = io_uring_cqe_get_data64(cqe);
    struct conn *c = (struct conn *)(uintptr_t)(data & ~(uint64_t)OP_MASK);
    switch ((enum op)(data & OP_MASK)) {
    case OP_RECV:
        on_recv(c, cqe->res, cqe->flags);
        break;
    case OP_SEND:
        on_send(c, cqe->res);
        break;
    case OP_ACCEPT:
        on_accept(cqe->res, cqe->flags);
        break;
    case OP_TIMER:
        if (cqe->res > 0)
            update_date();
        else if (cqe->res != -EINTR && cqe->res != -EAGAIN)
            fail("timerfd read", -cqe->res);
        arm_timer_read();
        break;
    case OP_ACCEPT_RETRY:
        accept_retry_pending = 0;
        resume_accepting();
        break;
    case OP_IGNORE:
        /* A failed cancel (ENOENT/EALREADY: the request was already done) or close. */
        if (cqe->res < 0 && cqe->res != -ENOENT && cqe->res != -EALREADY)
            fprintf(stderr, "c-uring: cancel/close: %s\n", strerror(-cqe->res));
        break;
    }
}

/* The ring, with the best task-running mode the kernel accepts; *mode names it. */
static int setup_ring(const char **mode)
{
    static const struct {
        unsigned flags;
        const char *name;
    } modes[] = {
        { IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "SINGLE_ISSUER|DEFER_TASKRUN" },
        { IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN" },
        { 0, "default" },
    };
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = modes[i].flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
        p.cq_entries = CQ_ENTRIES;
        rc = io_uring_queue_init_params(SQ_ENTRIES, &ring, &p);
        if (rc == 0) {
            *mode = modes[i].name;
            return 0;
        }
        if (i + 1 < sizeof modes / sizeof modes[0])
            fprintf(stderr, "c-uring: io_uring_setup with IORING_SETUP_%s refused (%s); trying %s\n",
                    modes[i].name, strerror(-rc), modes[i + 1].name);
    }
    return rc;
}

/* The provided buffer ring: BUF_COUNT buffers of BUF_SIZE bytes in group BUF_GROUP. */
static int setup_buffers(void)
{
    size_t ring_bytes = BUF_COUNT * sizeof(struct io_uring_buf);
    buf_ring = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf_ring == MAP_FAILED)
        return -errno;
    io_uring_buf_ring_init(buf_ring);
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (unsigned long)(uintptr_t)buf_ring;
    reg.ring_entries = BUF_COUNT;
    reg.bgid = BUF_GROUP;
    int rc = io_uring_register_buf_ring(&ring, &reg, 0);
    if (rc < 0)
        return rc;
    bufs = malloc((size_t)BUF_COUNT * BUF_SIZE);
    if (bufs == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < BUF_COUNT; i++)
        return_buffer(i);
    flush_buffers();
    return 0;
}

/* One completion, waiting at most 2 s. */
static int probe_wait(struct io_uring_cqe **cqe)
{
    struct __kernel_timespec ts = { .tv_sec = 2, .tv_nsec = 0 };
    int rc = io_uring_submit_and_wait_timeout(&ring, cqe, 1, &ts, NULL);
    return rc < 0 ? rc : 0;
}

static int probe_result(const char *what, int ok, const char *detail)
{
    printf("  %-50s %s%s%s\n", what, ok ? "yes" : "NO", detail[0] ? ": " : "", detail);
    return ok;
}

/* --probe: the kernel's support for what this responder uses, each checked by using it. */
static int probe(void)
{
    struct utsname u;
    uname(&u);
    printf("c-uring probe: kernel %s %s\n", u.sysname, u.release);
    const char *mode = "";
    int ok = 1;
    int rc = setup_ring(&mode);
    if (!probe_result("io_uring_setup", rc == 0, rc == 0 ? "" : strerror(-rc)))
        return 1;
    ok &= probe_result("IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN",
                       strcmp(mode, "SINGLE_ISSUER|DEFER_TASKRUN") == 0, mode);
    probe_result("IORING_FEAT_EXT_ARG, FEAT_NODROP, FEAT_FAST_POLL",
                 (ring.features & (IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP | IORING_FEAT_FAST_POLL)) ==
                     (IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP | IORING_FEAT_FAST_POLL), "");
    struct io_uring_probe *ops = io_uring_get_probe_ring(&ring);
    static const struct {
        int op;
        const char *name;
    } needed[] = {
        { IORING_OP_ACCEPT, "IORING_OP_ACCEPT" }, { IORING_OP_RECV, "IORING_OP_RECV" },
        { IORING_OP_SEND, "IORING_OP_SEND" },     { IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL" },
        { IORING_OP_CLOSE, "IORING_OP_CLOSE" },   { IORING_OP_READ, "IORING_OP_READ" },
        { IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT" },
    };
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        ok &= probe_result(needed[i].name, ops != NULL && io_uring_opcode_supported(ops, needed[i].op), "");
    io_uring_free_probe(ops);
    rc = io_uring_register_ring_fd(&ring);
    probe_result("io_uring_register_ring_fd", rc == 1, rc == 1 ? "" : strerror(-rc));
    rc = setup_buffers();
    if (!probe_result("provided buffer ring (io_uring_register_buf_ring)", rc == 0, rc == 0 ? "" : strerror(-rc)))
        return 1;

    /* Multishot accept and multishot recv, each for two completions on one request. */
    int lfd = listen_on_loopback(0, 0);
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (lfd < 0 || getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
        fail("probe listener", errno);
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_submit(&ring);
    int clients[2], accepted[2] = { -1, -1 }, more = 1;
    for (int i = 0; i < 2; i++) {
        clients[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (clients[i] < 0 || connect(clients[i], (struct sockaddr *)&addr, sizeof addr) < 0)
            fail("probe connect", errno);
        struct io_uring_cqe *cqe;
        if (probe_wait(&cqe) == 0) {
            accepted[i] = cqe->res;
            more &= (cqe->flags & IORING_CQE_F_MORE) != 0;
            io_uring_cqe_seen(&ring, cqe);
        }
    }
    char detail[128];
    snprintf(detail, sizeof detail, "accepted %d and %d, IORING_CQE_F_MORE %s", accepted[0], accepted[1],
             more ? "set" : "not set");
    ok &= probe_result("multishot accept", accepted[0] >= 0 && accepted[1] >= 0 && more, detail);
    if (accepted[0] >= 0) {
        sqe = get_sqe();
        io_uring_prep_recv_multishot(sqe, accepted[0], NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = BUF_GROUP;
        io_uring_submit(&ring);
        int got = 0, buffers = 1;
        more = 1;
        for (int i = 0; i < 2; i++) {
            if (send(clients[0], "ping", 4, MSG_NOSIGNAL) != 4)
                fail("probe send", errno);
            struct io_uring_cqe *cqe;
            if (probe_wait(&cqe) == 0) {
                got += cqe->res == 4;
                more &= (cqe->flags & IORING_CQE_F_MORE) != 0;
                buffers &= (cqe->flags & IORING_CQE_F_BUFFER) != 0;
                io_uring_cqe_seen(&ring, cqe);
            }
        }
        snprintf(detail, sizeof detail, "%d of 2 sends received, in provided buffers: %s, F_MORE %s", got,
                 buffers ? "yes" : "no", more ? "set" : "not set");
        ok &= probe_result("multishot recv with a provided buffer ring", got == 2 && buffers && more, detail);
    }
    printf("c-uring probe: %s\n", ok ? "everything c-uring uses is supported" : "NOT all supported");
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--probe") == 0)
        return probe();
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT | --probe\n", argv[0]);
        return 2;
    }
    long port = parse_port(argv[1]);
    if (port < 0)
        return 2;

    sigset_t wait_mask; /* see stop_signals.h */
    if (block_stop_signals(&wait_mask) < 0)
        return 1;
    update_date();

    const char *mode = "";
    int rc = setup_ring(&mode);
    if (rc < 0)
        fail("io_uring_setup", -rc);
    /* One fdget less per io_uring_enter; optional (5.18+). */
    int registered = io_uring_register_ring_fd(&ring) == 1;
    if ((rc = setup_buffers()) < 0)
        fail("provided buffer ring", -rc);
    /* Blocking: io_uring polls it (with O_NONBLOCK an accept could complete with -EAGAIN). */
    if ((listen_fd = listen_on_loopback(port, 0)) < 0)
        fail("listen on 127.0.0.1", errno);
    if ((timer_fd = make_date_timer(0)) < 0) /* blocking: io_uring polls it */
        fail("timerfd", errno);
    arm_accept();
    arm_timer_read();

    printf("c-uring listening on 127.0.0.1:%ld (io_uring %s%s, %d x %d-byte provided buffers)\n", port, mode,
           registered ? ", registered ring fd" : "", BUF_COUNT, BUF_SIZE);
    fflush(stdout);

    while (!stop_requested) {
        flush_buffers();
        struct io_uring_cqe *cqe;
        rc = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, NULL, &wait_mask);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME)
            fail("io_uring_enter", -rc);
        unsigned head, count = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            on_completion(cqe);
            count++;
        }
        io_uring_cq_advance(&ring, count);
    }

    fprintf(stderr,
            "c-uring: %lu connections accepted, %lu closed; recv ENOBUFS %lu, partial sends %lu, "
            "reads stopped %lu, accept pauses %lu\n",
            stats.accepted, stats.closed, stats.enobufs, stats.partial_sends, stats.read_stops,
            stats.accept_pauses);
    /* Connections are reclaimed by the kernel at exit. */
    io_uring_queue_exit(&ring);
    close(timer_fd);
    close(listen_fd);
    return 0;
}
