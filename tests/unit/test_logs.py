"""The log set-up: JSON lines in the process's own file (what an on-call engineer greps),
readable lines on stderr, one file per process of the deployment."""

from __future__ import annotations

import json
import logging
import logging.handlers
from pathlib import Path

import pytest
import structlog

from cluster import logs

pytestmark = pytest.mark.timeout(30)


def test_each_process_has_its_own_file_in_the_state_folder(tmp_path: Path) -> None:
    assert logs.process_log(tmp_path, "centre", "oslo") == tmp_path / "logs" / "centre-oslo.log"
    assert logs.process_log(tmp_path, "supervisor") == tmp_path / "logs" / "supervisor.log"
    assert logs.process_log(tmp_path, "gateway", "50051", "b").name == "gateway-50051@b.log"


def test_json_lines_in_the_file_and_readable_lines_on_stderr(tmp_path: Path, capsys) -> None:
    path = logs.process_log(tmp_path, "centre", "oslo")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logs.configure("info", json_file=path)
        structlog.contextvars.bind_contextvars(centre="oslo")
        log = structlog.get_logger("test")
        log.debug("not_at_info", region="oslo")
        log.info("region_taken", region="oslo", token=42, previous="vestre-viken")
        logging.getLogger("a.library").warning("plain %s", "stdlib")
        for handler in logging.getLogger().handlers:
            handler.flush()
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [line["event"] for line in lines] == ["region_taken", "plain stdlib"]
        taken = lines[0]
        assert (taken["centre"], taken["region"], taken["token"], taken["level"]) == (
            "oslo",
            "oslo",
            42,
            "info",
        )
        assert taken["timestamp"].endswith("Z")
        err = capsys.readouterr().err
        assert "region_taken" in err and "previous=vestre-viken" in err
        assert "not_at_info" not in err
        rotating = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h, logging.handlers.RotatingFileHandler)
        ]
        assert [(h.maxBytes, h.backupCount) for h in rotating] == [
            (logs.ROTATE_BYTES, logs.ROTATE_KEEP)
        ]
    finally:  # as it was: other tests read structlog's default output
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
