"""cffi build script for kvserver.native._kvnative (run by setup.py).

scan_requests(buf, start, len, max_bulk) walks client input from `start`,
a command boundary, over the requests in the plain form every client
library sends:

    "*" count CRLF ( "$" length CRLF data CRLF ){count}

with count 1..99999 and length 0..max_bulk written as canonical decimals
(no sign, no leading zero).  It returns `done`, the offset just past the
last complete request, when the input ends there or inside a request that
is plain so far (the incomplete tail waits for more input); it returns
-done - 1 when a request that is not plain starts at `done`.  Input in
that form means exactly the same to hiredis as to Redis's
processMultibulkBuffer, so the server lets hiredis build the argument
lists for the prefix; what is not plain (inline commands, odd framing,
protocol errors) goes to the exact pure-Python parser.  Only lengths are
read: the data is skipped over, never scanned, so a scan costs time in
proportion to the number of arguments, not bytes.
"""

import os

from cffi import FFI

CDEF = """
long long scan_requests(const char *buf, long long start, long long len,
                        long long max_bulk);
long long hash_blob_find(const char *blob, long long blen, const char *field,
                         long long flen);
int zset_blob_locate(const char *blob, long long blen, const char *member,
                     long long mlen, double score, long long *out, double *cur);

void *kv_iot_create(int nworkers);
void kv_iot_read(void *pool, int nthreads, const int *fds, int n, char *slab,
                 long long chunk, const signed char *scan, long long max_bulk,
                 long long *results, long long *scanned);
void kv_iot_write(void *pool, int nthreads, const int *fds, int n, char **bufs,
                  const long long *lens, long long *results);
void kv_iot_destroy(void *pool);
"""

IOTHREADS_DECLS = CDEF[CDEF.index("void *kv_iot_create"):]

SOURCE = r"""
#include <string.h>

/* Reads a canonical decimal ending in CRLF at buf[*pos]; 1 and *pos past
   the CRLF when found, 0 when the input ends first, -1 when not canonical. */
static int read_len(const unsigned char *buf, long long len, long long *pos,
                    long long *out)
{
    long long i = *pos, v;
    int digits = 0;
    if (i >= len)
        return 0;
    if (buf[i] < '0' || buf[i] > '9')
        return -1;
    if (buf[i] == '0') {
        v = 0;
        i++;
        digits = 1;
    } else {
        v = 0;
        while (i < len && buf[i] >= '0' && buf[i] <= '9') {
            if (++digits > 15)
                return -1;
            v = v * 10 + (buf[i] - '0');
            i++;
        }
    }
    if (i >= len)
        return 0;
    if (buf[i] != '\r')
        return -1;
    if (i + 1 >= len)
        return 0;
    if (buf[i + 1] != '\n')
        return -1;
    *pos = i + 2;
    *out = v;
    return 1;
}

long long scan_requests(const char *cbuf, long long start, long long len,
                        long long max_bulk)
{
    const unsigned char *buf = (const unsigned char *)cbuf;
    long long done = start;
    while (done < len) {
        long long pos = done + 1, count, blen, k;
        int r;
        if (buf[done] != '*')
            return -done - 1;
        r = read_len(buf, len, &pos, &count);
        if (r <= 0)
            return r < 0 ? -done - 1 : done;
        if (count < 1 || count > 99999)
            return -done - 1;
        for (k = 0; k < count; k++) {
            if (pos >= len)
                return done;
            if (buf[pos] != '$')
                return -done - 1;
            pos++;
            r = read_len(buf, len, &pos, &blen);
            if (r <= 0)
                return r < 0 ? -done - 1 : done;
            if (blen > max_bulk)
                return -done - 1;
            if (pos + blen + 2 > len)
                return done;
            if (buf[pos + blen] != '\r' || buf[pos + blen + 1] != '\n')
                return -done - 1;
            pos += blen + 2;
        }
        done = pos;
    }
    return done;
}

/* A small hash's blob (kvserver/datastructs/hash.py `pack`): the tag 1, the
   item count (2 bytes, little-endian), one length byte per item, then the
   items back to back, fields at even positions.  Returns the field's item
   index i plus 65536 times the offset of its value, -1 when the field is
   absent, -2 when the blob is not in that form (marshal's fallback).  One
   pass over the length bytes, a memcmp only where the lengths agree. */
long long hash_blob_find(const char *cblob, long long blen, const char *field,
                         long long flen)
{
    const unsigned char *blob = (const unsigned char *)cblob;
    long long n, i, off;
    if (blen < 3 || blob[0] != 1)
        return -2;
    n = blob[1] | blob[2] << 8;
    off = 3 + n;
    for (i = 0; i + 1 < n; i += 2) {
        long long fl = blob[3 + i];
        if (off + fl + blob[4 + i] > blen)
            return -2;
        if (fl == flen && memcmp(blob + off, field, flen) == 0)
            return (off + fl) * 65536 + i;
        off += fl + blob[4 + i];
    }
    return -1;
}

/* A small sorted set's blob (kvserver/datastructs/zset.py `pack`): the tag
   1, the scores' code (0-3: int8, int16, int32, double, little-endian),
   the entry count n (2 bytes), n scores, then the n members joined by NUL
   bytes, in (score, member) order.  For ZADD of `member` at `score`:
   out[0] = the member's index or -1, out[1] = q, the index before which
   (score, member) belongs (the entries before q are all smaller), out[2]
   and out[3] = the offsets in the blob where members out[0] and q start
   (q == n: the blob's end), and *cur the member's score when found.
   Returns 0, or -1 when the blob is not in that form. */
static double blob_score(const unsigned char *p, int code)
{
    switch (code) {
    case 0: return (double)(signed char)p[0];
    case 1: return (double)(short)(p[0] | p[1] << 8);
    case 2: return (double)(int)((unsigned)p[0] | (unsigned)p[1] << 8 |
                                 (unsigned)p[2] << 16 | (unsigned)p[3] << 24);
    default: {
        double d;
        memcpy(&d, p, 8);   /* little-endian hosts only, as struct "<d" */
        return d;
    }
    }
}

int zset_blob_locate(const char *cblob, long long blen, const char *member,
                     long long mlen, double score, long long *out, double *cur)
{
    static const int sizes[4] = {1, 2, 4, 8};
    const unsigned char *blob = (const unsigned char *)cblob;
    long long n, j, sz, mo;
    int code, found_q = 0;
    if (blen < 4 || blob[0] != 1 || blob[1] > 3)
        return -1;
    code = blob[1];
    sz = sizes[code];
    n = blob[2] | blob[3] << 8;
    mo = 4 + n * sz;
    if (mo > blen)
        return -1;
    out[0] = -1;
    out[1] = n;
    out[2] = -1;
    out[3] = blen;
    for (j = 0; j < n; j++) {
        const unsigned char *end = memchr(blob + mo, 0, blen - mo);
        long long len = end ? end - (blob + mo) : blen - mo;
        double sj = blob_score(blob + 4 + j * sz, code);
        if (!found_q) {
            int less = sj < score;
            if (sj == score) {
                long long k = len < mlen ? len : mlen;
                int c = memcmp(blob + mo, member, k);
                less = c < 0 || (c == 0 && len < mlen);
            }
            if (!less) {
                found_q = 1;
                out[1] = j;
                out[3] = mo;
            }
        }
        if (out[0] < 0 && len == mlen && memcmp(blob + mo, member, mlen) == 0) {
            out[0] = j;
            out[2] = mo;
            *cur = sj;
        }
        mo += len + 1;
    }
    return 0;
}
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
# The I/O-thread pool (iothreads.c) shares scan_requests with the readers.
# setuptools wants source paths relative to setup.py's directory.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ffibuilder.set_source("kvserver.native._kvnative", SOURCE + IOTHREADS_DECLS,
                      sources=[os.path.relpath(os.path.join(ROOT, "kvserver", "native",
                                                            "iothreads.c"))],
                      extra_compile_args=["-O2", "-pthread"],
                      extra_link_args=["-pthread"])

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
