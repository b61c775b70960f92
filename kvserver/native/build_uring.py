"""cffi build script for kvserver.native._kvuring (run by setup.py).

The C half of kvserver's io_uring completion engine (kvserver/net/uring.py).
Everything done once per request lives here, so that Python makes O(1)
calls per loop turn plus one per send, and touches each completion only
to hand it to its caller:

- Registrations are slots in a table (`kvu_add`, `kvu_remove`): the fd,
  the requests in flight, the work to prepare at the next turn, the send
  queue.  user_data is (generation << 32) | (slot << 3) | op kind; a slot
  is reused (with the next generation) only once every request of its
  previous registration has posted its final CQE, so no completion can
  be taken for another registration's.
- `kvu_send` copies the data into the registration's send queue (small
  replies of one turn land in one buffer: one send for them all);
  `kvu_send_pinned` queues the caller's memory as it is (large replies,
  no copy), and the completion that finishes with it says so (UNPIN).
- `kvu_poll` is the loop turn: it gives the provided buffers of the
  previous batch back to the kernel, turns the recorded work into SQEs
  (cancels, rearms, sends), makes ONE io_uring_enter (submit everything,
  wait up to the timeout), then handles the CQEs itself -- rearming,
  advancing send queues, counting accept failures -- and writes the
  caller a compact array of events `struct kvu_ev` (slot, kind, res,
  off).  `kvu_reap` handles further ready CQEs without entering the
  kernel (more than the array holds).  `enters` counts the
  io_uring_enter calls.
- SQEs are prepared only inside kvu_poll, right before the submit: no
  SQE sits in the ring, unsubmitted, while the caller may close an fd and
  open another with the same number.
- Received data lands in a provided-buffer ring (io_uring_register_buf_ring,
  Linux 5.19+): `nbufs` buffers of `buf_size` bytes in one mapping.  The
  buffers a client's recv filled are held for it and handed over at
  most a budget a turn (BUDGET_BYTES, BUDGET_PARTS): RECV_PART events
  and a final RECV, whose `off` is the offset of the bytes in the
  mapping (the caller joins them).  The rest waits for the next turns,
  which then do not sleep; past THROTTLE_PARTS budgets of backlog the
  client's recv is cancelled until it is delivered.  The caller copies
  the bytes out before its next kvu_poll/kvu_reap, which recycle every
  buffer handed over (or a removed client's) with one ring-tail update.
  Without a buffer ring each client has its own buffer (kvu_inbuf) and a
  one-shot recv into it, rearmed at the next turn, after the copy.
- Task work: on 6.1+ the ring is set up with IORING_SETUP_DEFER_TASKRUN
  (and SINGLE_ISSUER): the kernel finishes completions only inside our
  io_uring_enter, in a batch, instead of interrupting the running thread
  with an IPI for each arriving packet (under redis-benchmark -c 50 those
  interrupts took about 40% of the server's CPU).  Then only the thread
  that created the engine may call kvu_poll, and the enter is made here
  (GETEVENTS always, so a turn that does not wait still reaps).  On 5.19+
  COOP_TASKRUN gives most of the same (no IPI; the work runs at the
  thread's next kernel entry); older kernels take the interrupts.
- Memory the kernel may still touch (send queues, the buffers) is freed
  only after the final CQE of the request using it; `kvu_close` leaves it
  allocated when told that requests may still be in flight.

Feature probe: multishot accept came with Linux 5.19 and multishot recv
with 6.0; the io_uring probe reports opcodes, not flags, so an opcode of
the same release stands in (IORING_OP_SOCKET for 5.19, IORING_OP_SEND_ZC
for 6.0).  A multishot request refused with EINVAL falls back to one-shot
requests at run time.
"""

import os

from cffi import FFI

CDEF = """
struct kvu_ev {
    uint32_t slot;
    uint32_t kind;
    int32_t res;
    uint32_t off;
};

struct kvu;

#define KVU_CAP_MULTISHOT_ACCEPT 1
#define KVU_CAP_MULTISHOT_RECV 2
#define KVU_CAP_BUF_RING 4
#define KVU_CAP_DEFER_TASKRUN 8
#define KVU_CAP_COOP_TASKRUN 16

#define KVU_E_RECV_INBUF ...
#define KVU_E_UNPIN ...
#define KVU_E_RECV_PART ...
#define KVU_SLACK ...

int kvu_probe(void);
struct kvu *kvu_open(unsigned entries, unsigned buf_size, unsigned nbufs,
                     int want, int *err);
void kvu_close(struct kvu *u, int free_buffers);
int kvu_caps(struct kvu *u);
char *kvu_bufs(struct kvu *u);
unsigned long long kvu_enters(struct kvu *u);
unsigned long long kvu_accept_errors(struct kvu *u);
int kvu_last_accept_error(struct kvu *u);
unsigned kvu_nregs(struct kvu *u);
unsigned long long kvu_throttles(struct kvu *u);
unsigned kvu_pending(struct kvu *u);
int kvu_busy(struct kvu *u);

int kvu_add(struct kvu *u, int fd, int listener);
int kvu_remove(struct kvu *u, unsigned slot);
int kvu_send(struct kvu *u, unsigned slot, const char *buf, size_t len);
int kvu_send_pinned(struct kvu *u, unsigned slot, const char *buf, size_t len);
size_t kvu_queued(struct kvu *u, unsigned slot);
char *kvu_inbuf(struct kvu *u, unsigned slot);

void kvu_set_budget(struct kvu *u, unsigned bytes, unsigned parts);
int kvu_poll(struct kvu *u, struct kvu_ev *out, unsigned max,
             long long timeout_ns);
int kvu_reap(struct kvu *u, struct kvu_ev *out, unsigned max);
"""

# The C lives in uring.c beside this script; cffi compiles it as the
# module's own source, so its structs and macros are those the CDEF names.
SOURCE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "uring.c")).read()

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
