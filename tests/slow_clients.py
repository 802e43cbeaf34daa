"""Slow and idle clients, as an attacker runs them: connections that send
their headers and then stall the body, and connections that send nothing.
Used by the serving test and by ``make soak``."""

from __future__ import annotations

import contextlib
import socket


def stalled_body(host: str, port: int, path: str = "/oauth/token",
                 source: str = "") -> socket.socket:
    """A POST whose headers promise a body that never comes (a few bytes only)."""
    s = socket.create_connection((host, port), timeout=10,
                                 source_address=(source, 0) if source else None)
    s.sendall((f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\n"
               "Content-Length: 100000\r\n\r\ngrant_type=").encode())
    return s


def idle(host: str, port: int, source: str = "") -> socket.socket:
    """A connection that never sends a byte."""
    return socket.create_connection((host, port), timeout=10,
                                    source_address=(source, 0) if source else None)


def close_all(sockets: list[socket.socket]) -> None:
    for s in sockets:
        with contextlib.suppress(OSError):
            s.close()
