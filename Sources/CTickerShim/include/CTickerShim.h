#ifndef C_TICKER_SHIM_H
#define C_TICKER_SHIM_H

// Glibc's Swift module does not expose epoll, eventfd or timerfd, and
// `struct epoll_event` is packed on x86_64, which Swift cannot import
// faithfully. These wrappers give Swift plain, unpacked types.

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct {
    uint32_t events;
    uint64_t data;
} ticker_epoll_event;

extern const uint32_t TICKER_EPOLLIN;
extern const uint32_t TICKER_EPOLLOUT;
extern const uint32_t TICKER_EPOLLERR;
extern const uint32_t TICKER_EPOLLHUP;
extern const uint32_t TICKER_EPOLLRDHUP;
extern const uint32_t TICKER_EPOLLET;

int ticker_epoll_create(void);
int ticker_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int ticker_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int ticker_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data);
int ticker_epoll_del(int epfd, int fd);
/// Waits for at most `max` events (max <= 1024) and copies them out unpacked.
int ticker_epoll_wait(int epfd, ticker_epoll_event *out, int max, int timeout_ms);

int ticker_eventfd(void);
int ticker_eventfd_signal(int fd);
int ticker_eventfd_drain(int fd);

int ticker_timerfd(uint64_t interval_ns);
/// Returns expirations since the last read, 0 if none, -1 on error.
int64_t ticker_timerfd_drain(int fd);

/// sendmsg with MSG_NOSIGNAL: a peer reset gives EPIPE, never SIGPIPE.
ssize_t ticker_sendv(int fd, const struct iovec *iov, int iovcnt);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int ticker_accept(int listen_fd);

int ticker_set_nodelay(int fd);
int ticker_set_reuse(int fd, int reuse_port);
/// Sets SO_REUSEPORT on an existing (possibly listening) socket.
int ticker_set_reuseport(int fd);
int ticker_set_nonblocking(int fd);
int ticker_set_sndbuf(int fd, int bytes);
int ticker_set_rcvbuf(int fd, int bytes);

/// Creates a non-blocking IPv4/IPv6 TCP listening socket bound to host:port.
/// Returns the fd or -errno.
int ticker_listen(const char *host, uint16_t port, int backlog, int reuse_port);
/// Port a socket is bound to (0 on error).
uint16_t ticker_local_port(int fd);
/// Starts a non-blocking connect; returns fd or -errno (EINPROGRESS is success).
/// `rcvbuf` > 0 sets SO_RCVBUF before connecting (it must precede the handshake).
int ticker_connect(const char *host, uint16_t port, int rcvbuf);
/// 0 when a non-blocking connect finished successfully, else the errno.
int ticker_socket_error(int fd);

uint64_t ticker_now_ns(void);          // CLOCK_REALTIME, ns since the Unix epoch
uint64_t ticker_monotonic_ns(void);    // CLOCK_MONOTONIC
/// Sleeps until the monotonic clock reads `deadline_ns` (absolute, EINTR-safe).
void ticker_sleep_until(uint64_t deadline_ns);

#endif
#include "ticker_process.h"
