/* The C half of the io_uring engine: compiled into kvserver.native._kvuring
   by build_uring.py, which declares its interface to cffi and documents it. */

#include <errno.h>
#include <signal.h>
#include <stddef.h>
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
#define KVU_CAP_DEFER_TASKRUN 8
#define KVU_CAP_COOP_TASKRUN 16

/* Op kinds, in the low bits of user_data. */
enum { K_ACCEPT, K_RECV, K_RECV_INTO, K_SEND, K_CANCEL, K_TIMER };
#define KIND_BITS 3
#define KIND_MASK 7u
#define SLOT_MAX (1u << 29)

/* Event kinds: the first five are the engine's public ones
   (ACCEPT, RECV, CLOSED, SENT, SEND_ERROR); the rest are for it alone. */
enum { E_ACCEPT, E_RECV, E_CLOSED, E_SENT, E_SEND_ERROR,
       E_RECV_INBUF,   /* RECV whose bytes are in kvu_inbuf(slot) */
       E_UNPIN,        /* res pinned sends, oldest first, are done with */
       E_RECV_PART };  /* bytes of the RECV that follows for this slot */
#define KVU_E_RECV_INBUF E_RECV_INBUF
#define KVU_E_UNPIN E_UNPIN
#define KVU_E_RECV_PART E_RECV_PART

/* A collect stops while this many events still fit: one CQE makes at
   most two, one client's delivery at most MAX_PARTS + 1. */
#define KVU_SLACK 32
#define MAX_PARTS 16

/* The one buffer group this engine registers. */
#define KVU_BGID 0

/* Accept back-off after EMFILE and friends: rearming at once would spin. */
#define KVU_BACKOFF_NS 100000000LL

/* poll(None) without our own enter waits in slices this long; liburing
   only guarantees a single io_uring_enter per call given a timeout. */
#define KVU_FOREVER_SLICE_S 3600

/* Copied sends go into segments of at least this size; a turn's small
   replies for one client share one. */
#define SEG_MIN 16384
/* Spare segments of SEG_MIN kept for reuse, engine-wide. */
#define SEG_POOL 64

/* Received data handed to the caller per client per turn, in bytes and
   in buffers (kvu_set_budget).  A multishot recv reads whatever arrives;
   a client pipelining faster than the server runs would otherwise bring
   hundreds of KB into one turn, all parsed before any of it runs, out of
   the cache.  The rest waits in its buffers for the next turns, as
   epoll's loop leaves it in the socket; past THROTTLE_PARTS budgets'
   worth the client's recv is cancelled until the backlog is delivered,
   so one client cannot take every buffer (and TCP pushes back). */
#define BUDGET_BYTES 65536
#define BUDGET_PARTS 8
#define THROTTLE_PARTS 2

struct kvu_ev {
    uint32_t slot;
    uint32_t kind;
    int32_t res;
    uint32_t off;
};

struct seg {
    struct seg *next;
    const char *ptr;        /* the bytes: data[] or the caller's (pinned) */
    size_t len, off;        /* bytes queued / already sent */
    size_t cap;             /* 0: pinned memory, else data[]'s size */
    char data[];
};

struct reg {
    int fd;
    uint32_t gen;
    unsigned char used, listener, removed, send_failed;
    unsigned char armed;    /* 1 << kind per request in flight */
    unsigned char todo;     /* 1 << kind per request to prepare next turn */
    unsigned char cancel;   /* 1 << kind per request to cancel next turn */
    unsigned char on_todo;  /* the slot is on the todo list */
    unsigned char sending;  /* a send is in flight or prepared next turn */
    unsigned char on_ready; /* the slot is on the ready list */
    unsigned char throttled;    /* backlog too long: recv cancelled */
    unsigned char rearm;    /* rearm the recv once the backlog is down */
    struct seg *head, *tail;
    size_t queued;          /* bytes queued or in flight, unsent */
    char *inbuf;            /* recv buffer without a buffer ring */
    uint32_t next_free;
    int32_t rhead, rtail;   /* received buffers not delivered yet (bids) */
    uint32_t rbufs;         /* how many */
    int hold_err;           /* CLOSED to report after them: errno + 1 */
    uint32_t rturn;         /* the turn rsent counts */
    uint32_t rsent, rparts; /* bytes and buffers delivered in that turn */
};

struct kvu {
    struct io_uring ring;
    struct io_uring_buf_ring *br;   /* NULL: no provided-buffer ring */
    char *bufs;                     /* nbufs * buf_size bytes, or NULL */
    size_t bufs_len;
    size_t br_len;
    unsigned buf_size, nbufs, mask;
    unsigned short *done;           /* buffer ids to give back at the next call */
    unsigned ndone;
    int32_t *hnext;                 /* per buffer id: the next one held for its client */
    uint32_t *hlen;                 /* per buffer id: bytes in it */
    uint32_t budget, parts;         /* delivery per client per turn */
    uint32_t turn;
    int caps;
    struct __kernel_timespec backoff;
    unsigned long long enters;
    unsigned long long accept_errors;
    int last_accept_error;
    unsigned long long throttles;

    struct reg *regs;               /* slots; regs[i].used or on the free list */
    uint32_t nslots, free_head, live;
    uint32_t *todo;                 /* slots with work to prepare (cap nslots) */
    uint32_t ntodo;
    uint32_t *ready;                /* slots with received data to deliver */
    uint32_t nready;
    unsigned cancels_in_flight;
    struct seg *pool[SEG_POOL];
    unsigned npool;
};

#define NO_SLOT 0xffffffffu

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
    u->done = calloc(nbufs, sizeof(*u->done));
    u->hnext = calloc(nbufs, sizeof(*u->hnext));
    u->hlen = calloc(nbufs, sizeof(*u->hlen));
    if (u->bufs == MAP_FAILED || !u->done || !u->hnext || !u->hlen) {
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
    free(u->done);
    free(u->hnext);
    free(u->hlen);
    free(u->br);
    u->bufs = NULL;
    u->done = NULL;
    u->hnext = NULL;
    u->hlen = NULL;
    u->br = NULL;
    return ret;
}

static int ring_init(struct kvu *u, unsigned entries, unsigned flags)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | flags;
    p.cq_entries = entries * 4;
    return io_uring_queue_init_params(entries, &u->ring, &p);
}

/* entries: SQ size; the CQ gets four times as many (multishot requests
   post several CQEs each).  nbufs must be a power of two <= 32768.
   want: the KVU_CAP_* the caller allows (tests turn features off).
   NULL and *err = -errno when no ring can be had. */
struct kvu *kvu_open(unsigned entries, unsigned buf_size, unsigned nbufs,
                     int want, int *err)
{
    struct kvu *u = calloc(1, sizeof(*u));
    int ret = -EINVAL, caps = 0;

    if (!u) {
        *err = -ENOMEM;
        return NULL;
    }
    /* Newest first; a kernel that does not know a flag says EINVAL.
       SUBMIT_ALL (5.18) keeps one bad SQE from holding back the rest of
       a batch.  DEFER_TASKRUN needs 6.1, whose enter takes EXT_ARG. */
    if (want & KVU_CAP_DEFER_TASKRUN) {
        ret = ring_init(u, entries, IORING_SETUP_SUBMIT_ALL |
                        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
        if (ret == 0) {
            if (u->ring.features & IORING_FEAT_EXT_ARG)
                caps |= KVU_CAP_DEFER_TASKRUN;
            else {
                io_uring_queue_exit(&u->ring);
                ret = -EINVAL;
            }
        }
    }
    if (ret == -EINVAL && (want & KVU_CAP_COOP_TASKRUN)) {
        ret = ring_init(u, entries, IORING_SETUP_SUBMIT_ALL |
                        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
        if (ret == 0)
            caps |= KVU_CAP_COOP_TASKRUN;
    }
    if (ret == -EINVAL)
        ret = ring_init(u, entries, IORING_SETUP_SUBMIT_ALL);
    if (ret == -EINVAL)
        ret = ring_init(u, entries, 0);
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
    caps &= want | KVU_CAP_DEFER_TASKRUN | KVU_CAP_COOP_TASKRUN;
    if ((want & KVU_CAP_BUF_RING) && setup_buf_ring(u, buf_size, nbufs) == 0)
        caps |= KVU_CAP_BUF_RING;
    /* Multishot recv picks its buffers from the ring: no ring, no multishot. */
    if (!(caps & KVU_CAP_BUF_RING))
        caps &= ~KVU_CAP_MULTISHOT_RECV;
    u->caps = caps;
    u->buf_size = buf_size;
    u->backoff.tv_sec = KVU_BACKOFF_NS / 1000000000LL;
    u->backoff.tv_nsec = KVU_BACKOFF_NS % 1000000000LL;
    u->free_head = NO_SLOT;
    u->budget = BUDGET_BYTES;
    u->parts = BUDGET_PARTS;
    *err = 0;
    return u;
}

static void free_segs(struct seg *s)
{
    while (s) {
        struct seg *next = s->next;
        free(s);
        s = next;
    }
}

/* free_buffers = 0 when operations may still be in flight: their memory
   (buffers, send queues) is then left allocated rather than risk the
   kernel writing or reading freed memory. */
void kvu_close(struct kvu *u, int free_buffers)
{
    uint32_t i;
    if (!u)
        return;
    io_uring_queue_exit(&u->ring);
    if (free_buffers) {
        if (u->bufs)
            munmap(u->bufs, u->bufs_len);
        free(u->br);
        for (i = 0; i < u->nslots; i++) {
            free_segs(u->regs[i].head);
            free(u->regs[i].inbuf);
        }
        free(u->regs);
    }
    for (i = 0; i < u->npool; i++)
        free(u->pool[i]);
    free(u->todo);
    free(u->ready);
    free(u->done);
    free(u->hnext);
    free(u->hlen);
    free(u);
}

int kvu_caps(struct kvu *u) { return u->caps; }
char *kvu_bufs(struct kvu *u) { return u->bufs; }
unsigned long long kvu_enters(struct kvu *u) { return u->enters; }
unsigned long long kvu_accept_errors(struct kvu *u) { return u->accept_errors; }
int kvu_last_accept_error(struct kvu *u) { return u->last_accept_error; }
/* Registrations alive, removed ones still draining included. */
unsigned kvu_nregs(struct kvu *u) { return u->live; }
/* Times a client's recv was stopped for its backlog. */
unsigned long long kvu_throttles(struct kvu *u) { return u->throttles; }
/* Slots with work waiting for the next turn. */
unsigned kvu_pending(struct kvu *u) { return u->ntodo; }
/* Anything the kernel may still be doing for us. */
int kvu_busy(struct kvu *u) { return u->live || u->cancels_in_flight || u->ntodo; }

/* Tests shrink the delivery budget; 0 keeps a value as it is. */
void kvu_set_budget(struct kvu *u, unsigned bytes, unsigned parts)
{
    if (bytes)
        u->budget = bytes;
    if (parts)
        u->parts = parts < MAX_PARTS ? parts : MAX_PARTS;
}

/* -- registrations ------------------------------------------------------ */

static void schedule(struct kvu *u, uint32_t slot)
{
    struct reg *r = &u->regs[slot];
    if (!r->on_todo) {
        r->on_todo = 1;
        u->todo[u->ntodo++] = slot;
    }
}

static void want(struct kvu *u, uint32_t slot, unsigned kind)
{
    u->regs[slot].todo |= 1u << kind;
    schedule(u, slot);
}

static void cancel(struct kvu *u, uint32_t slot, unsigned kind)
{
    u->regs[slot].cancel |= 1u << kind;
    schedule(u, slot);
}

static int grow(struct kvu *u)
{
    uint32_t n = u->nslots ? u->nslots * 2 : 64, i;
    struct reg *regs;
    uint32_t *todo;
    if (n > SLOT_MAX || n < u->nslots)
        return -ENOMEM;
    regs = realloc(u->regs, (size_t)n * sizeof(*regs));
    if (!regs)
        return -ENOMEM;
    u->regs = regs;
    todo = realloc(u->todo, (size_t)n * sizeof(*todo));
    if (!todo)
        return -ENOMEM;     /* regs grew, nslots did not: harmless */
    u->todo = todo;
    todo = realloc(u->ready, (size_t)n * sizeof(*todo));
    if (!todo)
        return -ENOMEM;
    u->ready = todo;
    memset(regs + u->nslots, 0, (size_t)(n - u->nslots) * sizeof(*regs));
    for (i = n; i-- > u->nslots;) {
        regs[i].next_free = u->free_head;
        u->free_head = i;
    }
    u->nslots = n;
    return 0;
}

/* A new registration: a listener (multishot accept) or a client
   (multishot recv), armed at the next turn.  Returns its slot. */
int kvu_add(struct kvu *u, int fd, int listener)
{
    uint32_t slot;
    struct reg *r;
    char *inbuf = NULL;

    if (!listener && !u->br && !(inbuf = malloc(u->buf_size)))
        return -ENOMEM;
    if (u->free_head == NO_SLOT && grow(u) < 0) {
        free(inbuf);
        return -ENOMEM;
    }
    slot = u->free_head;
    r = &u->regs[slot];
    u->free_head = r->next_free;
    r->fd = fd;
    r->used = 1;
    r->listener = listener != 0;
    r->removed = r->send_failed = r->sending = 0;
    r->armed = r->cancel = 0;
    r->head = r->tail = NULL;
    r->queued = 0;
    r->inbuf = inbuf;
    r->todo = 0;
    r->throttled = r->rearm = 0;
    r->rhead = r->rtail = -1;
    r->rbufs = 0;
    r->hold_err = 0;
    r->rturn = u->turn - 1;
    u->live++;
    want(u, slot, listener ? K_ACCEPT : K_RECV);
    return (int)slot;
}

static void put_seg(struct kvu *u, struct seg *s)
{
    if (s->cap == SEG_MIN && u->npool < SEG_POOL)
        u->pool[u->npool++] = s;
    else
        free(s);
}

/* Drops the queued segments from `s` on; returns how many were pinned. */
static int drop_segs(struct kvu *u, struct seg *s)
{
    int pinned = 0;
    while (s) {
        struct seg *next = s->next;
        if (!s->cap)
            pinned++;
        put_seg(u, s);
        s = next;
    }
    return pinned;
}

/* The received buffers nobody will see go back at the next call. */
static void release_held(struct kvu *u, struct reg *r)
{
    while (r->rhead >= 0) {
        u->done[u->ndone++] = (unsigned short)r->rhead;
        r->rhead = u->hnext[r->rhead];
    }
    r->rtail = -1;
    r->rbufs = 0;
    r->hold_err = 0;
}

static void forget(struct kvu *u, uint32_t slot)
{
    struct reg *r = &u->regs[slot];
    drop_segs(u, r->head);
    free(r->inbuf);
    r->head = r->tail = NULL;
    r->inbuf = NULL;
    r->used = 0;
    r->gen++;
    r->todo = r->cancel = 0;
    r->next_free = u->free_head;
    u->free_head = slot;
    u->live--;
}

/* No event of this registration is reported again.  Its requests in
   flight are cancelled at the next turn; it is forgotten (the slot freed)
   after their final CQEs.  The queued sends not in flight are dropped at
   once: returns how many of those were pinned (the newest ones of the
   caller's list), -ENOENT for a slot not in use. */
int kvu_remove(struct kvu *u, unsigned slot)
{
    struct reg *r;
    int pinned;
    if (slot >= u->nslots || !u->regs[slot].used || u->regs[slot].removed)
        return -ENOENT;
    r = &u->regs[slot];
    r->removed = 1;
    r->queued = 0;
    release_held(u, r);
    if (r->armed & (1u << K_SEND)) {
        /* The head is the kernel's until its CQE. */
        pinned = drop_segs(u, r->head->next);
        r->head->next = NULL;
        r->tail = r->head;
    } else {
        pinned = drop_segs(u, r->head);
        r->head = r->tail = NULL;
    }
    r->todo = 0;
    if (!r->armed) {
        forget(u, slot);
        return pinned;
    }
    r->cancel = r->armed;
    schedule(u, slot);
    return pinned;
}

static struct reg *live_client(struct kvu *u, unsigned slot)
{
    struct reg *r;
    if (slot >= u->nslots)
        return NULL;
    r = &u->regs[slot];
    if (!r->used || r->removed || r->listener || r->send_failed)
        return NULL;
    return r;
}

static void queued(struct kvu *u, uint32_t slot, struct reg *r, size_t len)
{
    r->queued += len;
    if (!r->sending) {
        r->sending = 1;
        want(u, slot, K_SEND);
    }
}

static int append_copy(struct kvu *u, uint32_t slot, struct reg *r,
                       const char *buf, size_t len)
{
    struct seg *t = r->tail;
    if (!t || !t->cap || t->cap - t->len < len) {
        /* Bytes before t->len may be in flight; later ones are ours to
           write, so a new segment is needed only when full. */
        size_t cap = len > SEG_MIN ? len : SEG_MIN;
        if (cap == SEG_MIN && u->npool)
            t = u->pool[--u->npool];
        else if (!(t = malloc(sizeof(*t) + cap)))
            return -ENOMEM;
        t->next = NULL;
        t->ptr = t->data;
        t->len = t->off = 0;
        t->cap = cap;
        if (r->tail)
            r->tail->next = t;
        else
            r->head = t;
        r->tail = t;
    }
    memcpy(t->data + t->len, buf, len);
    t->len += len;
    queued(u, slot, r, len);
    return 0;
}

/* Queues a copy of buf.  1: ignored (not a live client, or its sends
   failed), 0: queued, -ENOMEM. */
int kvu_send(struct kvu *u, unsigned slot, const char *buf, size_t len)
{
    struct reg *r = live_client(u, slot);
    if (!r || !len)
        return 1;
    return append_copy(u, slot, r, buf, len);
}

/* Queues buf as it is: the caller keeps it alive and unchanged until an
   UNPIN event counts it done.  1: ignored (nothing to keep), 0: queued. */
int kvu_send_pinned(struct kvu *u, unsigned slot, const char *buf, size_t len)
{
    struct reg *r = live_client(u, slot);
    struct seg *s;
    if (!r || !len)
        return 1;
    if (!(s = malloc(sizeof(*s))))
        return -ENOMEM;
    s->next = NULL;
    s->ptr = buf;
    s->len = len;
    s->off = s->cap = 0;
    if (r->tail)
        r->tail->next = s;
    else
        r->head = s;
    r->tail = s;
    queued(u, slot, r, len);
    return 0;
}

size_t kvu_queued(struct kvu *u, unsigned slot)
{
    struct reg *r = live_client(u, slot);
    return r ? r->queued : 0;
}

char *kvu_inbuf(struct kvu *u, unsigned slot)
{
    return slot < u->nslots ? u->regs[slot].inbuf : NULL;
}

/* -- the loop turn -------------------------------------------------------- */

static inline uint64_t ud_of(struct reg *r, uint32_t slot, unsigned kind)
{
    return ((uint64_t)r->gen << 32) | ((uint64_t)slot << KIND_BITS) | kind;
}

/* One SQE for `kind` of r; -EBUSY when the SQ is full. */
static int prep(struct kvu *u, struct reg *r, uint32_t slot, unsigned kind)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    struct seg *s;
    if (!sqe)
        return -EBUSY;
    switch (kind) {
    case K_ACCEPT:
        /* Accepted sockets come out non-blocking and close-on-exec: the
           server may still use plain socket calls on them. */
        if (u->caps & KVU_CAP_MULTISHOT_ACCEPT)
            io_uring_prep_multishot_accept(sqe, r->fd, NULL, NULL,
                                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        else
            io_uring_prep_accept(sqe, r->fd, NULL, NULL,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        break;
    case K_RECV:
        if (!u->br) {
            kind = K_RECV_INTO;
            io_uring_prep_recv(sqe, r->fd, r->inbuf, u->buf_size, 0);
            break;
        }
        /* len 0: the provided buffer's size */
        if (u->caps & KVU_CAP_MULTISHOT_RECV)
            io_uring_prep_recv_multishot(sqe, r->fd, NULL, 0, 0);
        else
            io_uring_prep_recv(sqe, r->fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = KVU_BGID;
        break;
    case K_SEND:
        /* MSG_NOSIGNAL: a reset peer is an EPIPE completion, not SIGPIPE. */
        s = r->head;
        io_uring_prep_send(sqe, r->fd, s->ptr + s->off, s->len - s->off,
                           MSG_NOSIGNAL);
        break;
    case K_TIMER:
        /* Completes (-ETIME) after KVU_BACKOFF_NS; the kernel copies the
           timespec at submission. */
        io_uring_prep_timeout(sqe, &u->backoff, 0, 0);
        break;
    }
    io_uring_sqe_set_data64(sqe, ud_of(r, slot, kind));
    r->armed |= 1u << kind;
    return 0;
}

/* The recorded work as SQEs.  -EBUSY when the SQ filled up: the rest
   stays recorded for the next turn, which then must not sleep. */
static int prepare(struct kvu *u)
{
    uint32_t i, j;
    for (i = 0; i < u->ntodo; i++) {
        uint32_t slot = u->todo[i];
        struct reg *r = &u->regs[slot];
        r->on_todo = 0;
        if (!r->used)
            continue;
        if (r->cancel) {
            /* What is still in flight of it (a removed registration's
               requests, a throttled recv): each (slot, kind) names
               exactly one request. */
            unsigned bits = r->cancel & r->armed, k;
            for (k = 0; bits; k++) {
                struct io_uring_sqe *sqe;
                if (!(bits & (1u << k)))
                    continue;
                if (!(sqe = io_uring_get_sqe(&u->ring)))
                    goto full;
                io_uring_prep_cancel64(sqe, ud_of(r, slot, k), 0);
                io_uring_sqe_set_data64(sqe, K_CANCEL);
                u->cancels_in_flight++;
                bits &= ~(1u << k);
                r->cancel &= ~(1u << k);
            }
            r->cancel = 0;
        }
        if (r->removed) {
            r->todo = 0;
            continue;
        }
        while (r->todo) {
            unsigned k = (unsigned)__builtin_ctz(r->todo);
            if (k == K_SEND && !r->head)
                r->sending = 0;     /* defensive: nothing left to send */
            else if (prep(u, r, slot, k) < 0)
                goto full;
            r->todo &= ~(1u << k);
        }
    }
    u->ntodo = 0;
    return 0;
full:
    /* Keep this slot and the rest, in order. */
    u->regs[u->todo[i]].on_todo = 1;
    for (j = 0; i < u->ntodo; i++, j++)
        u->todo[j] = u->todo[i];
    u->ntodo = j;
    return -EBUSY;
}

/* Gives the buffers of the previous batch back with one tail update. */
static void recycle(struct kvu *u)
{
    unsigned i;
    if (!u->ndone)
        return;
    for (i = 0; i < u->ndone; i++) {
        unsigned short bid = u->done[i];
        io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * u->buf_size,
                              u->buf_size, bid, u->mask, (int)i);
    }
    io_uring_buf_ring_advance(u->br, (int)u->ndone);
    u->ndone = 0;
}

static inline struct kvu_ev *ev(struct kvu_ev *e, uint32_t slot, unsigned kind,
                                int32_t res, uint32_t off)
{
    e->slot = slot;
    e->kind = kind;
    e->res = res;
    e->off = off;
    return e + 1;
}

/* Accept failures after which a new accept is tried at once; anything
   else (EMFILE, ENFILE, ENOMEM, ...) waits for the back-off timer. */
static int retry_now(int err)
{
    switch (err) {
    case ECONNABORTED: case EINTR: case EAGAIN: case EPROTO: case EPERM:
    case ENETDOWN: case EHOSTUNREACH: case ENETUNREACH:
        return 1;
    }
    return 0;
}

/* A recv's final CQE: the next one is armed at the next turn, unless the
   client is throttled (then once its backlog is delivered). */
static void rearm(struct kvu *u, uint32_t slot, struct reg *r)
{
    if (r->throttled)
        r->rearm = 1;
    else
        want(u, slot, K_RECV);
}

static void ready(struct kvu *u, uint32_t slot, struct reg *r)
{
    if (!r->on_ready) {
        r->on_ready = 1;
        u->ready[u->nready++] = slot;
    }
}

static struct kvu_ev *recv_failed(struct kvu *u, uint32_t slot, struct reg *r,
                                  int res, struct kvu_ev *e)
{
    int err = -res;
    if (err == ENOBUFS || err == EINTR || err == EAGAIN || err == ECANCELED) {
        /* ENOBUFS: this batch used every provided buffer; they are
           recycled before the next submit, so the rearm finds some.
           ECANCELED: the throttle's cancel. */
        rearm(u, slot, r);
        return e;
    }
    if (err == EINVAL && (u->caps & KVU_CAP_MULTISHOT_RECV)) {
        /* The opcodes of 6.0 yet no multishot recv: one-shot from now on. */
        u->caps &= ~KVU_CAP_MULTISHOT_RECV;
        rearm(u, slot, r);
        return e;
    }
    if (r->rhead >= 0) {
        /* After the data still held for it. */
        r->hold_err = err + 1;
        ready(u, slot, r);
        return e;
    }
    return ev(e, slot, E_CLOSED, err, 0);   /* err 0: EOF */
}

static struct kvu_ev *sent(struct kvu *u, uint32_t slot, struct reg *r,
                           int res, struct kvu_ev *e)
{
    struct seg *s = r->head;
    int err, pinned;
    if (!s) {               /* cannot be: the head is what was sent */
        r->sending = 0;
        return e;
    }
    if (res > 0) {
        e = ev(e, slot, E_SENT, res, 0);
        r->queued -= (size_t)res;
        s->off += (size_t)res;
        if (s->off == s->len) {
            if (!s->cap)
                e = ev(e, slot, E_UNPIN, 1, 0);
            r->head = s->next;
            if (!r->head)
                r->tail = NULL;
            put_seg(u, s);
        }
        /* The rest of a short send, or what was queued behind it. */
        if (r->head)
            want(u, slot, K_SEND);
        else
            r->sending = 0;
        return e;
    }
    /* res == 0 cannot come from a stream socket given a non-empty buffer;
       were it to, resubmitting could spin, so it fails the queue. */
    err = res < 0 ? -res : EIO;
    if (err == EINTR || err == EAGAIN) {
        want(u, slot, K_SEND);
        return e;
    }
    r->send_failed = 1;
    r->sending = 0;
    r->queued = 0;
    pinned = drop_segs(u, r->head);
    r->head = r->tail = NULL;
    if (pinned)
        e = ev(e, slot, E_UNPIN, pinned, 0);
    return ev(e, slot, E_SEND_ERROR, err, 0);
}

static struct kvu_ev *accepted(struct kvu *u, uint32_t slot, int res, int more,
                               struct kvu_ev *e)
{
    int err;
    if (res >= 0) {
        if (!more)
            want(u, slot, K_ACCEPT);
        return ev(e, slot, E_ACCEPT, res, 0);
    }
    err = -res;
    if (more) {     /* a failed connection; the multishot accept goes on */
        u->accept_errors++;
        u->last_accept_error = err;
        return e;
    }
    if (err == EINVAL && (u->caps & KVU_CAP_MULTISHOT_ACCEPT)) {
        u->caps &= ~KVU_CAP_MULTISHOT_ACCEPT;
        want(u, slot, K_ACCEPT);
        return e;
    }
    u->accept_errors++;
    u->last_accept_error = err;
    want(u, slot, retry_now(err) ? K_ACCEPT : K_TIMER);
    return e;
}

/* One CQE: at most two events. */
static struct kvu_ev *handle(struct kvu *u, const struct io_uring_cqe *cqe,
                             struct kvu_ev *e)
{
    uint64_t ud = cqe->user_data;
    unsigned kind = (unsigned)(ud & KIND_MASK);
    uint32_t slot = (uint32_t)(ud >> KIND_BITS) & (SLOT_MAX - 1);
    int res = cqe->res;
    unsigned flags = cqe->flags;
    int more = (flags & IORING_CQE_F_MORE) != 0;
    struct reg *r;

    /* A buffer with data for a live client is held for delivery; any
       other goes back at the next call, whatever became of the CQE. */
    if ((flags & IORING_CQE_F_BUFFER) && u->br) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        if (kind == K_RECV && res > 0 && slot < u->nslots &&
                u->regs[slot].used && !u->regs[slot].removed &&
                u->regs[slot].gen == (uint32_t)(ud >> 32)) {
            r = &u->regs[slot];
            u->hnext[bid] = -1;
            u->hlen[bid] = (uint32_t)res;
            if (r->rtail >= 0)
                u->hnext[r->rtail] = (int32_t)bid;
            else
                r->rhead = (int32_t)bid;
            r->rtail = (int32_t)bid;
            r->rbufs++;
            ready(u, slot, r);
        } else if (u->ndone < u->nbufs) {
            u->done[u->ndone++] = (unsigned short)bid;
        }
    }
    /* liburing's own timeout on kernels without IORING_FEAT_EXT_ARG */
    if (ud == LIBURING_UDATA_TIMEOUT)
        return e;
    if (kind == K_CANCEL) {
        u->cancels_in_flight--;
        return e;
    }
    if (slot >= u->nslots)
        return e;
    r = &u->regs[slot];
    if (!r->used || r->gen != (uint32_t)(ud >> 32))
        return e;
    if (!more)
        r->armed &= ~(1u << kind);
    if (r->removed) {
        if (kind == K_ACCEPT && res >= 0)
            close(res);     /* accepted after the remove: nobody's */
        if (kind == K_SEND && r->head) {
            /* The head's final CQE: the kernel is done with it. */
            if (!r->head->cap)
                e = ev(e, slot, E_UNPIN, 1, 0);
            drop_segs(u, r->head);
            r->head = r->tail = NULL;
        }
        if (!r->armed)
            forget(u, slot);
        return e;
    }
    switch (kind) {
    case K_RECV:
        if (res > 0) {      /* its buffer is held above */
            if (!more)
                rearm(u, slot, r);
            return e;
        }
        return recv_failed(u, slot, r, res, e);
    case K_RECV_INTO:
        if (res > 0) {
            want(u, slot, K_RECV);
            return ev(e, slot, E_RECV_INBUF, res, 0);
        }
        return recv_failed(u, slot, r, res, e);
    case K_SEND:
        return sent(u, slot, r, res, e);
    case K_ACCEPT:
        return accepted(u, slot, res, more, e);
    case K_TIMER:
        want(u, slot, K_ACCEPT);
        return e;
    }
    return e;
}

/* Each ready client's held data, up to this turn's budget: its buffers
   as RECV_PART events and a final RECV (the caller joins them), then a
   CLOSED held behind them.  Clients left with a backlog stay ready. */
static struct kvu_ev *deliver(struct kvu *u, struct kvu_ev *e,
                              struct kvu_ev *end)
{
    uint32_t i, j = 0;
    for (i = 0; i < u->nready; i++) {
        uint32_t slot = u->ready[i];
        struct reg *r = &u->regs[slot];
        if (!r->used || r->removed) {
            r->on_ready = 0;
            continue;
        }
        if (end - e < (ptrdiff_t)u->parts + 2) {
            /* No room: this one and the rest at the next call. */
            for (; i < u->nready; i++)
                u->ready[j++] = u->ready[i];
            break;
        }
        if (r->rturn != u->turn) {
            r->rturn = u->turn;
            r->rsent = r->rparts = 0;
        }
        while (r->rhead >= 0 && r->rsent < u->budget && r->rparts < u->parts) {
            uint32_t bid = (uint32_t)r->rhead, len = u->hlen[bid];
            r->rhead = u->hnext[bid];
            if (r->rhead < 0)
                r->rtail = -1;
            r->rbufs--;
            r->rsent += len;
            r->rparts++;
            u->done[u->ndone++] = (unsigned short)bid;
            e = ev(e, slot, (r->rhead < 0 || r->rsent >= u->budget ||
                             r->rparts >= u->parts) ? E_RECV : E_RECV_PART,
                   (int32_t)len, bid * u->buf_size);
        }
        if (r->rhead < 0) {
            if (r->hold_err) {
                e = ev(e, slot, E_CLOSED, r->hold_err - 1, 0);
                r->hold_err = 0;
            }
            if (r->throttled) {
                r->throttled = 0;
                if (r->rearm) {
                    r->rearm = 0;
                    want(u, slot, K_RECV);
                }
            }
            r->on_ready = 0;
            continue;
        }
        if (!r->throttled && r->rbufs > THROTTLE_PARTS * u->parts) {
            r->throttled = 1;
            u->throttles++;
            if (r->armed & (1u << K_RECV))
                cancel(u, slot, K_RECV);
        }
        u->ready[j++] = slot;
    }
    u->nready = j;
    return e;
}

static int collect(struct kvu *u, struct kvu_ev *out, unsigned max)
{
    struct io_uring_cqe *cqe;
    struct kvu_ev *e = out, *end = out + max;
    unsigned head, seen = 0;

    io_uring_for_each_cqe(&u->ring, head, cqe) {
        if (end - e < KVU_SLACK)
            break;
        seen++;
        e = handle(u, cqe, e);
    }
    io_uring_cq_advance(&u->ring, seen);
    return (int)(deliver(u, e, end) - out);
}

/* One io_uring_enter: submit what is queued, run the deferred task work
   (GETEVENTS, even when not waiting), wait up to the timeout. */
static int enter_defer(struct kvu *u, long long timeout_ns)
{
    struct io_uring_sq *sq = &u->ring.sq;
    struct io_uring_getevents_arg arg;
    struct __kernel_timespec ts;
    unsigned tail = sq->sqe_tail;

    /* liburing's flush: the kernel reads SQEs up to the published tail
       (SQ slots map one to one onto SQEs). */
    if (sq->sqe_head != tail) {
        sq->sqe_head = tail;
        io_uring_smp_store_release(sq->ktail, tail);
    }
    memset(&arg, 0, sizeof(arg));
    arg.sigmask_sz = _NSIG / 8;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000LL;
        ts.tv_nsec = timeout_ns % 1000000000LL;
        arg.ts = (uint64_t)(uintptr_t)&ts;
    }
    u->enters++;
    return io_uring_enter2(u->ring.ring_fd, tail - *sq->khead, timeout_ns != 0,
                           IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                           (sigset_t *)&arg, sizeof(arg));
}

static int enter_liburing(struct kvu *u, long long timeout_ns)
{
    struct io_uring_cqe *cqe;
    struct __kernel_timespec ts;
    int ret;
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
        return ret;
    }
}

/* The loop turn.  timeout_ns < 0: until a completion (or a signal);
   0: submit and take what is ready without waiting.  Returns the number
   of events written to out (0 on timeout or EINTR), or -errno when the
   ring itself failed. */
int kvu_poll(struct kvu *u, struct kvu_ev *out, unsigned max,
             long long timeout_ns)
{
    int ret;
    recycle(u);
    u->turn++;
    /* A backlog to deliver, or SQEs that did not fit: no sleeping. */
    if (prepare(u) < 0 || u->nready)
        timeout_ns = 0;
    if (u->caps & KVU_CAP_DEFER_TASKRUN)
        ret = enter_defer(u, timeout_ns);
    else
        ret = enter_liburing(u, timeout_ns);
    /* ETIME: timed out; EINTR: a signal (the caller returns so Python runs
       its handlers); EAGAIN: nothing to submit nor ready; EBUSY: the CQ
       overflowed (older kernels), reaping is the cure.  The SQEs a failed
       enter did not take stay queued for the next turn. */
    if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN &&
        ret != -EBUSY && !io_uring_cq_ready(&u->ring))
        return ret;
    return collect(u, out, max);
}

int kvu_reap(struct kvu *u, struct kvu_ev *out, unsigned max)
{
    recycle(u);
    return collect(u, out, max);
}
