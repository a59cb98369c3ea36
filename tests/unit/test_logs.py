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
        try:
            _ = 1 / 0
        except ZeroDivisionError:
            log.exception("archive_pass_failed", region="oslo")
        for handler in logging.getLogger().handlers:
            handler.flush()
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [line["event"] for line in lines] == [
            "region_taken",
            "plain stdlib",
            "archive_pass_failed",
        ]
        # The traceback is in the file, as text: what an on-call engineer reads.
        assert "ZeroDivisionError" in lines[2]["exception"], lines[2]
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


def test_the_file_rotates_by_its_size_and_keeps_four(tmp_path: Path) -> None:
    path = logs.process_log(tmp_path, "gateway", "50051")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        logs.configure("info", json_file=path, console=False)
        handler = next(h for h in root.handlers if isinstance(h, logs._SizeRotatingHandler))
        handler.maxBytes = 2_000
        log = structlog.get_logger("test")
        for n in range(400):
            log.info("line", n=n, padding="x" * 40)
        handler.flush()
        kept = sorted(p.name for p in path.parent.iterdir())
        assert kept == [f"{path.name}{s}" for s in ("", ".1", ".2", ".3", ".4")], kept
        assert all(p.stat().st_size < 2_200 for p in path.parent.iterdir())
        newest = [json.loads(line)["n"] for line in path.read_text().splitlines()]
        assert newest and newest[-1] == 399
    finally:
        structlog.reset_defaults()
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
