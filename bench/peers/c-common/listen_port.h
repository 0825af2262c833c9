/*
 * listen_port.h - the PORT argument and the loopback listening socket of the C HTTP responders
 * (c-http, c-uring), shared so that both listen the same way.
 */
#ifndef EDDY_PEERS_LISTEN_PORT_H
#define EDDY_PEERS_LISTEN_PORT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The port in arg (1-65535), or -1 after a message on stderr. */
static long parse_port(const char *arg)
{
    char *end = NULL;
    long port = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "invalid port: %s\n", arg);
        return -1;
    }
    return port;
}

/* A socket listening on 127.0.0.1:port (0: any free port) with SO_REUSEADDR and a backlog of
 * SOMAXCONN; type_flags are ORed into the socket type (SOCK_NONBLOCK for epoll, none for io_uring).
 * -1 with errno set on failure. */
static int listen_on_loopback(long port, int type_flags)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, SOMAXCONN) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

#endif
