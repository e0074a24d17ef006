"""The AWS SDK's loggers never log DEBUG records (they carry IAM's answers: secret keys),
whatever level the root logger or a child logger was set to."""

from __future__ import annotations

import logging

import pytest

from jupyterhub_ov import logsafety


def test_debug_records_of_the_sdk_are_never_made(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    child = logging.getLogger("botocore.parsers")
    child.setLevel(logging.DEBUG)  # someone asked for it explicitly
    mine = logging.getLogger("botocore-lookalike")  # not the SDK's: untouched
    try:
        logsafety.clamp_sdk_loggers()
        child.debug("Response body: SecretAccessKey=s3cr3t")
        logging.getLogger("urllib3.connectionpool").debug("GET /?X-Amz-Signature=s3cr3t")
        logging.getLogger("boto3.resources").debug("s3cr3t")
        mine.debug("mine at debug")
        child.info("an INFO record still passes")
        assert "s3cr3t" not in caplog.text
        assert "mine at debug" in caplog.text and "an INFO record still passes" in caplog.text
        assert logging.getLogger("botocore").level == logging.INFO
        logsafety.clamp_sdk_loggers()  # idempotent
        assert child.level == logging.INFO
    finally:
        child.setLevel(logging.NOTSET)
