"""Structured log lines: JSON off a terminal, the level from ACCORD_LOG_LEVEL, and no secret
ever printed, whether passed as a field, inside a header, a URL or a message."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest

from accord.errors import ConfigError
from accord.observability import configure_logging, get_logger
from accord.observability.logs import REDACTED

SECRETS = ("s3cr3t-client-value", "eyJhbGciOiJSUzI1NiJ9.payload.sig", "tok-in-url-123", "pw-42")


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_secrets_never_reach_a_log_line() -> None:
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    log = get_logger(integration="bc-sales", connection="crm")
    log.info(
        "token request",
        client_secret="s3cr3t-client-value",
        headers={"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "Accept": "json"},
        url="https://crm.example/api?access_token=tok-in-url-123&$top=5",
        body="grant_type=client_credentials&client_secret=s3cr3t-client-value&scope=x",
        settings={"client_id": "app-1", "password": "pw-42"},
    )
    try:
        raise RuntimeError('rejected {"client_secret": "s3cr3t-client-value"}')
    except RuntimeError:
        log.exception(
            "auth failed", reason="Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig"
        )
    text = out.getvalue()
    for secret in SECRETS:
        assert secret not in text
    first, second = _lines(out)
    assert first["event"] == "token request" and first["integration"] == "bc-sales"
    assert first["client_secret"] == REDACTED
    assert first["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert first["url"] == f"https://crm.example/api?access_token={REDACTED}&$top=5"
    assert "grant_type=client_credentials" in str(first["body"])
    assert first["settings"] == {"client_id": "app-1", "password": REDACTED}
    assert second["level"] == "error" and "RuntimeError" in str(second["exception"])
    assert second["reason"] == f"Authorization: Bearer {REDACTED}"


def test_library_logs_pass_the_same_redaction() -> None:
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    logging.getLogger("httpx").info(
        "HTTP Request: GET %s", "https://bc.example/x?client_secret=s3cr3t-client-value"
    )
    (line,) = _lines(out)
    assert "s3cr3t-client-value" not in out.getvalue()
    assert line["event"] == f"HTTP Request: GET https://bc.example/x?client_secret={REDACTED}"


def test_the_level_comes_from_the_environment_and_defaults_to_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    get_logger().info("quiet")
    get_logger().warning("heard")
    assert [line["event"] for line in _lines(out)] == ["heard"]
    monkeypatch.setenv("ACCORD_LOG_LEVEL", "debug")
    out = io.StringIO()
    configure_logging(stream=out)
    get_logger().debug("now heard")
    assert [line["event"] for line in _lines(out)] == ["now heard"]
    monkeypatch.setenv("ACCORD_LOG_LEVEL", "chatty")
    with pytest.raises(ConfigError, match="unknown log level 'CHATTY'; valid: DEBUG"):
        configure_logging()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_readable_lines_not_json() -> None:
    out = _Terminal()
    configure_logging("INFO", stream=out)
    get_logger(mapping="CUSTOMER").info("pass finished", password="pw-42")
    text = out.getvalue()
    assert "pass finished" in text and "mapping=CUSTOMER" in text and "pw-42" not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_the_cli_writes_json_lines_on_stderr_at_the_chosen_level() -> None:
    program = (
        "import sys; from accord.cli.app import main_options; "
        "from accord.observability import get_logger; "
        "main_options(database_url=None, home=None, log_level=sys.argv[1]); "
        "get_logger(job_id='j1').info('ran', api_key='pw-42')"
    )
    ran = subprocess.run(
        [sys.executable, "-c", program, "INFO"], capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    (line,) = [json.loads(x) for x in ran.stderr.splitlines()]
    assert line["event"] == "ran" and line["job_id"] == "j1" and line["api_key"] == REDACTED
    assert ran.stdout == ""
