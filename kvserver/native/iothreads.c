/* The I/O-thread worker pool (kvserver/net/iothreads.py drives it).

   As in Redis 6's networking.c, the main thread hands a batch of sockets to
   N threads, itself included, and waits until all of them are done; job i
   goes to thread i % N (round robin).  A batch is either reads - one recv()
   per socket into its own slice of a slab, then the request scan over the
   bytes read - or writes - send() of each socket's own buffer until it is all sent or the socket is full.  The workers touch nothing
   but file descriptors and these plain buffers: no Python object, so they
   run with the GIL released, in parallel with each other and with the
   main thread's share (cffi releases the GIL around every C call).

   Between batches a worker spins briefly, then sleeps on a futex: the main thread runs a batch every loop turn while the
   threads are in use, and a short spin answers the next one without a
   wake-up; a sleeping worker costs nothing once threaded I/O is off. */

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

long long scan_requests(const char *buf, long long start, long long len,
                        long long max_bulk);

#define KV_IO_READ 1
#define KV_IO_WRITE 2
#define SPINS 30

struct batch {
    int op, n, nthreads;
    const int *fds;
    char *data;                 /* reads: the slab */
    long long chunk;            /* reads: bytes per job in the slab */
    char **bufs;          /* writes: job i sends bufs[i][0:lens[i]] */
    const long long *lens;
    const signed char *scan;    /* reads: 1 = scan the bytes read */
    long long max_bulk;
    long long *results;         /* bytes moved, 0 = EOF (reads), or -errno */
    long long *scanned;         /* reads: scan_requests() over the bytes read */
};

struct worker {
    pthread_t tid;
    int id;                     /* 1..nworkers; the main thread is 0 */
    struct kv_iot_pool *pool;
};

struct kv_iot_pool {
    int nworkers;
    _Atomic unsigned gen;       /* bumped for every batch; workers futex-wait on it */
    _Atomic int sleepers;       /* workers asleep (or about to be) on gen */
    _Atomic int remaining;      /* workers still on the current batch */
    _Atomic int main_asleep;    /* the main thread waits on remaining */
    _Atomic int stop;
    struct batch batch;
    struct worker *workers;
};

static void do_read(struct batch *b, int i)
{
    char *buf = b->data + (long long)i * b->chunk;
    ssize_t n;
    do {
        n = recv(b->fds[i], buf, (size_t)b->chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        b->results[i] = -(long long)errno;
        return;
    }
    b->results[i] = n;
    if (n > 0 && b->scan[i])
        b->scanned[i] = scan_requests(buf, 0, n, b->max_bulk);
}

static void do_write(struct batch *b, int i)
{
    const char *p = b->bufs[i];
    long long left = b->lens[i], sent = 0;
    while (left > 0) {
        ssize_t n = send(b->fds[i], p + sent, (size_t)left, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (sent == 0) {
                b->results[i] = -(long long)errno;
                return;
            }
            break;  /* report what went out; the next write sees the error */
        }
        sent += n;
        left -= n;
    }
    b->results[i] = sent;
}

static void run_share(struct batch *b, int tid)
{
    int i;
    for (i = tid; i < b->n; i += b->nthreads) {
        if (b->op == KV_IO_READ)
            do_read(b, i);
        else
            do_write(b, i);
    }
}

/* Futexes rather than a mutex and condition variables: a wake-up is only
   paid when the other side really sleeps, and nobody contends on a lock
   while a batch is handed over.  Each side announces that it is going to
   sleep, then re-checks the word it waits on (the kernel re-checks it
   too), so a wake-up cannot fall between the check and the sleep. */
static void futex_wait(_Atomic unsigned *addr, unsigned val)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic unsigned *addr, int n)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct kv_iot_pool *pool = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned gen = atomic_load(&pool->gen);
        int spins = 0;
        while (gen == seen && spins++ < SPINS) {
            __builtin_ia32_pause();
            gen = atomic_load(&pool->gen);
        }
        if (gen == seen) {
            atomic_fetch_add(&pool->sleepers, 1);
            while ((gen = atomic_load(&pool->gen)) == seen)
                futex_wait(&pool->gen, seen);
            atomic_fetch_sub(&pool->sleepers, 1);
        }
        seen = gen;
        if (atomic_load(&pool->stop))
            return NULL;
        if (w->id < pool->batch.nthreads)
            run_share(&pool->batch, w->id);
        if (atomic_fetch_sub(&pool->remaining, 1) == 1 && atomic_load(&pool->main_asleep))
            futex_wake((_Atomic unsigned *)&pool->remaining, 1);
    }
}

static void wake_all(struct kv_iot_pool *pool)
{
    atomic_fetch_add(&pool->gen, 1);
    if (atomic_load(&pool->sleepers) > 0)
        futex_wake(&pool->gen, pool->nworkers);
}

/* Starts nworkers threads; NULL when a thread cannot be created. */
void *kv_iot_create(int nworkers)
{
    struct kv_iot_pool *pool = calloc(1, sizeof(*pool));
    int i;
    if (pool == NULL)
        return NULL;
    pool->workers = calloc((size_t)(nworkers > 0 ? nworkers : 1), sizeof(struct worker));
    if (pool->workers == NULL) {
        free(pool);
        return NULL;
    }
    for (i = 0; i < nworkers; i++) {
        struct worker *w = &pool->workers[i];
        w->id = i + 1;
        w->pool = pool;
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            atomic_store(&pool->stop, 1);
            wake_all(pool);
            while (--i >= 0)
                pthread_join(pool->workers[i].tid, NULL);
            free(pool->workers);
            free(pool);
            return NULL;
        }
        pool->nworkers++;
    }
    return pool;
}

/* Publishes the batch, runs the main thread's share, waits for the rest.
   Every worker takes part in every generation (one beyond nthreads just
   acknowledges it).  The wait spins a little, then sleeps until the last
   worker to finish wakes it: on a machine with fewer cores than threads a
   spinning main thread would only hold the core a worker needs. */
static void run_batch(struct kv_iot_pool *pool, int op, int n, int nthreads)
{
    int spins = 0, left;
    pool->batch.op = op;
    pool->batch.n = n;
    pool->batch.nthreads = nthreads > pool->nworkers + 1 ? pool->nworkers + 1 : nthreads;
    atomic_store(&pool->remaining, pool->nworkers);
    wake_all(pool);
    run_share(&pool->batch, 0);
    while (atomic_load(&pool->remaining) > 0 && spins++ < SPINS)
        __builtin_ia32_pause();
    if (atomic_load(&pool->remaining) > 0) {
        atomic_store(&pool->main_asleep, 1);
        while ((left = atomic_load(&pool->remaining)) > 0)
            futex_wait((_Atomic unsigned *)&pool->remaining, (unsigned)left);
        atomic_store(&pool->main_asleep, 0);
    }
}

void kv_iot_read(void *p, int nthreads, const int *fds, int n, char *slab,
                 long long chunk, const signed char *scan, long long max_bulk,
                 long long *results, long long *scanned)
{
    struct kv_iot_pool *pool = p;
    struct batch *b = &pool->batch;
    b->fds = fds;
    b->data = slab;
    b->chunk = chunk;
    b->scan = scan;
    b->max_bulk = max_bulk;
    b->results = results;
    b->scanned = scanned;
    run_batch(pool, KV_IO_READ, n, nthreads);
}

void kv_iot_write(void *p, int nthreads, const int *fds, int n, char **bufs,
                  const long long *lens, long long *results)
{
    struct kv_iot_pool *pool = p;
    struct batch *b = &pool->batch;
    b->fds = fds;
    b->bufs = bufs;
    b->lens = lens;
    b->results = results;
    run_batch(pool, KV_IO_WRITE, n, nthreads);
}

void kv_iot_destroy(void *p)
{
    struct kv_iot_pool *pool = p;
    int i;
    if (pool == NULL)
        return;
    atomic_store(&pool->stop, 1);
    wake_all(pool);
    for (i = 0; i < pool->nworkers; i++)
        pthread_join(pool->workers[i].tid, NULL);
    free(pool->workers);
    free(pool);
}
