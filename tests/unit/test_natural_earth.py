"""The Natural Earth reader on a shapefile and a dBASE table made here: polygon records
with their parts, a text column in the file's encoding, a country's outer rings and
holes grouped by their winding."""

from __future__ import annotations

import struct

import pytest

from clients.natural_earth import column, country, polygons

OUTER = [(0.0, 0.0), (0.0, 4.0), (4.0, 4.0), (4.0, 0.0), (0.0, 0.0)]  # clockwise
HOLE = [(1.0, 1.0), (2.0, 1.0), (2.0, 2.0), (1.0, 2.0), (1.0, 1.0)]  # counter-clockwise
ISLAND = [(5.0, 5.0), (5.0, 6.0), (6.0, 6.0), (5.0, 5.0)]  # clockwise


def shapefile(records: list[list[list[tuple[float, float]]]]) -> bytes:
    body = b""
    for n, parts in enumerate(records, start=1):
        if not parts:
            content = struct.pack("<i", 0)
        else:
            points = [p for part in parts for p in part]
            starts, at = [], 0
            for part in parts:
                starts.append(at)
                at += len(part)
            content = struct.pack("<i4d2i", 5, 0, 0, 0, 0, len(parts), len(points))
            content += struct.pack(f"<{len(parts)}i", *starts)
            content += b"".join(struct.pack("<2d", *p) for p in points)
        body += struct.pack(">2i", n, len(content) // 2) + content
    header = struct.pack(">7i", 9994, 0, 0, 0, 0, 0, (100 + len(body)) // 2)
    header += struct.pack("<2i4d4d", 1000, 5, 0, 0, 0, 0, 0, 0, 0, 0)
    return header + body


def dbase(names: list[str], encoding: str) -> bytes:
    width = 20
    header_len, record_len = 32 + 32 + 1, 1 + width
    head = struct.pack("<4BIHH20x", 3, 24, 1, 1, len(names), header_len, record_len)
    field = b"name".ljust(11, b"\0") + b"C" + b"\0" * 4 + bytes([width, 0]) + b"\0" * 14
    rows = b"".join(b" " + n.encode(encoding).ljust(width) for n in names)
    return head + field + b"\r" + rows + b"\x1a"


def test_polygon_records_with_parts_and_a_null_shape() -> None:
    shp = shapefile([[OUTER, HOLE], [], [ISLAND]])
    assert polygons(shp) == [[OUTER, HOLE], [], [ISLAND]]
    with pytest.raises(ValueError, match="not a shapefile"):
        polygons(b"\0" * 100)


def test_a_text_column_in_the_files_encoding() -> None:
    dbf = dbase(["Côte d'Ivoire", "Norway"], "iso-8859-1")
    assert column(dbf, "name", "iso-8859-1") == ["Côte d'Ivoire", "Norway"]
    with pytest.raises(ValueError, match="no column 'pop'"):
        column(dbf, "pop")


def test_a_country_is_its_outer_rings_each_with_its_holes() -> None:
    shp = shapefile([[ISLAND], [OUTER, HOLE, ISLAND]])
    dbf = dbase(["Sweden", "Norway"], "utf-8")
    assert country(shp, dbf, "Norway") == [[OUTER, HOLE], [ISLAND]]
    with pytest.raises(ValueError, match="no country named 'Atlantis'"):
        country(shp, dbf, "Atlantis")
