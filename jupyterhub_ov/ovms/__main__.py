"""``python -m jupyterhub_ov.ovms <OVMS options>`` (also ``jupyterhub-ov-model-server``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import uvloop

from jupyterhub_ov import logsafety

from .config import ConfigError, parse_args

#: OVMS's level names in Python's
LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        config = parse_args(args)
    except ConfigError as e:
        print(f"ovms: {e}", file=sys.stderr)
        return 1
    # kserve parses sys.argv when it is imported (its own options): give it none of ours
    sys.argv = sys.argv[:1]
    from .server import ServeError, read_models, serve

    level = LEVELS.get(config.log_level, getattr(logging, config.log_level, logging.INFO))
    logging.basicConfig(level=level, format="[%(asctime)s][%(name)s][%(levelname)s] %(message)s")
    logsafety.clamp_sdk_loggers()  # --log_level DEBUG: not botocore's (it logs S3 keys)
    try:
        config = read_models(config)
    except ConfigError as e:
        print(f"ovms: {e}", file=sys.stderr)
        return 1
    try:
        uvloop.run(serve(config))  # uvicorn's own choice when it runs its loop; faster I/O
    except ServeError as e:
        print(f"ovms: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
