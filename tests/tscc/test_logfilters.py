"""Tokens in URL paths (acknowledge links, iCal feeds) never reach the logs."""

from __future__ import annotations

import logging

import pytest

from tscc import logfilters


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/escalations/ack/AbC123.x-y_z:sig/", "/escalations/ack/[redacted]/"),
        ("/escalations/ack/AbC123/?next=1", "/escalations/ack/[redacted]/?next=1"),
        ("/oncall/ical/feedtoken123.ics", "/oncall/ical/[redacted].ics"),
        ("/incidents/12/", "/incidents/12/"),
        ("/escalations/pages/4/ack/", "/escalations/pages/4/ack/"),
    ],
)
def test_secret_paths_are_masked(path, shown):
    assert logfilters.redact(path) == shown


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_uvicorn_access_log_lines_are_masked():
    import tscc.asgi  # noqa: F401 - installs the filters, as the server does

    logger = logging.getLogger("uvicorn.access")
    capture = Capture()
    logger.addHandler(capture)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        # uvicorn's own format and arguments
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/escalations/ack/s3cr3t-token/",
            "1.1",
            200,
        )
        logger.info(
            '%s - "%s %s HTTP/%s" %d', "1.2.3.4:1", "GET", "/oncall/ical/t0k.ics", "1.1", 200
        )
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
    text = "\n".join(capture.lines)
    assert "s3cr3t-token" not in text and "t0k" not in text
    assert "/escalations/ack/[redacted]/" in text
    assert "/oncall/ical/[redacted].ics" in text
