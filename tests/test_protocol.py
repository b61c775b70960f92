"""Raw-socket differential tests of the wire protocol against redis-server.

The same bytes go to kvserver and to the real Redis 7.0 on fresh
connections; everything each sends back, and whether it then closes the
connection, must be identical.  Inputs that should leave the connection open
end with a sentinel command whose reply marks the end of the exchange;
inputs that end in a protocol error are read until the server closes.
"""

import socket
import threading

import pytest

from conftest import encode_command, start_kvserver, start_redis
from test_resp_codec import ERROR_CASES, SPLIT_CASES

QUIT = b"QUIT\r\n"
CLOSED = b"<closed>"


def exchange(port: int, data: bytes, keep_open: bool = True, timeout: float = 20.0) -> bytes:
    """Send `data` on a new connection; return every reply byte, then CLOSED at EOF.

    With keep_open a QUIT follows `data` (the connection is expected to
    survive it and QUIT's "+OK" ends the exchange); otherwise the server is
    expected to close by itself.  A writer thread sends while replies are
    read, so neither side can block on a full socket buffer.
    """
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = bytearray()
    try:
        payload = data + QUIT if keep_open else data
        writer = threading.Thread(target=_send_all, args=(s, payload), daemon=True)
        writer.start()
        while True:
            try:
                chunk = s.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                out += CLOSED
                break
            out += chunk
        writer.join(timeout)
    finally:
        s.close()
    return bytes(out)


def _send_all(s, payload):
    try:
        s.sendall(payload)
    except OSError:
        pass   # the server may close first after a protocol error


@pytest.fixture
def both(kv_port, real_port, r, real):
    """Compare one exchange on both servers; returns the (common) reply bytes."""
    def check(data: bytes, keep_open: bool = True) -> bytes:
        a = exchange(kv_port, data, keep_open)
        b = exchange(real_port, data, keep_open)
        assert a == b, f"{data[:200]!r}:\n kvserver {a[:300]!r}\n redis    {b[:300]!r}"
        assert a.endswith(CLOSED)
        return a
    return check


# ---------------------------------------------------------------------------
# well-formed input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"PING\r\n",
    b"ping\n",
    b"PING\r\nPING\nPING\r\n",
    b"ECHO hello\r\n",
    b"   ECHO    spaced    \r\n",
    b"ECHO\ttabbed\r\n",
    b"PING hello world\r\n",
    b"\r\n",
    b"\n\n\n",
    b"   \r\n",
    b"*0\r\n",
    b"*-1\r\n",
    b"*-5\r\n",
    b"*-2147483649\r\n",
    b"*-9223372036854775808\r\n",
    b"*0\r\n*-1\r\n\r\nPING\r\n",
    b"*1\rx$4\r\nPING\r\n",
    b"*2\r\n$4\r\nECHO\r\n$1\r\nab\r\n",
    b"*2\r\n$4\r\necho\r\n$0\r\n\r\n",
    b"*2\r\n$4\r\nECHO\r\n$10\r\n\r\n\x00\x01\xff\xfe\r\n\r\n\r\n",
    b"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$4\r\nPING\r\n",
    b"SET key value\r\nGET key\r\nGET nokey\r\n",
    # inline commands that look like RESP replies, after a multibulk one
    b"*1\r\n$4\r\nPING\r\n-ERR x\r\n",
    b"*1\r\n$4\r\nPING\r\n+OK\r\n",
    b"*1\r\n$4\r\nPING\r\n:1\r\n",
    b"*1\r\n$4\r\nPING\r\n$1\r\nx\r\n",
    b"*1\r\n$4\r\nPING\r\n_\r\n,1.5\r\n#t\r\n",
    b"NOSUCHCOMMAND a b c\r\n",
    b'ECHO ""\r\n',
    b"ECHO ''\r\n",
    b"ECHO " + b"x" * 60000 + b"\r\n",
], ids=lambda d: repr(d[:30]))
def test_wellformed(both, data):
    both(data)


@pytest.mark.parametrize("line,args", SPLIT_CASES, ids=[repr(c[0]) for c in SPLIT_CASES])
def test_inline_splitting(both, line, args):
    # a single argument echoes back; several show up in the unknown-command error
    both(b"ECHO " + line + b"\r\n")
    both(b"NOSUCH " + line + b"\r\n")


def test_inline_escapes_in_values(both):
    both(b'SET k "a\\x00b\\r\\n\\t\\"c"\r\nGET k\r\nSTRLEN k\r\n')
    both(b"SET k 'it\\'s'\r\nGET k\r\n")


def test_quit_closes_after_its_reply(both):
    assert both(b"PING\r\nQUIT\r\nPING\r\n", keep_open=False) == b"+PONG\r\n+OK\r\n" + CLOSED
    assert both(b"QUIT extra args\r\n", keep_open=False) == b"+OK\r\n" + CLOSED


def test_pipeline_thousands_of_commands_in_one_write(both):
    parts = []
    for i in range(3000):
        parts.append(encode_command("SET", f"k:{i}", f"v:{i}"))
        parts.append(encode_command("GET", f"k:{i}"))
        parts.append(b"PING\r\n")
        parts.append(b"ECHO inline:%d\r\n" % i)
    reply = both(b"".join(parts))
    assert reply.count(b"+OK\r\n") == 3001   # and QUIT's
    assert reply.count(b"+PONG\r\n") == 3000


def test_pipeline_of_big_values(both):
    value = bytes(range(256)) * 1024   # 256 KB
    data = b"".join(encode_command("SET", f"big:{i}", value) + encode_command("GET", f"big:{i}")
                    for i in range(20))
    both(data)


# ---------------------------------------------------------------------------
# protocol errors: same text, then the connection is closed
# ---------------------------------------------------------------------------

EXTRA_ERRORS = [
    # Redis sanitizes CR/LF in error texts to spaces and sends other bytes raw
    b"*1\r\n\r\n",
    b"*1\r\n\n\r\n",
    b"*1\r\n\x80\r\n",
    b"*1\r\n\xff\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n*1\r\n",
    b"*2147483647\r\n$4\r\nPING\r\n$abc\r\n",
    b"*1\r\n$-2147483649\r\n",
    b"*9223372036854775808\r\n",
    # strchr() stops at a NUL byte: the line never ends, until it is too long
    b"PING\x00\r\nPING\r\n" + b"a" * 65536,
    b"*1\x00\r\n$4\r\nPING\r\n" + b"1" * 65536,
    b"*1\r\n$4\x00\r\nPING\r\n" + b"1" * 65536,
]


@pytest.mark.parametrize("data,text", ERROR_CASES, ids=[repr(c[0][:24]) for c in ERROR_CASES])
def test_protocol_error_then_close(both, data, text):
    reply = both(b"PING\r\n" + data, keep_open=False)
    assert reply == b"+PONG\r\n-ERR " + text.encode() + b"\r\n" + CLOSED


@pytest.mark.parametrize("data", EXTRA_ERRORS, ids=lambda d: repr(d[:24]))
def test_protocol_error_edge_cases(both, data):
    reply = both(data, keep_open=False)
    assert reply.endswith(CLOSED)


def test_nul_before_a_bulk_header_line_end_waits(kv_port, real_port, r, real):
    # strchr() stops at the NUL: the header line never completes, so Redis
    # neither answers nor closes; the client just waits
    for port in (kv_port, real_port):
        s = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        try:
            s.sendall(b"*1\r\n\x00\r\n")
            with pytest.raises(socket.timeout):
                s.recv(100)
        finally:
            s.close()


def test_other_clients_unaffected_by_protocol_error(kv_port, raw):
    raw.call("SET", "survivor", "yes")
    assert exchange(kv_port, b"*1\r\n$x\r\n", keep_open=False).endswith(CLOSED)
    assert raw.call("GET", "survivor") == b"$3\r\nyes\r\n"


def test_http_request_is_dropped_silently(both):
    # Redis treats "POST" and "Host:" as a cross-protocol attack: no reply, close
    both(b"POST / HTTP/1.1\r\nHost: localhost\r\n\r\n", keep_open=False)
    both(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", keep_open=False)


def test_proto_max_bulk_len():
    args = ("--proto-max-bulk-len", "1mb")
    with start_kvserver(*args) as (_, kp), start_redis(*args) as (_, rp):
        for data, keep in [(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n", False),
                           (encode_command("ECHO", "x" * 1048576), True)]:
            a, b = exchange(kp, data, keep), exchange(rp, data, keep)
            assert a == b


@pytest.mark.parametrize("data,keep", [
    (b"*11\r\n", False),
    (b"*10\r\n$4\r\nPING\r\nxx\r\n", False),
    (encode_command(*["PING"] * 10), True),
    (b"*1\r\n$16385\r\n", False),
    (encode_command("ECHO", "x" * 16384), True),
    (b"PING\r\n", True),
    (encode_command("AUTH", "wrong") + b"PING\r\n", True),
    # each command is parsed after the previous one ran: AUTH lifts the
    # limits for the very next command of the same write
    (encode_command("AUTH", "pw") + b"*11\r\n" + b"PING\r\n", False),
    (encode_command("AUTH", "pw") + encode_command(*["ECHO"] * 11), True),
    (encode_command("AUTH", "pw") + encode_command("ECHO", "x" * 16385), True),
], ids=lambda v: repr(v)[:30])
def test_unauthenticated_limits(data, keep, auth_servers):
    kp, rp = auth_servers
    assert exchange(kp, data, keep) == exchange(rp, data, keep)


@pytest.fixture(scope="module")
def auth_servers():
    with start_kvserver("--requirepass", "pw") as (_, kp), \
            start_redis("--requirepass", "pw") as (_, rp):
        yield kp, rp
