"""Sum up the collector pauses ``bench/gc_trace`` logged: per process (by title), how
many pauses of each generation, and the longest, from the first to the last line or
within ``--from``/``--to`` (wall-clock seconds, as the logs have them).

    .venv/bin/python bench/gc_report.py /tmp/gc [--match Gateway,centre]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path


def read(folder: Path) -> list[tuple[float, int, float, str]]:
    """(wall time, generation, ms, title) of every logged pause."""
    out = []
    for log in sorted(folder.glob("*.log")):
        for line in log.read_text().splitlines():
            at, gen, ms, *title = line.split(" ")
            out.append((float(at), int(gen), float(ms), " ".join(title) or f"pid {log.stem}"))
    return out


def _who(title: str) -> str:
    """Ray titles a worker by the method it runs now, so a gateway's pauses while it
    starts (``ray::GatewayActor.start``) are apart from those while it serves
    (``ray::GatewayActor.wait_stopped``, its call for as long as it runs)."""
    head = title.split(" ")[0]
    return head if head.startswith("ray::") else title[:60]


def summary(rows: list[tuple[float, int, float, str]]) -> dict[str, dict[int, list[float]]]:
    by: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for _, gen, ms, title in rows:
        by[_who(title)][gen].append(ms)
    return by


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--match", default="", help="comma-separated parts of titles to keep")
    ap.add_argument("--from", dest="start", type=float, default=0.0)
    ap.add_argument("--to", dest="end", type=float, default=float("inf"))
    args = ap.parse_args()
    keep = [m for m in args.match.split(",") if m]
    rows = [
        r
        for r in read(args.folder)
        if args.start <= r[0] <= args.end and (not keep or any(m in r[3] for m in keep))
    ]
    print("| process | generation | pauses >= 1 ms | longest ms | >= 10 ms |")
    print("| --- | --- | --- | --- | --- |")
    for who, gens in sorted(summary(rows).items()):
        for gen, pauses in sorted(gens.items()):
            long = sum(1 for p in pauses if p >= 10)
            print(f"| {who} | {gen} | {len(pauses)} | {max(pauses):.1f} | {long} |")


if __name__ == "__main__":
    main()
