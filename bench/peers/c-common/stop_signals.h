/*
 * stop_signals.h - how the C benchmark peers stop on SIGTERM/SIGINT without losing the signal.
 *
 * The handler only sets stop_requested. SIGTERM and SIGINT stay blocked except inside
 * epoll_pwait(..., wait_mask), which unblocks them atomically: a stop signal either interrupts
 * the wait (EINTR) or is seen by the loop's `while (!stop_requested)` check, never lost in
 * between (as it could be with a plain epoll_wait). SIGPIPE is ignored: a peer that went away
 * is an EPIPE from send, not a dead server.
 */
#ifndef EDDY_PEERS_STOP_SIGNALS_H
#define EDDY_PEERS_STOP_SIGNALS_H

#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Installs the handler and blocks the stop signals; *wait_mask is the mask to pass to
 * epoll_pwait. Returns 0, or -1 (with a message on stderr) if the mask cannot be set. */
static int block_stop_signals(sigset_t *wait_mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    if (sigprocmask(SIG_BLOCK, &stop_signals, wait_mask) < 0) {
        perror("sigprocmask");
        return -1;
    }
    sigdelset(wait_mask, SIGTERM);
    sigdelset(wait_mask, SIGINT);
    return 0;
}

#endif
