#ifndef C_TICKER_SHIM_H
#define C_TICKER_SHIM_H

// Glibc's Swift module does not expose epoll, eventfd or timerfd, and
// `struct epoll_event` is packed on x86_64, which Swift cannot import
// faithfully. These wrappers give Swift plain, unpacked types.

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
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

/// A minimal io_uring that submits a batch of socket sends at once
/// (uring.c). Confined to the thread that created it.
typedef struct ticker_uring ticker_uring;
typedef struct {
    uint64_t user_data;
    int32_t res;
} ticker_uring_cqe;

/// A ring of at least `entries` SQEs, or NULL with `*error` = -errno
/// (ENOSYS: no io_uring; EPERM: disabled by sysctl or seccomp).
ticker_uring *ticker_uring_create(unsigned entries, int *error);
void ticker_uring_destroy(ticker_uring *ring);
/// SQEs the ring holds: at most this many sends per batch.
unsigned ticker_uring_capacity(const ticker_uring *ring);
/// Queues one send of `msg`'s iovecs on `fd` (MSG_NOSIGNAL | MSG_DONTWAIT:
/// a full socket completes with -EAGAIN). `msg` and its iovecs must stay
/// valid until the batch is reaped. -1 when the ring is full.
int ticker_uring_queue_send(ticker_uring *ring, int fd, const struct msghdr *msg, uint64_t user_data);
/// Submits every queued send, waits until all have completed and copies up
/// to `max` completions to `out`; returns how many. `*error` is -errno if
/// io_uring_enter failed (the rest of the batch is then unaccounted for).
int ticker_uring_submit_and_reap(ticker_uring *ring, ticker_uring_cqe *out, unsigned max, int *error);

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
/// Asks the kernel to stamp each received segment with its arrival time
/// (SO_TIMESTAMPNS, CLOCK_REALTIME). 0 on success, else the errno.
int ticker_set_rx_timestamps(int fd);
/// Reads like read(2) through recvmsg; `*arrival_ns` is the kernel's arrival
/// time of the last segment the read took (0 when the kernel gave none).
ssize_t ticker_read_stamped(int fd, void *buf, size_t len, uint64_t *arrival_ns);

uint64_t ticker_now_ns(void);          // CLOCK_REALTIME, ns since the Unix epoch
uint64_t ticker_monotonic_ns(void);    // CLOCK_MONOTONIC
/// Sleeps until the monotonic clock reads `deadline_ns` (absolute, EINTR-safe).
void ticker_sleep_until(uint64_t deadline_ns);

#endif
#include "ticker_process.h"
