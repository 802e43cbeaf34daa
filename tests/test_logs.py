"""No log line holds the one-time setup code (it is in the URL path): the
development server's request log is filtered like the access logs
(production's and gunicorn's: tests/store). A refused action is one audit
log line saying what, who and which request; a success is not logged there."""

from __future__ import annotations

import json
import logging

from app.observability import RedactSecrets, redact


def test_redact_hides_setup_codes_in_paths_request_lines_and_urls():
    assert redact("/setup/abc123") == "/setup/[redacted]"
    assert (redact('"GET /setup/abc123?x=1 HTTP/1.1" 200')
            == '"GET /setup/[redacted]?x=1 HTTP/1.1" 200')
    assert redact("http://h/setup/abc123/") == "http://h/setup/[redacted]/"
    assert redact("/users/setup") == "/users/setup"


def test_the_development_servers_request_log_is_redacted(app, caplog):
    werkzeug = logging.getLogger("werkzeug")
    assert any(isinstance(f, RedactSecrets) for f in werkzeug.filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        werkzeug.info('%s - - [%s] "%s" %s -', "127.0.0.1", "now",
                      "GET /setup/sEcReT123 HTTP/1.1", "200")
    assert "sEcReT123" not in caplog.text and "/setup/[redacted]" in caplog.text


def test_the_app_access_log_is_redacted(app, client, caplog):
    from app import observability

    with caplog.at_level(logging.INFO, logger="scopegate.access"):
        client.get("/setup/sEcReT456?code=1")
    assert "sEcReT456" not in caplog.text
    assert '"path": "/setup/[redacted]"' in caplog.text
    assert observability.access_log.name == "scopegate.access"


def test_a_refusal_is_one_audit_log_line_with_what_who_and_the_request(
        client, api, scoped_token, machine_user, caplog):
    with caplog.at_level(logging.INFO, logger="scopegate.audit"):
        api.post("/users", {"name": "another-user"})  # a success: not logged here
        client.get("/api/v1/users", headers={"X-Request-Id": "req-42",
                                             "Authorization": f"Bearer {scoped_token['token']}"})
    lines = [r.getMessage() for r in caplog.records if r.name == "scopegate.audit"]
    assert lines == [f"api.call denied actor={machine_user.email} "
                     "target=GET /api/v1/users request_id=req-42"]


def test_access_log_lines_are_written_together_and_none_is_left_behind():
    """The access log writes its lines in batches (not a syscall per request, even on an
    unbuffered stdout) and a flush -- every 0.2 s, and at a worker's exit -- writes the rest."""
    import io

    from app.observability import FlushedSoonHandler

    class Stream(io.StringIO):
        writes = 0

        def write(self, text):
            Stream.writes += 1
            return super().write(text)

    stream = Stream()
    handler = FlushedSoonHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    record = logging.LogRecord("scopegate.access", logging.INFO, __file__, 0, "x" * 99, None, None)
    lines = FlushedSoonHandler.BUFFER_BYTES // 100 + 5
    for _ in range(lines):
        handler.emit(record)
    assert Stream.writes == 1  # one batch once the buffer filled; the rest waits
    handler.flush()
    assert stream.getvalue() == ("x" * 99 + "\n") * lines
    assert Stream.writes == 2



def test_an_operators_own_access_log_handler_still_gets_every_line(monkeypatch):
    """The line skips logging's record only while our handler is all the access log
    has; a handler or filter an operator adds sees every line, as before."""
    import io
    import time

    from app import observability

    monkeypatch.setattr(observability.access_log, "handlers", [])
    monkeypatch.setattr(observability.access_log, "propagate", True)
    monkeypatch.setattr(observability.access_log, "level", observability.access_log.level)
    observability._enable_access_log()
    ours = observability.access_log.handlers[0]
    ours.stream = io.StringIO()
    theirs = logging.Handler()
    theirs.emit = lambda record: seen.append(record.getMessage())
    seen: list[str] = []

    def line(n: int) -> None:
        observability.log_access(request_id=f"r{n}", remote_addr="127.0.0.1", method="POST",
                                 path="/oauth/token", query="", status=200, size=1,
                                 started=time.perf_counter(), user_agent="t")

    line(1)
    observability.access_log.addHandler(theirs)
    line(2)
    ours.flush()
    assert [json.loads(x)["request_id"] for x in ours.stream.getvalue().splitlines()] == [
        "r1", "r2"]
    assert [json.loads(x)["request_id"] for x in seen] == ["r2"]
