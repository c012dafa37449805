#define _GNU_SOURCE
#include "CTickerShim.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

const uint32_t TICKER_EPOLLIN = EPOLLIN;
const uint32_t TICKER_EPOLLOUT = EPOLLOUT;
const uint32_t TICKER_EPOLLERR = EPOLLERR;
const uint32_t TICKER_EPOLLHUP = EPOLLHUP;
const uint32_t TICKER_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t TICKER_EPOLLET = EPOLLET;

int ticker_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int ticker_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

int ticker_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) {
    return ticker_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, events, data);
}

int ticker_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data) {
    return ticker_epoll_ctl(epfd, EPOLL_CTL_MOD, fd, events, data);
}

int ticker_epoll_del(int epfd, int fd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

int ticker_epoll_wait(int epfd, ticker_epoll_event *out, int max, int timeout_ms) {
    struct epoll_event evs[1024];
    if (max > 1024) max = 1024;
    int n;
    do {
        n = epoll_wait(epfd, evs, max, timeout_ms);
    } while (n < 0 && errno == EINTR && timeout_ms < 0);
    /* With a timeout, an interrupted wait returns nothing ready: the caller
       works out what is left of its deadline rather than waiting it anew. */
    if (n < 0 && errno == EINTR) n = 0;
    for (int i = 0; i < n; i++) {
        out[i].events = evs[i].events;
        out[i].data = evs[i].data.u64;
    }
    return n;
}

int ticker_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int ticker_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t r;
    do {
        r = write(fd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
    // EAGAIN means the counter is saturated: the loop is already due to wake.
    return (r < 0 && errno != EAGAIN) ? -1 : 0;
}

int ticker_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t r;
    do {
        r = read(fd, &value, sizeof value);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

int ticker_timerfd(uint64_t interval_ns) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -1;
    struct itimerspec spec;
    spec.it_interval.tv_sec = (time_t)(interval_ns / 1000000000ull);
    spec.it_interval.tv_nsec = (long)(interval_ns % 1000000000ull);
    spec.it_value = spec.it_interval;
    if (timerfd_settime(fd, 0, &spec, NULL) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int64_t ticker_timerfd_drain(int fd) {
    uint64_t expirations = 0;
    ssize_t r;
    do {
        r = read(fd, &expirations, sizeof expirations);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return errno == EAGAIN ? 0 : -1;
    return (int64_t)expirations;
}

ssize_t ticker_sendv(int fd, const struct iovec *iov, int iovcnt) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)iovcnt;
    ssize_t r;
    do {
        r = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    return r;
}

int ticker_accept(int listen_fd) {
    int fd;
    do {
        fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

int ticker_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int ticker_set_reuse(int fd, int reuse_port) {
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return -1;
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) return -1;
    return 0;
}

int ticker_set_reuseport(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}

int ticker_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int ticker_set_sndbuf(int fd, int bytes) {
    return setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

int ticker_set_rcvbuf(int fd, int bytes) {
    return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

static int resolve(const char *host, uint16_t port, int passive, struct addrinfo **out) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    hints.ai_flags |= AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int rc = getaddrinfo(host, service, &hints, out);
    if (rc != 0) return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    return 0;
}

int ticker_listen(const char *host, uint16_t port, int backlog, int reuse_port) {
    struct addrinfo *ai = NULL;
    int rc = resolve(host, port, 1, &ai);
    if (rc < 0) return rc;
    int err = EADDRNOTAVAIL;
    for (struct addrinfo *p = ai; p != NULL; p = p->ai_next) {
        int fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) { err = errno; continue; }
        if (ticker_set_reuse(fd, reuse_port) < 0 || bind(fd, p->ai_addr, p->ai_addrlen) < 0 ||
            listen(fd, backlog) < 0) {
            err = errno;
            close(fd);
            // The port is taken on this address: say so, rather than quietly
            // listening on the host's next address instead.
            if (err == EADDRINUSE) break;
            continue;
        }
        freeaddrinfo(ai);
        return fd;
    }
    freeaddrinfo(ai);
    return -err;
}

uint16_t ticker_local_port(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int ticker_connect(const char *host, uint16_t port, int rcvbuf) {
    struct addrinfo *ai = NULL;
    int rc = resolve(host, port, 0, &ai);
    if (rc < 0) return rc;
    int err = EADDRNOTAVAIL;
    for (struct addrinfo *p = ai; p != NULL; p = p->ai_next) {
        int fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) { err = errno; continue; }
        if (rcvbuf > 0) ticker_set_rcvbuf(fd, rcvbuf);
        int r;
        do {
            r = connect(fd, p->ai_addr, p->ai_addrlen);
        } while (r < 0 && errno == EINTR);
        if (r == 0 || errno == EINPROGRESS) {
            freeaddrinfo(ai);
            return fd;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(ai);
    return -err;
}

int ticker_socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

int ticker_set_rx_timestamps(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 ? errno : 0;
}

ssize_t ticker_read_stamped(int fd, void *buf, size_t len, uint64_t *arrival_ns) {
    struct iovec vec = { .iov_base = buf, .iov_len = len };
    union { char bytes[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } control;
    struct msghdr msg = { .msg_iov = &vec, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes };
    ssize_t n = recvmsg(fd, &msg, 0);
    *arrival_ns = 0;
    if (n <= 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            *arrival_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        }
    }
    return n;
}

uint64_t ticker_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ticker_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ticker_sleep_until(uint64_t deadline_ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ns / 1000000000ull);
    ts.tv_nsec = (long)(deadline_ns % 1000000000ull);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}
