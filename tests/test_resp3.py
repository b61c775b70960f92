"""RESP3: HELLO 3 and the replies that change type with the protocol.

redis-py 8 clients with protocol=3 send HELLO 3 (and CLIENT SETINFO, which
7.0 refuses and redis-py ignores) on connect, so the handshake is checked
end to end with redis-py; the bytes are checked against redis-server.
"""

import re

import pytest
import redis

from conftest import RawConn


@pytest.fixture
def r3(r, kv_port):
    c = redis.Redis(port=kv_port, protocol=3)
    yield c
    c.close()


@pytest.fixture
def real3(real, real_port):
    c = redis.Redis(port=real_port, protocol=3)
    yield c
    c.close()


@pytest.fixture
def diff3(diff):
    assert diff.kv.call("hello", "3").startswith(b"%7\r\n")
    assert diff.real.call("hello", "3").startswith(b"%7\r\n")
    return diff


def test_redis_py_handshake(r3):
    assert r3.ping() is True
    info = r3.client_info()
    assert info["resp"] == "3"
    assert info["cmd"] == "client|info"
    # redis-py's CLIENT SETINFO was refused, as 7.0 refuses it: no lib-name
    assert "lib-name" not in info


def test_redis_py_hello_map(r3, real3):
    kv = r3.execute_command("HELLO")
    rd = real3.execute_command("HELLO")
    assert list(kv) == list(rd) == [b"server", b"version", b"proto", b"id", b"mode",
                                     b"role", b"modules"]
    kv.pop(b"id"), rd.pop(b"id")
    assert kv == rd == {b"server": b"redis", b"version": b"7.0.15", b"proto": 3,
                        b"mode": b"standalone", b"role": b"master", b"modules": []}


def test_redis_py_info_and_client(r3):
    info = r3.info()
    assert info["redis_version"] == "7.0.15"
    assert "connected_clients" in info
    assert r3.info("keyspace") == {}
    assert r3.client_getname() is None
    assert r3.client_setname("resp3-conn")
    assert r3.client_getname() == b"resp3-conn"
    assert any(c["name"] == "resp3-conn" for c in r3.client_list())
    assert r3.client_id() > 0
    secs, usecs = r3.time()
    assert secs > 0 and 0 <= usecs < 1000000
    assert r3.lastsave()


def test_redis_py_debug_protocol_types(r3, real3):
    for name in ("string", "integer", "double", "bignum", "null", "array", "set", "map",
                 "verbatim", "true", "false"):
        a = r3.execute_command("DEBUG", "PROTOCOL", name)
        b = real3.execute_command("DEBUG", "PROTOCOL", name)
        assert a == b, name
        assert type(a) is type(b), name
    assert r3.execute_command("DEBUG", "PROTOCOL", "map") == {0: False, 1: True, 2: False}
    assert list(r3.execute_command("DEBUG", "PROTOCOL", "set")) == [0, 1, 2]
    assert r3.execute_command("DEBUG", "PROTOCOL", "double") == 3.141
    assert r3.execute_command("DEBUG", "PROTOCOL", "true") is True
    assert r3.execute_command("DEBUG", "PROTOCOL", "null") is None


def test_resp3_replies_bytes(diff3):
    for cmd in (("client", "getname"), ("client", "trackinginfo"),
                ("client", "list", "id", "999999"), ("info", "cluster"), ("info", "foo"),
                ("info", "modules", "cluster"), ("debug", "protocol", "attrib"),
                ("debug", "protocol", "verbatim"), ("debug", "protocol", "bignum"),
                ("debug", "protocol", "map"), ("debug", "protocol", "set"),
                ("debug", "protocol", "null"), ("debug", "protocol", "double"),
                ("client", "setname", "x"), ("client", "getname"),
                ("client", "setname", ""), ("client", "getname")):
        reply = diff3.call(*cmd)
    assert reply == b"_\r\n"


def test_resp3_hello_masked(diff3):
    a = diff3.kv.call("hello", "3")
    b = diff3.real.call("hello", "3")
    mask = lambda x: re.sub(rb"\$2\r\nid\r\n:\d+\r\n", b"", x)
    assert mask(a) == mask(b)


def test_resp3_verbatim_info_and_client_list(r, kv_port):
    c = RawConn(kv_port)
    c.call("hello", "3")
    reply = c.call("info", "server")
    assert reply.startswith(b"=") and reply.split(b"\r\n", 1)[1].startswith(b"txt:# Server")
    reply = c.call("client", "info")
    assert reply.startswith(b"=") and b"txt:id=" in reply and b" resp=3\n" in reply
    reply = c.call("client", "list")
    assert reply.startswith(b"=") and b" resp=3\n" in reply
    c.close()


def test_reset_goes_back_to_resp2(diff3):
    diff3.call("client", "getname")
    diff3.call("reset")
    assert diff3.call("client", "getname") == b"$-1\r\n"
    diff3.call("debug", "protocol", "null")


def test_resp3_push_then_reply(diff3):
    a = diff3.call("debug", "protocol", "push")
    assert a == b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
    assert diff3.kv.read_reply() == diff3.real.read_reply() == \
        b"$40\r\nSome real reply following the push reply\r\n"
