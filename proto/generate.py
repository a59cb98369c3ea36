"""Generate the Python stubs for the API from the .proto sources.

The stubs go into the top-level package ``amk`` (``amk.dispatch.v1``), not into a
package named ``proto``: Ray's dependencies install proto-plus, whose import name is
``proto``. The stubs are committed; ``tests/unit/test_stubs_current.py`` regenerates
them into a temporary folder and fails when they differ from the committed ones.

Usage: ``python proto/generate.py [OUT_DIR]`` (default: the repository root).
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PROTO_ROOT.parent


def proto_files() -> list[Path]:
    """All .proto sources, sorted so generation is deterministic."""
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(out_dir: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) and write package ``__init__.py`` files."""
    from grpc_tools import protoc  # dev dependency, imported only here

    well_known = str(resources.files("grpc_tools") / "_proto")
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    written: list[Path] = []
    for rel in files:
        pkg = (out_dir / rel).parent
        while pkg != out_dir:
            init = pkg / "__init__.py"
            if not init.exists():
                init.write_text('"""Generated from proto/ by proto/generate.py; do not edit."""\n')
            pkg = pkg.parent
        stem = (out_dir / rel).with_suffix("")
        written += [Path(f"{stem}_pb2.py"), Path(f"{stem}_pb2.pyi"), Path(f"{stem}_pb2_grpc.py")]
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO_ROOT
    for path in generate(target):
        print(path.relative_to(target))
