#define _GNU_SOURCE
#include "ticker_process.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int ticker_set_notsent_lowat(int fd, int bytes) {
    return setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof bytes) == 0 ? 0 : -errno;
}

int ticker_peer_address(int fd, uint8_t out[16]) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) return -errno;
    memset(out, 0, 16);
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, &in->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        memcpy(out, &in6->sin6_addr, 16);
    } else {
        return -EAFNOSUPPORT;
    }
    return 0;
}

int ticker_malloc_trim(void) { return malloc_trim(0); }

int64_t ticker_resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f) return -1;
    long long size = 0, resident = 0;
    int n = fscanf(f, "%lld %lld", &size, &resident);
    fclose(f);
    if (n != 2) return -1;
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

int ticker_open_descriptors(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') count++;
    }
    closedir(d);
    return count - 1; // the directory stream's own descriptor
}

int64_t ticker_raise_nofile_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -errno;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return -errno;
    }
    return (int64_t)rl.rlim_cur;
}

int64_t ticker_nofile_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -errno;
    return rl.rlim_cur == RLIM_INFINITY ? INT64_MAX : (int64_t)rl.rlim_cur;
}

int ticker_connect_from(const char *host, uint16_t port, const char *source, int rcvbuf) {
    struct sockaddr_in to = {0}, from = {0};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    from.sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || inet_pton(AF_INET, source, &from.sin_addr) != 1) return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    // Non-blocking: EINTR, like EINPROGRESS, means the connect goes on.
    int r = connect(fd, (struct sockaddr *)&to, sizeof to);
    if (r == 0 || errno == EINPROGRESS || errno == EINTR) return fd;
    int err = errno;
    close(fd);
    return -err;
}

int ticker_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}

void ticker_heap_stats(int64_t *in_use, int64_t *free_held) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    *in_use = (int64_t)(mi.uordblks + mi.hblkhd);
    *free_held = (int64_t)mi.fordblks;
#else
    *in_use = -1;
    *free_held = -1;
#endif
}
