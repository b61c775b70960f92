"""cffi build script for kvserver.native._kvuring (run by setup.py).

The C half of kvserver's io_uring completion engine (kvserver/net/uring.py).
It is deliberately thin: the engine's bookkeeping (registrations, send
queues, rearming) is Python; C does only what must touch the rings.

- `kvu_accept`, `kvu_recv`, `kvu_recv_into`, `kvu_send`, `kvu_cancel`,
  `kvu_backoff` each fill one SQE and return; nothing is submitted.  They
  return -EBUSY when the submission queue is full (the caller keeps the
  operation for the next turn), never entering the kernel themselves.
- `kvu_submit_wait` is the loop turn: it gives the provided buffers of the
  previous batch back to the kernel, then makes ONE
  io_uring_submit_and_wait_timeout call (submit everything queued, wait up
  to the timeout) and copies the ready CQEs into the caller's array of
  `struct kvu_cqe` (user_data, res, flags), so Python walks a compact
  array instead of calling into liburing per completion.  `kvu_reap`
  copies further ready CQEs without entering the kernel (a batch larger
  than the array).  Counting: `enters` is incremented once per
  io_uring_submit_and_wait_timeout call; given a timeout, liburing makes
  at most one io_uring_enter per call (it stops after one when a timeout
  is set), so the counter is an upper bound the tests can assert on.
- Received data lands in a provided-buffer ring (io_uring_register_buf_ring,
  Linux 5.19+): `nbufs` buffers of `buf_size` bytes in one mapping.  A
  multishot recv picks a buffer per completion; the CQE carries its id.
  The caller copies the bytes out (one slice of the mapping) before its
  next kvu_submit_wait/kvu_reap, which recycle every buffer handed out in
  the previous batch with a single ring-tail update.  Buffers are recycled
  here, whatever Python does with the completion (a cancelled client's
  late data included), so none can leak out of the ring.
- The only memory the kernel reads from Python is a send's data: the
  engine passes ffi.from_buffer pointers and keeps the objects alive until
  the send's CQE.  Everything else (rings, buffers, the backoff timespec)
  is owned here, and `kvu_close` frees the buffers only when told that no
  operation is in flight any more.

Feature probe (`kvu_caps`): multishot accept came with Linux 5.19 and
multishot recv with 6.0; the io_uring probe reports opcodes, not flags, so
an opcode of the same release stands in (IORING_OP_SOCKET for 5.19,
IORING_OP_SEND_ZC for 6.0).  The engine also falls back at run time when a
multishot request fails with EINVAL.
"""

from cffi import FFI

CDEF = """
struct kvu_cqe {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
};

struct kvu;

#define KVU_CAP_MULTISHOT_ACCEPT 1
#define KVU_CAP_MULTISHOT_RECV 2
#define KVU_CAP_BUF_RING 4

#define KVU_CQE_F_MORE ...
#define KVU_CQE_F_BUFFER ...
#define KVU_CQE_BUFFER_SHIFT ...

int kvu_probe(void);
struct kvu *kvu_open(unsigned entries, unsigned buf_size, unsigned nbufs,
                     int want, int *err);
void kvu_close(struct kvu *u, int free_buffers);
int kvu_caps(struct kvu *u);
char *kvu_bufs(struct kvu *u);
unsigned long long kvu_enters(struct kvu *u);

int kvu_accept(struct kvu *u, int fd, uint64_t ud, int multishot);
int kvu_recv(struct kvu *u, int fd, uint64_t ud, int multishot);
int kvu_recv_into(struct kvu *u, int fd, uint64_t ud, char *buf, unsigned len);
int kvu_send(struct kvu *u, int fd, uint64_t ud, const char *buf, size_t off,
             size_t len);
int kvu_cancel(struct kvu *u, uint64_t target, uint64_t ud);
int kvu_backoff(struct kvu *u, uint64_t ud);

int kvu_submit_wait(struct kvu *u, struct kvu_cqe *out, unsigned max,
                    long long timeout_ns);
int kvu_reap(struct kvu *u, struct kvu_cqe *out, unsigned max);
"""

SOURCE = r"""
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <liburing.h>

#define KVU_CAP_MULTISHOT_ACCEPT 1
#define KVU_CAP_MULTISHOT_RECV 2
#define KVU_CAP_BUF_RING 4

#define KVU_CQE_F_MORE IORING_CQE_F_MORE
#define KVU_CQE_F_BUFFER IORING_CQE_F_BUFFER
#define KVU_CQE_BUFFER_SHIFT IORING_CQE_BUFFER_SHIFT

/* The one buffer group this engine registers. */
#define KVU_BGID 0

/* Accept back-off after EMFILE and friends: rearming at once would spin. */
#define KVU_BACKOFF_NS 100000000LL

/* poll(None) waits in slices this long; liburing only guarantees a
   single io_uring_enter per call when a timeout is given. */
#define KVU_FOREVER_SLICE_S 3600

struct kvu_cqe {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
};

struct kvu {
    struct io_uring ring;
    struct io_uring_buf_ring *br;   /* NULL: no provided-buffer ring */
    char *bufs;                     /* nbufs * buf_size bytes, or NULL */
    size_t bufs_len;
    size_t br_len;
    unsigned buf_size, nbufs, mask;
    unsigned short *held;           /* buffer ids handed out by the last reap */
    unsigned nheld;
    int caps;
    struct __kernel_timespec backoff;
    unsigned long long enters;
};

/* The operations the engine cannot do without (Linux 5.6+).  An older
   kernel has io_uring but no socket operations: unusable, said plainly. */
static int has_socket_ops(struct io_uring *ring, int *caps)
{
    struct io_uring_probe *p = io_uring_get_probe_ring(ring);
    int ok;
    if (!p)
        return 0;
    ok = io_uring_opcode_supported(p, IORING_OP_ACCEPT) &&
         io_uring_opcode_supported(p, IORING_OP_RECV) &&
         io_uring_opcode_supported(p, IORING_OP_SEND) &&
         io_uring_opcode_supported(p, IORING_OP_ASYNC_CANCEL) &&
         io_uring_opcode_supported(p, IORING_OP_TIMEOUT);
    if (caps) {
        if (io_uring_opcode_supported(p, IORING_OP_SOCKET))
            *caps |= KVU_CAP_MULTISHOT_ACCEPT;
        if (io_uring_opcode_supported(p, IORING_OP_SEND_ZC))
            *caps |= KVU_CAP_MULTISHOT_RECV;
    }
    io_uring_free_probe(p);
    return ok;
}

/* 0 when a ring can be set up and has the socket operations, else a
   negative errno (-EOPNOTSUPP: io_uring without socket operations). */
int kvu_probe(void)
{
    struct io_uring ring;
    int ret = io_uring_queue_init(2, &ring, 0);
    if (ret < 0)
        return ret;
    ret = has_socket_ops(&ring, NULL) ? 0 : -EOPNOTSUPP;
    io_uring_queue_exit(&ring);
    return ret;
}

static int setup_buf_ring(struct kvu *u, unsigned buf_size, unsigned nbufs)
{
    struct io_uring_buf_reg reg;
    long page = sysconf(_SC_PAGESIZE);
    unsigned i;
    void *mem;
    int ret;

    u->br_len = (size_t)nbufs * sizeof(struct io_uring_buf);
    /* The ring itself must be page aligned for the kernel to map it. */
    if (posix_memalign(&mem, page > 0 ? (size_t)page : 4096, u->br_len))
        return -ENOMEM;
    u->br = mem;
    u->bufs_len = (size_t)nbufs * buf_size;
    u->bufs = mmap(NULL, u->bufs_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    u->held = calloc(nbufs, sizeof(*u->held));
    if (u->bufs == MAP_FAILED || !u->held) {
        ret = -ENOMEM;
        goto fail;
    }
    memset(&reg, 0, sizeof(reg));
    reg.ring_addr = (unsigned long)(uintptr_t)u->br;
    reg.ring_entries = nbufs;
    reg.bgid = KVU_BGID;
    ret = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (ret < 0)
        goto fail;
    u->buf_size = buf_size;
    u->nbufs = nbufs;
    u->mask = io_uring_buf_ring_mask(nbufs);
    io_uring_buf_ring_init(u->br);
    for (i = 0; i < nbufs; i++)
        io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * buf_size, buf_size,
                              (unsigned short)i, u->mask, (int)i);
    io_uring_buf_ring_advance(u->br, (int)nbufs);
    return 0;
fail:
    if (u->bufs && u->bufs != MAP_FAILED)
        munmap(u->bufs, u->bufs_len);
    free(u->held);
    free(u->br);
    u->bufs = NULL;
    u->held = NULL;
    u->br = NULL;
    return ret;
}

/* entries: SQ size; the CQ gets four times as many (multishot requests
   post several CQEs each).  nbufs must be a power of two <= 32768.
   want: the KVU_CAP_* the caller allows (tests turn features off).
   NULL and *err = -errno when no ring can be had. */
struct kvu *kvu_open(unsigned entries, unsigned buf_size, unsigned nbufs,
                     int want, int *err)
{
    struct io_uring_params p;
    struct kvu *u = calloc(1, sizeof(*u));
    int ret, caps = 0;

    if (!u) {
        *err = -ENOMEM;
        return NULL;
    }
    memset(&p, 0, sizeof(p));
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL;
    p.cq_entries = entries * 4;
    ret = io_uring_queue_init_params(entries, &u->ring, &p);
    if (ret == -EINVAL) {
        /* SUBMIT_ALL (5.18) keeps one bad SQE from holding back the rest
           of a batch; older kernels reject the flag, so do without. */
        memset(&p, 0, sizeof(p));
        p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
        p.cq_entries = entries * 4;
        ret = io_uring_queue_init_params(entries, &u->ring, &p);
    }
    if (ret < 0) {
        free(u);
        *err = ret;
        return NULL;
    }
    if (!has_socket_ops(&u->ring, &caps)) {
        io_uring_queue_exit(&u->ring);
        free(u);
        *err = -EOPNOTSUPP;
        return NULL;
    }
    /* A forked child (daemonize, a persistence child) must not share the
       rings' pages; it never uses them. */
    io_uring_ring_dontfork(&u->ring);
    caps &= want;
    if ((want & KVU_CAP_BUF_RING) && setup_buf_ring(u, buf_size, nbufs) == 0)
        caps |= KVU_CAP_BUF_RING;
    /* Multishot recv picks its buffers from the ring: no ring, no multishot. */
    if (!(caps & KVU_CAP_BUF_RING))
        caps &= ~KVU_CAP_MULTISHOT_RECV;
    u->caps = caps;
    u->backoff.tv_sec = KVU_BACKOFF_NS / 1000000000LL;
    u->backoff.tv_nsec = KVU_BACKOFF_NS % 1000000000LL;
    *err = 0;
    return u;
}

/* free_buffers = 0 when operations may still be in flight: their buffers
   are then left mapped rather than risk the kernel writing freed memory. */
void kvu_close(struct kvu *u, int free_buffers)
{
    if (!u)
        return;
    io_uring_queue_exit(&u->ring);
    if (free_buffers) {
        if (u->bufs)
            munmap(u->bufs, u->bufs_len);
        free(u->br);
    }
    free(u->held);
    free(u);
}

int kvu_caps(struct kvu *u) { return u->caps; }
char *kvu_bufs(struct kvu *u) { return u->bufs; }
unsigned long long kvu_enters(struct kvu *u) { return u->enters; }

/* Accepted sockets come out non-blocking and close-on-exec: the server
   may still use plain socket calls on them (a last error reply). */
int kvu_accept(struct kvu *u, int fd, uint64_t ud, int multishot)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return -EBUSY;
    if (multishot)
        io_uring_prep_multishot_accept(sqe, fd, NULL, NULL,
                                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    else
        io_uring_prep_accept(sqe, fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, ud);
    return 0;
}

/* A recv that picks its buffer from the ring (len 0: the buffer's size). */
int kvu_recv(struct kvu *u, int fd, uint64_t ud, int multishot)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return -EBUSY;
    if (multishot)
        io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    else
        io_uring_prep_recv(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = KVU_BGID;
    io_uring_sqe_set_data64(sqe, ud);
    return 0;
}

/* Kernels without a buffer ring: a one-shot recv into the caller's buffer. */
int kvu_recv_into(struct kvu *u, int fd, uint64_t ud, char *buf, unsigned len)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return -EBUSY;
    io_uring_prep_recv(sqe, fd, buf, len, 0);
    io_uring_sqe_set_data64(sqe, ud);
    return 0;
}

/* MSG_NOSIGNAL: a reset peer is an EPIPE completion, never a SIGPIPE. */
int kvu_send(struct kvu *u, int fd, uint64_t ud, const char *buf, size_t off,
             size_t len)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return -EBUSY;
    io_uring_prep_send(sqe, fd, buf + off, len, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, ud);
    return 0;
}

/* Cancels the request whose user_data is `target` (the engine never has
   two requests with one user_data in flight). */
int kvu_cancel(struct kvu *u, uint64_t target, uint64_t ud)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return -EBUSY;
    io_uring_prep_cancel64(sqe, target, 0);
    io_uring_sqe_set_data64(sqe, ud);
    return 0;
}

/* A timeout that completes (-ETIME) after KVU_BACKOFF_NS.  The kernel
   copies the timespec when the SQE is submitted; u->backoff outlives it. */
int kvu_backoff(struct kvu *u, uint64_t ud)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe)
        return -EBUSY;
    io_uring_prep_timeout(sqe, &u->backoff, 0, 0);
    io_uring_sqe_set_data64(sqe, ud);
    return 0;
}

/* Gives the buffers of the previous batch back with one tail update. */
static void recycle(struct kvu *u)
{
    unsigned i;
    if (!u->nheld)
        return;
    for (i = 0; i < u->nheld; i++) {
        unsigned short bid = u->held[i];
        io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * u->buf_size,
                              u->buf_size, bid, u->mask, (int)i);
    }
    io_uring_buf_ring_advance(u->br, (int)u->nheld);
    u->nheld = 0;
}

static int collect(struct kvu *u, struct kvu_cqe *out, unsigned max)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0, seen = 0;

    io_uring_for_each_cqe(&u->ring, head, cqe) {
        if (n == max)
            break;
        seen++;
        /* liburing's own timeout on kernels without IORING_FEAT_EXT_ARG */
        if (cqe->user_data == LIBURING_UDATA_TIMEOUT)
            continue;
        out[n].user_data = cqe->user_data;
        out[n].res = cqe->res;
        out[n].flags = cqe->flags;
        if ((cqe->flags & IORING_CQE_F_BUFFER) && u->br && u->nheld < u->nbufs)
            u->held[u->nheld++] = (unsigned short)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        n++;
    }
    io_uring_cq_advance(&u->ring, seen);
    return (int)n;
}

/* The loop turn.  timeout_ns < 0: until a completion (or a signal);
   0: submit and take what is ready without waiting.  Returns the number
   of CQEs copied to out (0 on timeout or EINTR), or -errno when the ring
   itself failed. */
int kvu_submit_wait(struct kvu *u, struct kvu_cqe *out, unsigned max,
                    long long timeout_ns)
{
    struct io_uring_cqe *cqe;
    struct __kernel_timespec ts;
    int ret;

    recycle(u);
    for (;;) {
        unsigned wait_nr = timeout_ns != 0;
        if (timeout_ns < 0) {
            ts.tv_sec = KVU_FOREVER_SLICE_S;
            ts.tv_nsec = 0;
        } else {
            ts.tv_sec = timeout_ns / 1000000000LL;
            ts.tv_nsec = timeout_ns % 1000000000LL;
        }
        u->enters++;
        ret = io_uring_submit_and_wait_timeout(&u->ring, &cqe, wait_nr, &ts, NULL);
        if (ret == -ETIME && timeout_ns < 0 && !io_uring_cq_ready(&u->ring))
            continue;
        break;
    }
    /* ETIME: timed out; EINTR: a signal (the caller returns so Python runs
       its handlers); EAGAIN: nothing to submit nor ready; EBUSY: the CQ
       overflowed (older kernels), reaping is the cure.  The SQEs a failed
       enter did not take stay queued for the next turn. */
    if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN &&
        ret != -EBUSY && !io_uring_cq_ready(&u->ring))
        return ret;
    return collect(u, out, max);
}

int kvu_reap(struct kvu *u, struct kvu_cqe *out, unsigned max)
{
    recycle(u);
    return collect(u, out, max);
}
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "kvserver.native._kvuring",
    SOURCE,
    libraries=["uring"],
    extra_compile_args=["-O2"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
