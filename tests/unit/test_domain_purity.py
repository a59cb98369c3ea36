"""actors.domain stays pure: no Ray, no gRPC, no etcd client, no coordination modules."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]
DOMAIN = REPO / "actors" / "domain"
FORBIDDEN_TOP = {"ray", "grpc", "aetcd"}
FORBIDDEN_MODULES = {"cluster.etcd", "cluster.store", "cluster.session"}

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
bad = sorted(
    m for m in sys.modules
    if m.split(".")[0] in {"ray", "grpc", "aetcd"}
    or m in {"cluster.etcd", "cluster.store", "cluster.session"}
)
print(json.dumps(bad))
"""


def domain_modules() -> list[str]:
    names = []
    for path in sorted(DOMAIN.rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def loaded_after_import(modules: list[str]) -> list[str]:
    """The forbidden modules present in a fresh interpreter after importing ``modules``."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *modules],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_domain_module_list_is_complete() -> None:
    names = domain_modules()
    for expected in (
        "actors.domain",
        "actors.domain.model",
        "actors.domain.enums",
        "actors.domain.decide",
        "actors.domain.triage",
        "actors.domain.validation",
        "actors.domain.incident_lifecycle",
        "actors.domain.unit_lifecycle",
        "actors.domain.commands",
        "actors.domain.errors",
        # packages: the scan must reach their modules too
        "actors.domain.eido",
        "actors.domain.eido.reader",
        "actors.domain.eido.writer",
        "actors.domain.eta",
        "actors.domain.eta.travel_time",
    ):
        assert expected in names


def test_importing_the_domain_loads_no_infrastructure() -> None:
    assert loaded_after_import(domain_modules()) == []


def test_probe_detects_an_infrastructure_import() -> None:
    # The probe itself must be able to fail.
    assert "cluster.store" in loaded_after_import(["cluster.store"])


def forbidden_imports(source: str, module: str) -> list[str]:
    """Imports in ``source`` (the text of ``module``) that the domain must not make."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            names = [node.args[0].value]
        for name in names:
            if name.split(".")[0] in FORBIDDEN_TOP or any(
                name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES
            ):
                found.append(name)
    return found


@pytest.mark.parametrize("module", domain_modules())
def test_domain_source_imports_nothing_forbidden(module: str) -> None:
    path = REPO / Path(*module.split("."))
    if path.is_dir():  # a package: its relative imports are anchored at itself
        path, module = path / "__init__.py", f"{module}.__init__"
    else:
        path = path.with_suffix(".py")
    assert forbidden_imports(path.read_text(encoding="utf-8"), module) == []


@pytest.mark.parametrize(
    "source",
    [
        "import ray",
        "import grpc.aio",
        "from aetcd import Client",
        "from cluster.store import FencedStore",
        "from cluster import etcd",
        "import cluster.session",
        "from ..cluster_x import y\nfrom cluster.etcd import op_get",
        "import importlib\nimportlib.import_module('ray')",
        "def f():\n    import grpc\n",
        "__import__('aetcd')",
    ],
)
def test_static_check_catches_forbidden_imports(source: str) -> None:
    assert forbidden_imports(source, "actors.domain.sample")


@pytest.mark.parametrize(
    "source",
    [
        "from cluster.errors import AmkError",
        "import json",
        "from actors.domain import model",
        "from . import model",
        "import rayon_like",
    ],
)
def test_static_check_allows_pure_imports(source: str) -> None:
    assert forbidden_imports(source, "actors.domain.sample") == []
