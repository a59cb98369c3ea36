"""Architecture rules read from the sources with ``ast``: no import cycle, no module over
600 lines, dependencies one way (cluster <- actors <- clients <- chaos).

Every import counts, lazy and ``if TYPE_CHECKING:`` ones too: a lazy import hides a cycle
from the interpreter, not from the design (STYLE.md, "Shapes that cost us"). The checker
is run on small in-memory trees at the end, so it is known to be able to fail.
"""

from __future__ import annotations

import ast
import functools
import itertools
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("actors", "cluster", "clients", "chaos", "bench", "tests")
ALIASES = {
    "benchlib": "bench.benchlib",
    "bench_security": "bench.bench_security",
}  # bench/ on sys.path
GENERATED = "amk"  # the API stubs, top level
MAX_LINES = 600
LAYERS = ("cluster", "actors", "clients", "chaos")  # each imports only those before it

Graph = dict[str, dict[str, int]]  # importer -> {imported module: first line}


def module_name(rel: str) -> str:
    """``a/b/c.py`` -> ``a.b.c``; ``a/b/__init__.py`` -> ``a.b``."""
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def ancestors(module: str) -> list[str]:
    """``a.b.c`` -> ``["a", "a.b"]``."""
    return [module.rsplit(".", i)[0] for i in range(module.count("."), 0, -1)]


def aliased(name: str) -> str:
    """``benchlib.x`` -> ``bench.benchlib.x``; other names unchanged."""
    head, dot, tail = name.partition(".")
    return ALIASES.get(head, head) + dot + tail


def is_empty(source: str) -> bool:
    """True when a module holds no statement besides a docstring."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return not body


def imports(source: str, rel: str) -> list[tuple[str, str, int]]:
    """``(module, name, line)`` for every import anywhere in ``source`` (the file ``rel``):
    ``import a.b`` gives ``("a.b", "", n)``, ``from a import b`` ``("a", "b", n)``.
    Relative imports are resolved, and ``benchlib`` read as ``bench.benchlib``."""
    module = module_name(rel)
    package = module if rel.endswith("__init__.py") else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(aliased(alias.name), "", node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: package.count(".") + 2 - node.level]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(aliased(base), alias.name, node.lineno) for alias in node.names]
    return found


def build_graph(sources: dict[str, str]) -> Graph:
    """The import graph among the modules of ``sources`` (relative path -> text).

    A name resolves to its longest prefix that is a module (``from p import n``: ``p.n``
    if a module, else ``p``). Importing ``a.b.c`` runs ``a`` and ``a.b`` first, so they are
    edges too, when their ``__init__`` has code and the importer is not already inside them.
    """
    modules = {module_name(rel): rel for rel in sources}
    non_empty = {m for m, rel in modules.items() if not is_empty(sources[rel])}
    graph: Graph = {}
    for module, rel in modules.items():
        edges = graph.setdefault(module, {})
        for base, name, line in imports(sources[rel], rel):
            dotted = f"{base}.{name}" if name else base
            target = next((p for p in [dotted, *ancestors(dotted)[::-1]] if p in modules), None)
            if target is None:
                continue
            implied = (set(ancestors(target)) & non_empty) - set(ancestors(module))
            for dep in ({target} | implied) - {module}:
                edges[dep] = min(edges.get(dep, line), line)
    return graph


def missing_modules(sources: dict[str, str]) -> list[str]:
    """Imports of our own modules that do not exist: a lazy one fails only when run, and
    hides its edge from the cycle check."""
    modules = {module_name(rel) for rel in sources}
    known = modules | {a for m in modules for a in ancestors(m)}
    tops = {m.split(".")[0] for m in modules}
    found = [
        f"{rel}:{line} imports {base}"
        for rel, text in sorted(sources.items())
        for base, _, line in imports(text, rel)
        if base.split(".")[0] in tops and base not in known
    ]
    return list(dict.fromkeys(found))  # one line per ``from m import a, b``


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm: the components of more than one module (there are no self-edges)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = stack[stack.index(v) :]
            del stack[stack.index(v) :]
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def shortest_cycle(graph: Graph, start: str, within: set[str]) -> list[str]:
    """The shortest path ``start -> ... -> start`` inside one component, breadth first."""
    paths, queue = {start: [start]}, [start]
    for v in queue:  # the queue grows while it is read: breadth first
        for w in sorted(graph[v]):
            if w == start:
                return [*paths[v], start]
            if w in within and w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(f"{start} is on no cycle")


def cycles(graph: Graph) -> list[str]:
    """``a -> b -> a  [import lines: a:3, b:54]``, until every module of every strongly
    connected component is on a cycle shown."""
    lines = []
    for component in strongly_connected(graph):
        covered: set[str] = set()
        for start in component:
            if start not in covered:
                path = shortest_cycle(graph, start, set(component))
                covered.update(path)
                where = ", ".join(f"{a}:{graph[a][b]}" for a, b in itertools.pairwise(path))
                lines.append(f"{' -> '.join(path)}  [import lines: {where}]")
    return lines


def layering_violations(graph: Graph) -> list[str]:
    """Imports against the order cluster <- actors <- clients <- chaos."""
    return [
        f"{src}:{line} imports {dst}"
        for src, edges in sorted(graph.items())
        for dst, line in sorted(edges.items())
        if src.split(".")[0] in LAYERS
        and dst.split(".")[0] in LAYERS[LAYERS.index(src.split(".")[0]) + 1 :]
    ]


def oversized(files: dict[str, str]) -> list[str]:
    """``path: N lines`` for each module over ``MAX_LINES``."""
    counts = {rel: len(text.splitlines()) for rel, text in files.items()}
    return [f"{rel}: {n} lines" for rel, n in sorted(counts.items()) if n > MAX_LINES]


@functools.cache
def python_files() -> dict[str, str]:
    """Relative path -> text of every ``*.py`` in the repo but the generated stubs and
    hidden directories (``.venv``, ``.git``)."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(REPO):
        rel = Path(dirpath).relative_to(REPO)
        dirnames[:] = [d for d in dirnames if d[0] != "." and (rel, d) != (Path(), GENERATED)]
        for name in filter(lambda n: n.endswith(".py"), filenames):
            files[(rel / name).as_posix()] = (REPO / rel / name).read_text("utf-8")
    return files


def project_sources() -> dict[str, str]:
    return {rel: text for rel, text in python_files().items() if rel.split("/")[0] in PACKAGES}


def report(title: str, found: list[str]) -> None:
    if found:
        pytest.fail(f"{title}:\n" + "\n".join(found), pytrace=False)


# ---------------------------------------------------------------------- the rules


def test_no_import_cycles() -> None:
    report("import cycles (lazy imports count)", cycles(build_graph(project_sources())))


def test_no_module_over_600_lines() -> None:
    report(f"modules over {MAX_LINES} lines; split them", oversized(python_files()))


def test_dependencies_run_one_way() -> None:
    found = layering_violations(build_graph(project_sources()))
    report("imports against cluster <- actors <- clients <- chaos", found)


def test_every_import_of_our_own_modules_resolves() -> None:
    report("imports of our own modules that do not exist", missing_modules(project_sources()))


# ---------------------------------------------------------------------- the checker


def test_a_cycle_through_a_lazy_import_is_found() -> None:
    graph = build_graph(
        {
            "p/__init__.py": '"""Doc."""\n',
            "p/a.py": "from p import b\n",
            "p/b.py": "import p.c as c\n",
            "p/c.py": "def f():\n    from .a import x\n    return x\n",
            "p/d.py": "from p.a import y\n",
        }
    )
    assert graph["p.c"] == {"p.a": 2}
    assert cycles(graph) == ["p.a -> p.b -> p.c -> p.a  [import lines: p.a:1, p.b:1, p.c:2]"]


def test_type_checking_imports_count() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from q.y import Y\n"
    graph = build_graph({"q/x.py": source, "q/y.py": "from q import x\n"})
    assert cycles(graph) == ["q.x -> q.y -> q.x  [import lines: q.x:3, q.y:1]"]


def test_packages_make_no_false_cycles() -> None:
    sources = {
        "p/__init__.py": '"""Doc only."""\n',
        "p/a.py": "import p.b\n",
        "p/b.py": "def f():\n    from r import s\n",
        "r/__init__.py": "from r.s import S\n",  # re-exports: code, so an edge
        "r/s.py": "from r.t import T\nS = T\n",  # r is its own package: already entered
        "r/t.py": "T = 1\n",
    }
    graph = build_graph(sources)
    assert graph["p.a"] == {"p.b": 1}  # p/__init__.py is empty: no edge
    assert graph["p.b"] == {"r.s": 2, "r": 2}
    assert graph["r.s"] == {"r.t": 1}
    assert cycles(graph) == []
    # Importing its own package by name from inside it is a real cycle.
    sources["r/t.py"] = "from r import S\n"
    assert cycles(build_graph(sources)) == [
        "r -> r.s -> r.t -> r  [import lines: r:1, r.s:1, r.t:1]"
    ]


def test_layering_size_and_missing_checks_can_fail() -> None:
    sources = {
        "cluster/k.py": "def f():\n    from clients import c\n",
        "clients/c.py": "import chaos\n",
        "chaos/__init__.py": "def f():\n    from chaos.gone import g\n",
        "bench/b.py": "import benchlib\n",
    }
    graph = build_graph(sources)
    assert layering_violations(graph) == [
        "clients.c:1 imports chaos",
        "cluster.k:2 imports clients.c",
    ]
    assert missing_modules(sources) == [
        "bench/b.py:1 imports bench.benchlib",
        "chaos/__init__.py:2 imports chaos.gone",
    ]
    assert oversized({"big.py": "x = 1\n" * 601, "ok.py": "x = 1\n" * 600}) == ["big.py: 601 lines"]
