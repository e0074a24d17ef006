"""Keeping secrets out of logs: the AWS SDK and its HTTP library never log below INFO.

At DEBUG, botocore logs every request's headers and every response's body (``botocore.parsers``,
``botocore.endpoint``), which carry IAM's answers — a ``CreateAccessKey`` answer is a secret
key — and urllib3 logs the URLs of presigned requests. Whatever level the root logger or the
application is set to, `clamp_sdk_loggers` raises those loggers to INFO at least: their
DEBUG records are never made, so no handler (ours, a test's, a user's) can write them. A
child logger someone set to DEBUG explicitly is raised too. Idempotent and cheap: called
where the service and the ovms program configure their logging, and before IAM clients are
made.
"""

from __future__ import annotations

import logging

#: the loggers (and their children) whose DEBUG records may carry credentials
SDK_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")
FLOOR = logging.INFO


def _is_sdk(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in SDK_LOGGERS)


def clamp_sdk_loggers() -> None:
    """The SDK's loggers at INFO or above (see the module's doc)."""
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < FLOOR:  # NOTSET (inherit: maybe DEBUG) counts as below
            logger.setLevel(FLOOR)
    for name, child in list(logging.root.manager.loggerDict.items()):
        if isinstance(child, logging.Logger) and _is_sdk(name):
            if child.level != logging.NOTSET and child.level < FLOOR:
                child.setLevel(FLOOR)
