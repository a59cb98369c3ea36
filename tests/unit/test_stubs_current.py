"""The committed gRPC stubs under amk/ are exactly what proto/generate.py produces."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "amk"
FIX = "stubs are out of date with proto/: run `python proto/generate.py` and commit amk/"


def _load_generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_amk_proto_generate", REPO / "proto" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> set[Path]:
    return {
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stubs")
    written = _load_generate().generate(out)
    assert written, "generate() wrote nothing"
    for path in written:
        assert path.is_file(), f"generate() claims {path} but did not write it"
    return out


def test_generation_produces_the_stub_package(generated: Path) -> None:
    files = _files(generated)
    assert Path("amk/dispatch/v1/dispatch_pb2.py") in files
    assert Path("amk/dispatch/v1/dispatch_pb2_grpc.py") in files
    assert Path("amk/dispatch/v1/dispatch_pb2.pyi") in files
    assert all(p.parts[0] == "amk" for p in files), files


def test_committed_stubs_match_a_fresh_generation(generated: Path) -> None:
    problems = []
    for rel in sorted(_files(generated)):
        committed = REPO / rel
        if not committed.is_file():
            problems.append(f"missing: {rel}")
        elif committed.read_bytes() != (generated / rel).read_bytes():
            problems.append(f"differs: {rel}")
    assert not problems, f"{FIX}\n" + "\n".join(problems)


def test_no_stale_stubs_are_committed(generated: Path) -> None:
    stale = sorted(_files(COMMITTED) - {p.relative_to("amk") for p in _files(generated)})
    assert not stale, f"{FIX} (and delete stale files)\n" + "\n".join(map(str, stale))
