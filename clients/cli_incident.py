"""``amk incident move`` and ``amk incident cpr``: the call-taker's records about an
incident as the call goes on (a better place; telephone-guided CPR). Their own module for
the size of ``clients.cli``, which registers them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from clients.cli_base import Context, _request_id_option
from clients.client import CPR_END, CPR_STEP, enum_choices
from clients.render import incident_panel


def cmd_incident_move(ctx: Context) -> int:
    a = ctx.args
    if (a.lat is None) != (a.lon is None):
        raise ValueError("--lat and --lon go together")
    where = None if a.lat is None else (a.lat, a.lon, a.accuracy)
    incident = ctx.client().change_incident_location(a.id, where, a.address, a.request_id)
    return ctx.emit(incident, incident_panel)


def cmd_incident_cpr(ctx: Context) -> int:
    a = ctx.args
    incident = ctx.client().record_cpr_guidance(
        a.id, a.step, reason=a.reason, request_id=a.request_id, end=a.end
    )
    return ctx.emit(incident, incident_panel)


def add_incident_commands(inc: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """``move`` and ``cpr`` on the ``incident`` subparsers."""
    move = command(inc, "move", cmd_incident_move, "a better position or address, told later")
    move.add_argument("id", metavar="ID")
    for flag in ("--lat", "--lon"):
        move.add_argument(flag, type=float)
    move.add_argument("--accuracy", type=float, default=0.0, metavar="M")
    move.add_argument("--address", default="")
    _request_id_option(move)

    cpr = command(inc, "cpr", cmd_incident_cpr, "record a step of telephone-guided CPR (HLR) now")
    cpr.add_argument("id", metavar="ID")
    cpr.add_argument(
        "step",
        metavar="STEP",
        choices=enum_choices(CPR_STEP),
        help="started (the guidance began), compressions (the caller's first), bystander"
        " (instead of both: compressions were under way already), not_given (--reason), or"
        " ended (--end)",
    )
    cpr.add_argument("--reason", default="", help="not_given: why the caller was not guided")
    cpr.add_argument(
        "--end",
        default="",
        choices=["", *enum_choices(CPR_END)],
        metavar="END",
        help="ended: how (rosc: breathes normally again, call_lost, caller_stopped,"
        " others_took_over: first responders or a defibrillator volunteer, not_indicated;"
        " corrections, at any time: not_arrest, wrong_incident)",
    )
    _request_id_option(cpr)
