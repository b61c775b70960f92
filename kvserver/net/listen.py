"""Listening sockets: TCP over IPv4/IPv6 and unix domain sockets.

Every socket is non-blocking and close-on-exec (Python's default), with
SO_REUSEADDR on TCP listeners; accepted TCP sockets get TCP_NODELAY and
keepalive as redis does in anetTcpKeepAlive.
"""

import os
import socket
import stat


def tcp_listener(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            # like Redis: "::" listens on IPv6 only, "*" covers IPv4
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        s.listen(backlog)
        s.setblocking(False)
    except BaseException:
        s.close()
        raise
    return s


def unix_listener(path: str, perm: int, backlog: int) -> socket.socket:
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(path)
        if perm:
            os.chmod(path, perm)
        s.listen(backlog)
        s.setblocking(False)
    except BaseException:
        s.close()
        raise
    return s


def prepare_accepted(sock: socket.socket, tcp: bool, keepalive: int):
    sock.setblocking(False)
    if tcp:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if keepalive > 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if hasattr(socket, "TCP_KEEPIDLE"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, keepalive)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL,
                                max(1, keepalive // 3))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


def format_addr(addr, family) -> str:
    """Redis's ip:port text (IPv6 without brackets), or the unix path."""
    if family == socket.AF_UNIX:
        return addr or ""
    return f"{addr[0]}:{addr[1]}"
