"""``amk status`` and the live board by health region (issue #15): the filter, the
grouping and the rendering, on cluster statuses made from the shipped seeds as the
gateway makes them (every centre and region with its health region)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from amk.dispatch.v1 import dispatch_pb2 as pb
from clients.board import BoardState, render_board
from clients.cli import build_parser
from clients.health_regions import (
    HealthRegionError,
    check_health_regions,
    group_by_health_region,
    parse_health_regions,
    regions_in,
    select_board,
    select_health_regions,
)
from clients.render import cluster_status_renderable, to_json_doc
from cluster.seed_model import Seed

SEEDS = Path(__file__).resolve().parents[2] / "cluster" / "seed"
Ev = pb.WatchEvent


@pytest.fixture(scope="module")
def norway() -> Seed:
    return Seed.load(SEEDS / "norway.toml")


@pytest.fixture(scope="module")
def hso() -> Seed:
    return Seed.load(SEEDS / "helse_sor_ost.toml")


def status_of(seed: Seed) -> pb.ClusterStatus:
    """What GetClusterStatus answers for ``seed`` with every centre at home."""
    return pb.ClusterStatus(
        gateway="127.0.0.1:50051",
        etcd_revision=42,
        health_regions=[pb.HealthRegion(id=h.id, name=h.name) for h in seed.health_regions],
        centres=[
            pb.CentreStatus(
                id=c.id,
                name=c.name,
                alive=True,
                health_region=c.health_region,
                regions_owned=[r.id for r in seed.regions if r.home == c.id],
            )
            for c in seed.centres
        ],
        regions=[
            pb.RegionStatus(
                id=r.id,
                name=r.name,
                home_centre=r.home,
                owner_centre=r.home,
                fencing_token=100 + i,
                health_region=seed.health_region_of(r.id),
            )
            for i, r in enumerate(seed.regions)
        ],
    )


def text_of(renderable: object, width: int = 220) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def expected_regions(seed: Seed, health_region: str) -> list[str]:
    """From the seed's own tables: the regions whose home centre is of that health region."""
    homes = {c.id for c in seed.centres if c.health_region == health_region}
    return [r.id for r in seed.regions if r.home in homes]


# ---------------------------------------------------------------- the option


def test_the_option_takes_repeats_and_comma_lists_once_each() -> None:
    assert parse_health_regions(None) == []
    assert parse_health_regions(["helse-vest, helse-nord", "helse-vest"]) == [
        "helse-vest",
        "helse-nord",
    ]
    with pytest.raises(HealthRegionError, match="--health-region"):
        parse_health_regions([" , "])
    args = build_parser().parse_args(
        [
            "status",
            "--health-region",
            "helse-vest",
            "--health-region",
            "helse-nord,helse-midt-norge",
        ]
    )
    assert parse_health_regions(args.health_region) == [
        "helse-vest",
        "helse-nord",
        "helse-midt-norge",
    ]
    assert build_parser().parse_args(["watch", "--health-region", "helse-nord"]).health_region == [
        "helse-nord"
    ]


def test_an_unknown_health_region_names_the_option_and_the_known_ids(
    norway: Seed, hso: Seed
) -> None:
    with pytest.raises(HealthRegionError) as err:
        select_health_regions(status_of(norway), ["helse-vest", "helse-sør"])
    message = str(err.value)
    assert message.startswith("--health-region: unknown health region helse-sør; known: ")
    for h in norway.health_regions:
        assert h.id in message
    # The default seed declares one: asking for another names that one only.
    with pytest.raises(
        HealthRegionError, match=r"unknown health region helse-vest; known: helse-sor-ost$"
    ):
        check_health_regions(["helse-vest"], status_of(hso))
    with pytest.raises(HealthRegionError, match="declares no health regions"):
        check_health_regions(["helse-vest"], pb.ClusterStatus())


def test_the_cli_refuses_an_unknown_one_with_exit_2_before_any_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from clients.cli import main

    # An empty id is refused before the gateway is asked (none listens on port 9).
    assert main(["--gateway", "127.0.0.1:9", "--insecure", "status", "--health-region", ","]) == 2
    assert "--health-region" in capsys.readouterr().err


# ---------------------------------------------------------------- amk status


def test_status_keeps_only_the_asked_health_regions(norway: Seed) -> None:
    status = status_of(norway)
    assert len(status.health_regions) == 4 and len(status.regions) == len(norway.regions)
    seen: list[str] = []
    for h in norway.health_regions:
        only = select_health_regions(status, [h.id])
        assert [r.id for r in only.regions] == expected_regions(norway, h.id)
        assert [c.id for c in only.centres] == [
            c.id for c in norway.centres if c.health_region == h.id
        ]
        assert [x.id for x in only.health_regions] == [h.id]
        assert (only.gateway, only.etcd_revision) == (status.gateway, status.etcd_revision)
        seen += [r.id for r in only.regions]
    assert sorted(seen) == sorted(r.id for r in norway.regions)  # each region once
    two = select_health_regions(status, ["helse-nord", "helse-vest"])
    assert {r.id for r in two.regions} == set(
        expected_regions(norway, "helse-nord") + expected_regions(norway, "helse-vest")
    )
    assert select_health_regions(status, []) is status
    # Oslo's air coordination (AMK-LA) is Helse Sør-Øst's, with its home centre.
    assert "luftambulanse-hso" in regions_in(status, ["helse-sor-ost"])


def test_status_json_is_the_filtered_document(norway: Seed) -> None:
    doc = to_json_doc(select_health_regions(status_of(norway), ["helse-midt-norge"]))
    assert isinstance(doc, dict)
    assert {r["health_region"] for r in doc["regions"]} == {"helse-midt-norge"}
    assert [r["id"] for r in doc["regions"]] == expected_regions(norway, "helse-midt-norge")


def tables_of(out: str) -> dict[str, list[str]]:
    """Title -> first-column cells of each table in a rendered status."""
    tables: dict[str, list[str]] = {}
    title = ""
    for line in out.splitlines():
        if line.strip() and not line.startswith(("┏", "┃", "┡", "│", "└", "├")):
            title = line.strip()
            tables.setdefault(title, [])
        elif line.startswith("│"):
            tables[title].append(line.split("│")[1].strip())
    return tables


def test_status_has_a_table_per_health_region_in_the_seeds_order(norway: Seed) -> None:
    tables = tables_of(text_of(cluster_status_renderable(status_of(norway))))
    for kind in ("Regions", "Centres"):
        titles = [t for t in tables if t.startswith(f"{kind}: ")]
        assert titles == [f"{kind}: {h.name} ({h.id})" for h in norway.health_regions]
    for h in norway.health_regions:
        assert tables[f"Regions: {h.name} ({h.id})"] == expected_regions(norway, h.id)
        assert tables[f"Centres: {h.name} ({h.id})"] == [
            c.id for c in norway.centres if c.health_region == h.id
        ]


def test_filtered_status_shows_only_that_health_region(norway: Seed) -> None:
    only = select_health_regions(status_of(norway), ["helse-nord"])
    tables = tables_of(text_of(cluster_status_renderable(only), width=80))
    assert [t for t in tables if t.startswith(("Regions", "Centres"))] == [
        "Regions: Helse Nord (helse-nord)",
        "Centres: Helse Nord (helse-nord)",
    ]
    assert tables["Regions: Helse Nord (helse-nord)"] == expected_regions(norway, "helse-nord")


def test_a_status_without_health_regions_has_one_table() -> None:
    status = pb.ClusterStatus(regions=[pb.RegionStatus(id="oslo", home_centre="oslo")])
    tables = tables_of(text_of(cluster_status_renderable(status)))
    assert tables["Regions"] == ["oslo"] and "Regions:" not in " ".join(tables)


def test_grouping_keeps_order_and_puts_the_ungrouped_last() -> None:
    declared = [pb.HealthRegion(id="b", name="B"), pb.HealthRegion(id="a", name="A")]
    items = [("x", "a"), ("y", ""), ("z", "b"), ("w", "a"), ("v", "c")]
    groups = group_by_health_region(items, declared, lambda i: i[1])
    assert [(g, [i[0] for i in members]) for g, members in groups] == [
        ("b", ["z"]),
        ("a", ["x", "w"]),
        ("c", ["v"]),
        ("", ["y"]),
    ]


# ---------------------------------------------------------------- the live board


def _incident(id_: str, region: str) -> pb.Incident:
    return pb.Incident(id=id_, region=region, status=pb.INCIDENT_STATUS_RECEIVED)


def _unit(id_: str, region: str) -> pb.Unit:
    return pb.Unit(id=id_, region=region, call_sign=id_.upper())


def test_the_board_shows_only_the_chosen_health_regions(norway: Seed) -> None:
    status = status_of(norway)
    first = {h.id: expected_regions(norway, h.id)[0] for h in norway.health_regions}
    state = BoardState(shown=regions_in(status, ["helse-vest"]))
    state.seed_regions(status.regions, status.health_regions)
    events = [
        Ev(kind=Ev.KIND_SNAPSHOT_INCIDENT, revision=5, region=r, incident=_incident(f"i-{r}", r))
        for r in first.values()
    ]
    events += [
        Ev(kind=Ev.KIND_SNAPSHOT_UNIT, revision=5, region=r, unit=_unit(f"u-{r}", r))
        for r in first.values()
    ]
    events.append(Ev(kind=Ev.KIND_SNAPSHOT_DONE, revision=5))
    for event in events:
        state.apply(event)
    vest = first["helse-vest"]
    assert [i.id for i in state.open_incidents()] == [f"i-{vest}"]
    assert [u.id for u in state.sorted_units()] == [f"u-{vest}"]
    assert [(g, [r.id for r in rs]) for g, rs in state.owner_groups()] == [
        ("helse-vest", sorted(expected_regions(norway, "helse-vest")))
    ]
    # An owner change elsewhere is not told on this board; one of its own is.
    oslo = pb.RegionStatus(id="oslo", owner_centre="innlandet", health_region="helse-sor-ost")
    state.apply(
        Ev(
            kind=Ev.KIND_REGION_OWNER_CHANGED,
            revision=6,
            region="oslo",
            region_status=oslo,
            message="Oslo moved",
        )
    )
    state.apply(
        Ev(
            kind=Ev.KIND_REGION_OWNER_CHANGED,
            revision=7,
            region=vest,
            region_status=pb.RegionStatus(id=vest, health_region="helse-vest"),
            message="west moved",
        )
    )
    assert [text for _, text in state.messages] == ["west moved"]
    out = text_of(render_board(state, "test"))
    assert "Helse Vest (helse-vest)" in out and f"i-{vest}" in out
    assert "Helse Sør-Øst" not in out and "i-oslo" not in out


def test_the_unfiltered_board_groups_owners_of_the_whole_country(norway: Seed) -> None:
    status = status_of(norway)
    state = BoardState()
    state.seed_regions(status.regions, status.health_regions)
    groups = state.owner_groups()
    assert [g for g, _ in groups] == [h.id for h in norway.health_regions]
    assert sum(len(rs) for _, rs in groups) == len(norway.regions)
    out = text_of(render_board(state, "test"))
    at = [out.index(f"{h.name} ({h.id})") for h in norway.health_regions]
    assert at == sorted(at)


# ---------------------------------------------------------------- amk board --at


def test_the_board_at_a_moment_keeps_only_the_chosen_health_regions(norway: Seed) -> None:
    status = status_of(norway)
    vest = expected_regions(norway, "helse-vest")
    oslo, bergen = "oslo", vest[0]
    board = pb.BoardAt(
        incidents=[_incident("OSL-1", oslo), _incident("BGO-1", bergen)],
        units=[_unit("osl-a1", oslo), _unit("bgo-a1", bergen)],
        owners=[
            pb.RegionOwnerAt(region=oslo, centre="oslo", fencing_token=7),
            pb.RegionOwnerAt(region=bergen, centre=bergen, fencing_token=9),
        ],
        versions=12,
    )
    board.at.FromSeconds(1_700_000_000)
    shown = select_board(board, regions_in(status, ["helse-vest"]))
    assert [i.id for i in shown.incidents] == ["BGO-1"]
    assert [u.id for u in shown.units] == ["bgo-a1"]
    assert [o.region for o in shown.owners] == [bergen]
    assert shown.at == board.at and shown.versions == 12  # when, and from how much
    assert len(board.incidents) == 2  # the answer itself is left as it came
    assert select_board(board, set()) == pb.BoardAt(at=board.at, versions=12)


def test_board_at_refuses_an_empty_health_region_id_with_exit_2_before_any_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from clients.cli import main

    argv = ["--gateway", "127.0.0.1:9", "--insecure", "board", "--at", "1h"]
    assert main([*argv, "--health-region", ","]) == 2
    assert "--health-region" in capsys.readouterr().err


class BoardClient:
    """The two answers ``amk board --at`` reads, as a national cluster would give them
    (the command's own logic is what is tested: the calls are tested against a real
    deployment in tests/integration/test_status_health_regions.py)."""

    def __init__(self, status: pb.ClusterStatus, board: pb.BoardAt) -> None:
        self.status, self.board, self.boards_asked = status, board, 0

    def cluster_status(self) -> pb.ClusterStatus:
        return self.status

    def board_at(self, at: float, regions: list[str]) -> pb.BoardAt:
        self.boards_asked += 1
        return self.board


def test_amk_board_at_narrows_the_answer_and_asks_no_board_for_an_unknown_id(
    norway: Seed, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from clients.cli_base import Context
    from clients.cli_history import cmd_board_at

    bergen = expected_regions(norway, "helse-vest")[0]
    board = pb.BoardAt(
        incidents=[_incident("OSL-1", "oslo"), _incident("BGO-1", bergen)],
        units=[_unit("osl-a1", "oslo"), _unit("bgo-a1", bergen)],
        owners=[pb.RegionOwnerAt(region="oslo"), pb.RegionOwnerAt(region=bergen)],
    )
    client = BoardClient(status_of(norway), board)

    def run(*health_regions: str) -> int:
        argv = ["--json", "board", "--at", "1h"]
        for h in health_regions:
            argv += ["--health-region", h]
        ctx = Context(args=build_parser().parse_args(argv), _client=client)  # type: ignore[arg-type]
        return cmd_board_at(ctx)

    capsys.readouterr()
    assert run("helse-vest") == 0
    doc = json.loads(capsys.readouterr().out)
    assert [i["id"] for i in doc["incidents"]] == ["BGO-1"]
    assert [u["id"] for u in doc["units"]] == ["bgo-a1"]
    assert [o["region"] for o in doc["owners"]] == [bergen]
    assert run() == 0  # no option: the answer as it came
    assert len(json.loads(capsys.readouterr().out)["incidents"]) == 2
    assert client.boards_asked == 2
    with pytest.raises(HealthRegionError, match="helse-atlantis"):
        run("helse-atlantis")
    assert client.boards_asked == 2  # refused before the board was rebuilt


def test_a_board_from_before_the_history_says_nothing_is_recorded_that_early() -> None:
    from clients.cli_history import board_at_view

    empty = text_of(board_at_view(pb.BoardAt(versions=0)))
    assert "nothing is recorded that early" in empty
    owner = pb.RegionOwnerAt(region="oslo", centre="oslo", fencing_token=7)
    held = text_of(board_at_view(pb.BoardAt(versions=40, owners=[owner])))
    assert "rebuilt from 40 record versions" in held and "that early" not in held
