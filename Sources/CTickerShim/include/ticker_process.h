#ifndef TICKER_PROCESS_H
#define TICKER_PROCESS_H
#include <stdint.h>

/// Sets TCP_NOTSENT_LOWAT: the kernel keeps at most about this many bytes
/// not yet sent, so a slow reader's backlog stays in user space where the
/// server can see and conflate it. Returns 0 or -errno.
int ticker_set_notsent_lowat(int fd, int bytes);
/// The peer's address as 16 bytes (IPv4 mapped into ::ffff:a.b.c.d).
/// Returns 0, or -errno when it cannot be read.
int ticker_peer_address(int fd, uint8_t out[16]);
/// Gives free heap memory back to the kernel (glibc malloc_trim).
int ticker_malloc_trim(void);
/// Resident set size of this process in bytes (from /proc/self/statm), or -1.
int64_t ticker_resident_bytes(void);
/// Open descriptors of this process (entries of /proc/self/fd), or -1.
int ticker_open_descriptors(void);
/// CPUs this process may run on (its affinity mask, as set by taskset or a
/// container), or -1.
int ticker_available_cpus(void);
/// glibc heap figures (mallinfo2): bytes in use (small and mmapped blocks)
/// and bytes free but still held by malloc. Both -1 when unavailable.
void ticker_heap_stats(int64_t *in_use, int64_t *free_held);
/// Raises the soft open-file limit to the hard limit; returns the new soft limit or -errno.
int64_t ticker_raise_nofile_limit(void);
/* The soft RLIMIT_NOFILE in force (INT64_MAX when unlimited); -errno on failure. */
int64_t ticker_nofile_limit(void);

/// Non-blocking IPv4 connect from a chosen local address (load tests use
/// many addresses of 127.0.0.0/8). Returns fd or -errno.
int ticker_connect_from(const char *host, uint16_t port, const char *source, int rcvbuf);

#endif
