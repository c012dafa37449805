// A minimal io_uring for one purpose: submit a loop's socket sends as one
// batch and wait for all of them. Raw syscalls (no liburing, which is not a
// dependency we may add). One ring per event-loop thread; not thread-safe.
#define _GNU_SOURCE
#include "CTickerShim.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ticker_uring {
    int fd;
    // Submission queue: the kernel reads `tail`, writes `head`.
    _Atomic uint32_t *sq_head;
    _Atomic uint32_t *sq_tail;
    uint32_t sq_mask;
    uint32_t sq_entries;
    struct io_uring_sqe *sqes;
    // Completion queue: the kernel writes `tail`, reads `head`.
    _Atomic uint32_t *cq_head;
    _Atomic uint32_t *cq_tail;
    uint32_t cq_mask;
    struct io_uring_cqe *cqes;
    // Our view: SQEs written but not yet published / submitted / completed.
    uint32_t local_tail;
    uint32_t unsubmitted;
    uint32_t in_flight;
    void *sq_ring;
    size_t sq_ring_size;
    void *cq_ring;
    size_t cq_ring_size;
    size_t sqes_size;
};

// Newer than this system's <linux/io_uring.h> in places; the values are ABI.
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif

static int uring_setup(unsigned entries, struct io_uring_params *p) {
    return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags) {
    return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

static void uring_unmap(ticker_uring *r) {
    if (r->sqes) munmap(r->sqes, r->sqes_size);
    if (r->cq_ring && r->cq_ring != r->sq_ring) munmap(r->cq_ring, r->cq_ring_size);
    if (r->sq_ring) munmap(r->sq_ring, r->sq_ring_size);
}

ticker_uring *ticker_uring_create(unsigned entries, int *error) {
    // Most useful first. The ring is only ever entered by the loop thread
    // that created it, synchronously: SINGLE_ISSUER lets the kernel skip
    // locking, DEFER_TASKRUN runs completion work only when we ask for
    // events (never as an interrupting task_work), COOP_TASKRUN is the
    // pre-6.1 half of that. SUBMIT_ALL: one bad SQE does not stop the batch.
    static const unsigned attempts[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_SUBMIT_ALL,
        0,
    };
    struct io_uring_params p;
    int fd = -EINVAL;
    for (size_t i = 0; i < sizeof attempts / sizeof attempts[0]; i++) {
        memset(&p, 0, sizeof p);
        p.flags = attempts[i];
        fd = uring_setup(entries, &p);
        if (fd >= 0) break;
        fd = -errno;
        // Only an unknown flag is worth another try; ENOSYS, EPERM (or
        // io_uring_disabled), ENOMEM are final.
        if (fd != -EINVAL) break;
    }
    if (fd < 0) {
        *error = fd;
        return NULL;
    }
    ticker_uring *r = calloc(1, sizeof *r);
    if (r == NULL) {
        close(fd);
        *error = -ENOMEM;
        return NULL;
    }
    r->fd = fd;
    r->sq_ring_size = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
    r->cq_ring_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if (p.features & IORING_FEAT_SINGLE_MMAP) {
        if (r->cq_ring_size > r->sq_ring_size) r->sq_ring_size = r->cq_ring_size;
        r->cq_ring_size = r->sq_ring_size;
    }
    r->sq_ring = mmap(NULL, r->sq_ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (r->sq_ring == MAP_FAILED) {
        r->sq_ring = NULL;
        goto fail;
    }
    if (p.features & IORING_FEAT_SINGLE_MMAP) {
        r->cq_ring = r->sq_ring;
    } else {
        r->cq_ring = mmap(NULL, r->cq_ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
        if (r->cq_ring == MAP_FAILED) {
            r->cq_ring = NULL;
            goto fail;
        }
    }
    r->sqes_size = p.sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) {
        r->sqes = NULL;
        goto fail;
    }
    char *sq = r->sq_ring, *cq = r->cq_ring;
    r->sq_head = (_Atomic uint32_t *)(sq + p.sq_off.head);
    r->sq_tail = (_Atomic uint32_t *)(sq + p.sq_off.tail);
    r->sq_mask = *(uint32_t *)(sq + p.sq_off.ring_mask);
    r->sq_entries = p.sq_entries;
    // The indirection array maps ring slot i to SQE i, once and for all.
    uint32_t *array = (uint32_t *)(sq + p.sq_off.array);
    for (uint32_t i = 0; i < p.sq_entries; i++) array[i] = i;
    r->cq_head = (_Atomic uint32_t *)(cq + p.cq_off.head);
    r->cq_tail = (_Atomic uint32_t *)(cq + p.cq_off.tail);
    r->cq_mask = *(uint32_t *)(cq + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    r->local_tail = atomic_load_explicit(r->sq_tail, memory_order_relaxed);
    return r;
fail:
    *error = -errno;
    uring_unmap(r);
    close(fd);
    free(r);
    return NULL;
}

void ticker_uring_destroy(ticker_uring *r) {
    if (r == NULL) return;
    uring_unmap(r);
    close(r->fd);
    free(r);
}

unsigned ticker_uring_capacity(const ticker_uring *r) { return r->sq_entries; }

int ticker_uring_queue_send(ticker_uring *r, int fd, const struct msghdr *msg, uint64_t user_data) {
    // Our own SQEs only: the kernel consumes everything before we queue more.
    if (r->in_flight + r->unsubmitted >= r->sq_entries) return -1;
    struct io_uring_sqe *sqe = &r->sqes[r->local_tail & r->sq_mask];
    memset(sqe, 0, sizeof *sqe);
    sqe->fd = fd;
    // MSG_DONTWAIT: a full socket completes with -EAGAIN (REQ_F_NOWAIT)
    // instead of arming an internal poll; the loop's EPOLLOUT takes over.
    sqe->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
    sqe->user_data = user_data;
    if (msg->msg_iovlen == 1) {
        // One segment: IORING_OP_SEND skips copying and importing a msghdr.
        sqe->opcode = IORING_OP_SEND;
        sqe->addr = (uint64_t)(uintptr_t)msg->msg_iov[0].iov_base;
        sqe->len = (uint32_t)msg->msg_iov[0].iov_len;
    } else {
        sqe->opcode = IORING_OP_SENDMSG;
        sqe->addr = (uint64_t)(uintptr_t)msg;
        sqe->len = 1;
    }
    r->local_tail++;
    r->unsubmitted++;
    return 0;
}

int ticker_uring_submit_and_reap(ticker_uring *r, ticker_uring_cqe *out, unsigned max, int *error) {
    *error = 0;
    // Publish the SQEs: the kernel must see their contents before the tail.
    atomic_store_explicit(r->sq_tail, r->local_tail, memory_order_release);
    r->in_flight += r->unsubmitted;
    unsigned to_submit = r->unsubmitted;
    r->unsubmitted = 0;
    unsigned reaped = 0;
    while (r->in_flight > 0 && reaped < max) {
        uint32_t head = atomic_load_explicit(r->cq_head, memory_order_relaxed);
        uint32_t tail = atomic_load_explicit(r->cq_tail, memory_order_acquire);
        while (head != tail && reaped < max) {
            struct io_uring_cqe *cqe = &r->cqes[head & r->cq_mask];
            out[reaped].user_data = cqe->user_data;
            out[reaped].res = cqe->res;
            reaped++;
            head++;
            r->in_flight--;
        }
        atomic_store_explicit(r->cq_head, head, memory_order_release);
        if (r->in_flight == 0 || reaped == max) break;
        // Sends with MSG_DONTWAIT complete inline during submission, so one
        // enter normally submits and reaps the whole batch.
        int n = uring_enter(r->fd, to_submit, r->in_flight, IORING_ENTER_GETEVENTS);
        if (n < 0) {
            if (errno == EINTR) {
                // What was submitted before the signal: the SQ head says.
                to_submit = r->local_tail - atomic_load_explicit(r->sq_head, memory_order_acquire);
                continue;
            }
            // The batch is half done: the caller gets what completed.
            *error = -errno;
            break;
        }
        to_submit -= (unsigned)n < to_submit ? (unsigned)n : to_submit;
    }
    return (int)reaped;
}
