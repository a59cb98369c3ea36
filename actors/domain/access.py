"""Roles and scopes: who may call which RPC on which regions (the one table, data).

The table is ``data/access.toml``; this module reads it and decides. It is pure (no
Ray, gRPC or etcd): the gateway resolves what a request touches (regions, units, the
caller's centre's regions now) and asks :func:`decide`; tests run the whole role x
method matrix through the same function.

Scopes (Normen fact sheet 14, access by work-related need): a person acts on the
regions their centre serves now: owns, or (for methods marked ``partner``) serves as an
overflow or sharing partner. Anything else is break-glass: a stated reason, allowed
only within ``break_glass_window_s`` of the person's login, flagged in the access log.
Break-glass widens regions, never roles. A crew acts on its own unit only; engineers
and auditors are cluster-wide but their methods carry no patient data (a unit test
keeps it so).
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from cluster.errors import ConfigError

DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "access.toml"
BREAK_GLASS_HEADER = "x-amk-break-glass"
#: Where the person is, as a client acting for them states it (the web console: the
#: browser's address). Recorded beside the gateway's own peer, never instead of it.
ORIGIN_HEADER = "x-amk-origin"
MAX_ORIGIN = 100
MIN_REASON = 10  # characters: "because" is not a reason
MAX_REASON = 500  # characters of a reason kept in the access log

Scope = Literal[
    "public",
    "cluster",
    "region",
    "regions",
    "incident",
    "incidents",
    "unit",
    "units",
    "call",
    "mission",
    "centre",
]
SCOPES: frozenset[str] = frozenset(Scope.__args__)  # type: ignore[attr-defined]
#: Scopes whose request names units (the only ones a crew may act through).
UNIT_SCOPES = frozenset({"unit", "units"})


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    description: str
    regions: Literal["centre", "all", "own-unit"]
    break_glass: bool


@dataclass(frozen=True, slots=True)
class Rule:
    """One RPC's entry: ``method`` is gRPC's full name (``/pkg.Service/Method``)."""

    method: str
    roles: frozenset[str]
    scope: str
    field: str = ""
    partner: bool = False
    logged: bool = False
    home: bool = False


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls, as the gateway verified it (token or client certificate)."""

    role: str
    centre: str = ""
    unit: str = ""  # crews
    issued_at: float = 0.0  # when they authenticated (break-glass window)


@dataclass(frozen=True, slots=True)
class Served:
    """The regions the caller's centre serves now: owned, and as a partner."""

    owned: frozenset[str] = frozenset()
    partner: frozenset[str] = frozenset()
    home: frozenset[str] = frozenset()  # the regions whose home centre it is


@dataclass(frozen=True, slots=True)
class Target:
    """What one request touches, as the gateway resolved it.

    ``regions`` for region-scoped methods (an empty list request: ``narrow`` is set and
    the decision fills in the caller's regions); ``units`` the unit ids named (a crew's
    check); ``centre`` the centre named (centre scope). ``resolved`` False: an id the
    gateway cannot place (empty, unknown); only the role is checked, and the handler
    answers INVALID_ARGUMENT or NOT_FOUND without reading anything.
    """

    regions: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    centre: str = ""
    narrow: bool = False
    resolved: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    why: str  # allowed: public, cluster, owner, partner, own-unit, break-glass, unresolved
    message: str = ""  # refused: what the caller is told
    reason: str = ""  # break-glass: the stated reason
    regions: tuple[str, ...] = ()  # the regions acted on (narrowed for an empty list)
    unauthenticated: bool = False  # refused for want of an identity, not of a right
    outside: tuple[str, ...] = ()  # refused: the regions the caller's centre does not serve


def _refuse(message: str, outside: Sequence[str] = ()) -> Decision:
    return Decision(False, "", message, outside=tuple(outside))


@dataclass(frozen=True)
class AccessTable:
    roles: dict[str, Role]
    rules: dict[str, Rule] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None, methods: Collection[str] = ()) -> AccessTable:
        """Read and check the table: known scopes and roles, a field where one is needed.

        ``methods``: the methods the gateway serves; an entry naming another (a typo, a
        renamed RPC) is refused, since it would never match a call. Any fault is a
        ConfigError naming the file and the entry: a gateway must not start on a table
        it cannot enforce."""
        path = path or DEFAULT_TABLE
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
            return cls._parse(doc, frozenset(methods))
        except ConfigError as exc:
            raise ConfigError(f"access table {path}: {exc}") from exc
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"access table {path}: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def _parse(cls, doc: dict[str, Any], methods: frozenset[str]) -> AccessTable:
        roles = {
            name: Role(name, r["description"], r["regions"], bool(r["break_glass"]))
            for name, r in doc["roles"].items()
        }
        for role in roles.values():
            if role.regions not in ("centre", "all", "own-unit"):
                raise ConfigError(f"role {role.name}: unknown regions {role.regions!r}")
        rules: dict[str, Rule] = {}
        for method, r in doc["methods"].items():
            rule = Rule(
                method,
                frozenset(r.get("roles", ())),
                r["scope"],
                r.get("field", ""),
                bool(r.get("partner", False)),
                bool(r.get("logged", False)),
                bool(r.get("home", False)),
            )
            if methods and method not in methods:
                raise ConfigError(f"{method}: unknown method (the gateway serves no such RPC)")
            if rule.scope not in SCOPES:
                raise ConfigError(f"{method}: unknown scope {rule.scope!r}")
            if unknown := rule.roles - roles.keys():
                raise ConfigError(f"{method}: unknown role(s) {', '.join(sorted(unknown))}")
            needs_field = rule.scope not in ("public", "cluster")
            if needs_field != bool(rule.field):
                raise ConfigError(f"{method}: scope {rule.scope} and field mismatch")
            if rule.scope == "public" and rule.roles:
                raise ConfigError(f"{method}: public methods list no roles")
            rules[method] = rule
        return cls(roles, rules)

    def rule(self, method: str) -> Rule | None:
        return self.rules.get(method)


@cache
def default_access_table() -> AccessTable:
    return AccessTable.load()


def decide(
    table: AccessTable,
    method: str,
    principal: Principal | None,
    target: Target,
    served: Served,
    *,
    break_glass: str = "",
    now: float,
    break_glass_window_s: float,
) -> Decision:
    """May ``principal`` call ``method`` on ``target``? The one decision function."""
    rule = table.rule(method)
    if rule is None:
        return _refuse(f"{method} is not in the access table: refused until it has an entry")
    if rule.scope == "public":
        return Decision(True, "public")
    if principal is None:
        return Decision(False, "", "no credentials: run amk login", unauthenticated=True)
    role = table.roles.get(principal.role)
    if role is None:
        return _refuse(f"unknown role {principal.role!r}")
    if principal.role not in rule.roles:
        return _refuse(f"role {principal.role} may not call {method.rsplit('/', 1)[-1]}")
    if rule.scope == "cluster":
        return Decision(True, "cluster")
    if role.regions == "own-unit":
        return _own_unit(rule, principal, target)
    if not target.resolved:
        return Decision(True, "unresolved")
    if role.regions == "all":
        return Decision(True, "cluster", regions=target.regions)
    if rule.scope == "centre":
        if target.centre == principal.centre:
            return Decision(True, "owner")
        outside: tuple[str, ...] = (f"centre {target.centre}",)
        return _break_glass(role, principal, outside, (), break_glass, now, break_glass_window_s)
    mine = (
        served.owned
        | (served.partner if rule.partner else frozenset())
        | (served.home if rule.home else frozenset())
    )
    if target.narrow:
        if not mine:
            return _refuse(f"centre {principal.centre} serves no region now")
        regions = tuple(sorted(mine))
        return Decision(True, _why(regions, served), regions=regions)
    outside = tuple(r for r in target.regions if r not in mine)
    if not outside:
        return Decision(True, _why(target.regions, served), regions=target.regions)
    return _break_glass(
        role, principal, outside, target.regions, break_glass, now, break_glass_window_s
    )


def _why(regions: Sequence[str], served: Served) -> str:
    """Owner, or the weaker ground the access stood on (partner, home)."""
    rest = set(regions) - served.owned
    if not rest:
        return "owner"
    return "partner" if rest & served.partner else "home"


#: The grounds a request is let in on by the regions the caller's centre serves.
REGION_GROUNDS = frozenset({"owner", "partner", "home"})


def ground_of(why: str, region: str, served: Served | None) -> str:
    """The ground one record was read on, for its row in the access log (Normen: why
    this person saw this record). A request over several regions is let in on its
    weakest ground (``_why``: partner, if one region is a partner's), but each record it
    returns lies in one region: a record of a region the centre owns was read as its
    owner. Other grounds (break-glass, own unit, cluster) stand for every record."""
    if why not in REGION_GROUNDS or served is None or not region:
        return why
    if region in served.owned:
        return "owner"
    if region in served.partner:
        return "partner"
    if region in served.home:
        return "home"
    return why


def _own_unit(rule: Rule, principal: Principal, target: Target) -> Decision:
    if rule.scope not in UNIT_SCOPES:
        return _refuse("a crew acts on its own unit only")
    if not principal.unit or not target.units or set(target.units) != {principal.unit}:
        return _refuse(f"a crew acts on its own unit only ({principal.unit or 'none'})")
    return Decision(True, "own-unit", regions=target.regions)


def _break_glass(
    role: Role,
    principal: Principal,
    outside: Sequence[str],
    regions: tuple[str, ...],
    reason: str,
    now: float,
    window_s: float,
) -> Decision:
    where = ", ".join(outside)
    base = f"{where}: not served by centre {principal.centre or '(none)'} now"
    if not role.break_glass:
        return _refuse(f"{base}; role {role.name} has no break-glass", outside)
    reason = reason.strip()
    if not reason:
        return _refuse(
            f"{base}; break-glass needs a stated reason (amk --break-glass REASON, the"
            f" console's break-glass panel, or the {BREAK_GLASS_HEADER} header)",
            outside,
        )
    if len(reason) < MIN_REASON:
        return _refuse(
            f"{base}; break-glass reason too short (at least {MIN_REASON} characters)", outside
        )
    if now - principal.issued_at > window_s:
        return _refuse(
            f"{base}; break-glass only within {int(window_s)} s of logging in: log in again",
            outside,
        )
    return Decision(True, "break-glass", reason=reason[:MAX_REASON], regions=regions)
