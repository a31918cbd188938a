"""Serving the planner's page: bind a socket (loopback by default) and run uvicorn on it.

The socket is bound before the server starts, so the address printed is the
one served (``port=0``: any free port) and a port in use is said at once.
Ctrl-C (SIGINT) and SIGTERM stop uvicorn gracefully (requests in flight
finish, at most :data:`GRACEFUL_S` seconds); uvicorn then raises the signal
again for the caller (the command line exits 130 after removing the
server's folder).
"""
import ipaddress
import socket

import uvicorn

from sim.serve.app import create_app

__all__ = ["is_loopback", "bind", "make_server", "url_of", "GRACEFUL_S"]

#: Longest wait for requests in flight when stopping [s].
GRACEFUL_S = 5


def is_loopback(host):
    """Whether an address names this machine only (``127.0.0.0/8``, ``::1``, ``localhost``).

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host, port):
    """A listening TCP socket on ``host:port`` (``port`` 0: a free one); raises :class:`OSError`."""
    host = "127.0.0.1" if host.strip().lower() == "localhost" else host.strip("[]")
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock):
    """The page's address on a bound socket: ``http://127.0.0.1:8765/``."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def make_server(planner, loopback=True):
    """A :class:`uvicorn.Server` of the page (quiet: warnings and errors only; run it with
    ``server.run(sockets=[sock])``; from another thread, ``server.should_exit = True`` stops it)."""
    config = uvicorn.Config(create_app(planner, loopback=loopback), log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=GRACEFUL_S, server_header=False)
    return uvicorn.Server(config)
