"""The JSON log format: one parseable object per line, with the fields the code attached."""

from __future__ import annotations

import json
import logging
import sys

from provgraph.logs import JsonFormatter


def test_a_record_becomes_one_json_line_with_its_extra_fields() -> None:
    record = logging.makeLogRecord(
        {
            "name": "provgraph.access",
            "levelname": "INFO",
            "levelno": logging.INFO,
            "msg": "POST /graphql %d",
            "args": (200,),
            "request_id": "r-1",
            "principal": "ci-bot",
            "root_fields": ["sources"],
            "duration_ms": 3.25,
        }
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "POST /graphql 200"
    assert (entry["level"], entry["logger"]) == ("INFO", "provgraph.access")
    assert (entry["request_id"], entry["principal"], entry["root_fields"], entry["duration_ms"]) == (
        "r-1",
        "ci-bot",
        ["sources"],
        3.25,
    )
    assert entry["time"].endswith("+00:00")
    assert not {"args", "msg", "levelno", "pathname", "thread"} & set(entry)


def test_an_exception_is_one_string_field_on_the_same_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record = logging.makeLogRecord(
            {"name": "provgraph.api", "levelname": "ERROR", "msg": "failed", "exc_info": sys.exc_info()}
        )
    line = JsonFormatter().format(record)
    assert line.count("\n") == 0
    assert "ValueError: boom" in json.loads(line)["exception"]
