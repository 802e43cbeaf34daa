"""Request ids and the client IP, which every audit event and log line
carries; the access log; the input rules every endpoint needs (forms in
UTF-8, no NUL bytes); and no secret in any log line.

One-time links carry their code in the URL path (``/setup/<code>``,
``/invite/<code>``, ``/reset/<code>``), and a caller may put a token where a
token_id goes: :func:`redact` replaces both in every log line that could hold
a path -- this app's access log, gunicorn's (config/gunicorn.py) and the
development server's (werkzeug).
"""

from __future__ import annotations

import json
import logging
import multiprocessing.util
import os
import re
import sys
import threading
import time
from urllib.parse import unquote_to_bytes

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.errors import BadRequest
from sdk.auth.redaction import redact as redact_tokens

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Paths whose last segment is a secret: the one-time links.
_SECRET_PATHS = re.compile(r"(/(?:setup|invite|reset)/)[^/?#\s\"]+")
access_log = logging.getLogger("scopegate.access")
#: Values that are exactly what the hot paths' URLs hold (the OAuth endpoints, no query):
#: nothing to redact, so the two patterns are not run over them on every request.
_PLAIN = frozenset({"", "/oauth/token", "/oauth/introspect", "/oauth/revoke"})


def redact(text: str) -> str:
    """``text`` with every one-time link code and token-shaped part replaced
    (paths, request lines, URLs)."""
    return _SECRET_PATHS.sub(r"\1[redacted]", redact_tokens(text))


class RedactSecrets(logging.Filter):
    """Rewrites a log record's message with :func:`redact` applied."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class FlushedSoonHandler(logging.StreamHandler):
    """A stream handler that writes each line at once and flushes within
    ``FLUSH_EVERY`` seconds, not after every line (nginx's ``access_log ...
    buffer= flush=``): a flushed write per request was a third of the access
    log's cost on the hot paths (bench/RESULTS.md §14). At exit logging's
    shutdown flushes what is left; only a killed process loses up to that
    much of its access log (the audit trail is in the database)."""

    FLUSH_EVERY = 0.2
    #: Lines are written together once they reach this size (or at the next flush).
    BUFFER_BYTES = 16384

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._flusher_pid: int | None = None
        # Kept here, not in the stream's buffer: with PYTHONUNBUFFERED (common in
        # containers) stdout writes every line at once, a syscall per request.
        self._lines: list[str] = []
        self._size = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record))
        except Exception:  # noqa: BLE001 - as StreamHandler: report, never raise
            self.handleError(record)

    def write_line(self, line: str) -> None:
        """One line, as ``emit`` writes a record whose message it is."""
        if self._flusher_pid != os.getpid():  # started lazily: threads do not survive a fork
            self._flusher_pid = os.getpid()
            self._lines, self._size = [], 0  # a forked parent's lines are the parent's to write
            threading.Thread(target=self._flush_forever, daemon=True,
                             name="scopegate-access-log-flush").start()
            # A multiprocessing worker (granian's) leaves with os._exit, so logging's own
            # flush at exit never runs there; multiprocessing's exit finalizers do.
            multiprocessing.util.Finalize(self, self.flush, exitpriority=10)
        line += self.terminator
        with self.lock:
            self._lines.append(line)
            self._size += len(line)
            if self._size >= self.BUFFER_BYTES:
                self._write_lines()

    def _write_lines(self) -> None:
        lines, self._lines, self._size = self._lines, [], 0
        if lines:
            self.stream.write("".join(lines))

    def flush(self) -> None:
        with self.lock:
            self._write_lines()
            super().flush()

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self.FLUSH_EVERY)
            self.flush()


#: Formats a record as its message alone: the access log's lines are whole JSON documents.
_MESSAGE_ONLY = logging.Formatter("%(message)s")


def _enable_access_log() -> None:
    """One JSON line per request on stdout (what `make serve` turns on)."""
    if not access_log.handlers:
        handler = FlushedSoonHandler(sys.stdout)
        handler.setFormatter(_MESSAGE_ONLY)
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False


def _direct_handler() -> FlushedSoonHandler | None:
    """Our own handler when it is all the access log does with a line (the logger and
    handler as :func:`_enable_access_log` set them up, nothing added since): the line then
    goes straight to it, without a ``LogRecord`` that would only carry it there."""
    handlers = access_log.handlers
    if len(handlers) == 1 and not access_log.filters and not access_log.propagate:
        handler = handlers[0]
        if (type(handler) is FlushedSoonHandler and handler.formatter is _MESSAGE_ONLY
                and not handler.filters and handler.level <= logging.INFO):
            return handler
    return None


_clock: tuple[int, str] = (0, "")


def _timestamp() -> str:
    """The local time to the second, formatted once per second, not per line."""
    global _clock
    second = int(time.time())
    if _clock[0] != second:
        _clock = (second, time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(second)))
    return _clock[1]


def log_access(*, request_id: str, remote_addr: str | None, method: str, path: str,
               query: str, status: int, size: int | None, started: float | None,
               user_agent: str) -> None:
    """The one access-log line (Flask's views and ``app.oauth.fastpath`` alike)."""
    line = json.dumps({
        "ts": _timestamp(),
        "request_id": request_id,
        "remote_addr": remote_addr,
        "method": method,
        "path": path if path in _PLAIN else redact(path),
        "query": redact(query) if query else query,
        "status": status,
        "bytes": size,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3) if started else None,
        "user_agent": user_agent,
        "pid": os.getpid(),
    })
    handler = _direct_handler()
    if handler is not None:
        handler.write_line(line)
        return
    # Logger.info without its caller lookup (a stack walk per line): the record says
    # where it came from by its logger's name.
    access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0,
                                            line, None, None))


def request_id(incoming: str) -> str:
    """A proxy's request id when it looks sane (so logs join across hops), else a new one."""
    # 128 random bits as 32 hex digits, as uuid4().hex was, without building a UUID.
    return incoming if _REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()


def reject_nul_bytes_in(values) -> None:
    """PostgreSQL text cannot hold NUL: refuse it once, as bad input, instead of
    letting it reach a query as a server error."""
    if any("\x00" in v for v in values):
        raise BadRequest("NUL bytes are not accepted.")


def _log_access(response) -> None:
    log_access(request_id=g.get("request_id", ""), remote_addr=request.remote_addr,
               method=request.method, path=request.path,
               query=request.query_string.decode("latin-1"), status=response.status_code,
               size=response.calculate_content_length(), started=g.get("access_started"),
               user_agent=request.user_agent.string)


#: The environ keys access logs read the URL from (gunicorn: RAW_URI, PATH_INFO, QUERY_STRING).
_URL_KEYS = ("RAW_URI", "REQUEST_URI", "PATH_INFO", "QUERY_STRING")


class RedactURLForLogs:
    """WSGI middleware: once the app has answered, the URL parts of the
    environ lose anything token-shaped, so the access log written after the
    response (gunicorn reads these keys) never holds a token someone put in a
    path, such as ``DELETE /api/v1/tokens/sgt_…`` instead of its token_id."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            for key in _URL_KEYS:
                value = environ.get(key)
                if isinstance(value, str) and value not in _PLAIN:
                    environ[key] = redact(value)


def init_app(app: Flask) -> None:
    werkzeug_log = logging.getLogger("werkzeug")  # the development server's request lines
    if not any(isinstance(f, RedactSecrets) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactSecrets())
    if app.config["SCOPEGATE_ACCESS_LOG"]:
        _enable_access_log()
    hops = app.config["SCOPEGATE_TRUST_PROXY"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.wsgi_app = RedactURLForLogs(app.wsgi_app)

    @app.before_request
    def assign_request_id():
        # Keep a proxy's id when it looks sane, so logs join across hops.
        g.request_id = request_id(request.headers.get("X-Request-Id", ""))
        g.access_started = time.perf_counter()

    @app.before_request
    def reject_forms_not_in_utf8():
        # Werkzeug decodes a form leniently (a bad byte becomes U+FFFD), so a
        # Latin-1 form would reach the rules as some other value: refuse it.
        # Read before anything parses the form; Werkzeug parses the cached body.
        if request.mimetype == "application/x-www-form-urlencoded":
            require_utf8_form(request.get_data(cache=True))

    @app.before_request
    def reject_nul_bytes():
        values = [request.path, *request.args.keys(), *request.args.values()]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += [*request.form.keys(), *request.form.values()]
        reject_nul_bytes_in(values)

    @app.after_request
    def echo_request_id(response):
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        if access_log.isEnabledFor(logging.INFO):
            _log_access(response)
        return response


def require_utf8_form(body: bytes) -> None:
    """A urlencoded body whose names and values are not all UTF-8 is bad input."""
    if not _is_utf8_form(body):
        raise BadRequest("The form is not UTF-8 (application/x-www-form-urlencoded).")


def _is_utf8_form(body: bytes) -> bool:
    """Every percent-decoded name and value of a urlencoded body is UTF-8."""
    try:
        for field in body.replace(b"+", b" ").split(b"&"):
            unquote_to_bytes(field).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
