"""Log output: human-readable lines, or one JSON object per line (`PROVGRAPH_LOG_FORMAT=json`) for log
pipelines (Loki, Elasticsearch, CloudWatch) that index fields instead of parsing text.

A JSON line carries the time, level, logger and message, plus the structured fields the code attached
(`extra=`): the access log's request id, operation, principal, status, duration and error code; an error's
request id and code; an exception's traceback as one string. Nothing else is added, so what a line holds
is what the code chose to say.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

import orjson

LogFormat = Literal["text", "json"]

# What every LogRecord has; anything else on a record came from `extra=` and belongs in the JSON line.
# uvicorn attaches `color_message`, the same message with terminal colour codes.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (k, v) for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(log_format: LogFormat = "text", level: int = logging.INFO) -> None:
    """Send every logger's records (uvicorn's too) to stderr in `log_format`."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
