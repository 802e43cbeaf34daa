"""Server logs: one line per unexpected exception, with the request id, and
never a secret (not the token in the request, not the exception's message)."""

import logging

import pytest

SECRET = "sgt_" + "S" * 39


@pytest.fixture
def failing_route(app):
    @app.post("/boom")
    def boom():
        raise RuntimeError(f"database said: token_hash for {SECRET}")

    return "/boom"


def test_unexpected_exception_logs_one_line_with_request_id_and_no_secret(
        client, failing_route, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post(f"{failing_route}?token={SECRET}", data={"token": SECRET},
                           headers={"Authorization": f"Bearer {SECRET}",
                                    "X-Request-Id": "req-42"})
    assert response.status_code == 500
    lines = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1
    text = lines[0].getMessage()
    assert "\n" not in text and lines[0].exc_info is None  # one line, no traceback
    assert "request_id=req-42" in text
    assert "RuntimeError" in text and "boom" in text  # what and where
    assert SECRET not in caplog.text


def test_request_id_is_generated_when_none_is_sent(client, failing_route, caplog):
    response = client.post(failing_route)
    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"request_id={response.headers['X-Request-Id']}" in line
