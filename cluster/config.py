"""Cluster configuration as validated pydantic models.

Two sources: the **seed** (a data file: centres, their regions with home centre and
ordered backups, the fleet, hospitals, airports; default ``cluster/seed/helse_sor_ost.toml``)
and the **deployment settings** (etcd endpoints, Ray address, gateways, lease TTL, the
state folder), from an optional TOML file with environment overrides:

- ``AMK_HOME``     state folder (default: the nearest ``.amk`` here or above): data, logs
- ``AMK_GATEWAY``  comma-separated gateway addresses (default ``127.0.0.1:50051,50052``:
  two gateways, so a console carries on when one dies)
- ``AMK_ETCD``     comma-separated etcd endpoints; unset = start an embedded etcd
- ``AMK_CONFIG``   path of the settings file (default ``$AMK_HOME/amk.toml`` if present)
- ``AMK_PKI``      folder of the CA and certificates (default ``$AMK_HOME/pki``)
- ``AMK_INSECURE`` ``1``: TLS off on every port (development only, issue #13)
- ``AMK_WEB``      the web console's ``host:port``, or ``off`` (default 127.0.0.1:8080)
- ``AMK_SEED``     the seed file (default Helse Sør-Øst's): give ``amk up`` and every
  console the same one (``cluster/seed/norway.toml``: the whole country), or a console
  reads the seed's regions and centres of another cluster than the one it talks to
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cluster.errors import ConfigError
from cluster.home import state_folder
from cluster.seed_model import (  # the seed's data model (Seed is also read from here)
    Seed,
    _Strict,
)

UNSAFE_UNFENCED_ENV = "AMK_UNSAFE_ALLOW_UNFENCED"


class RetryPolicy(_Strict):
    """How a server-side loop waits between tries: data, not literals in the code.

    The first wait is ``initial_s``; each next one is ``multiplier`` times the last, up
    to ``max_s``. ``attempts`` bounds the tries where a loop must give up (None: until
    its caller's deadline or a stop).
    """

    initial_s: float = Field(gt=0.0)
    max_s: float = Field(gt=0.0)
    multiplier: float = Field(default=2.0, ge=1.0)
    attempts: int | None = Field(default=None, ge=1)

    def next(self, current: float) -> float:
        """The wait after one of ``current`` seconds."""
        return min(self.max_s, current * self.multiplier)

    def delays(self) -> Iterator[float]:
        """Successive waits, ``attempts`` of them (forever when unbounded)."""
        wait = self.initial_s
        n = 0
        while self.attempts is None or n < self.attempts:
            yield wait
            wait = self.next(wait)
            n += 1


def _default_home() -> Path:
    return state_folder()


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


SITE_NAME = r"^[a-z0-9][a-z0-9-]{0,31}$"


def seat(centre: str, site: str) -> str:
    """A place in a claim line: one centre's instance in one site."""
    return f"{centre}@{site}"


# The services an alert endpoint may be configured for (the partners AMK sends EIDO
# documents to; air ambulance requests and hospital pre-notifications go elsewhere).
ALERT_ENDPOINT_SERVICES = ("110", "112", "116117")


class ClusterConfig(BaseModel):
    """Deployment settings; ``seed`` carries centres, regions and fleet."""

    model_config = ConfigDict(extra="forbid")

    home: Path = Field(default_factory=_default_home)
    # Development only: every port plaintext, nobody authenticated (issue #13). Off by
    # default; when on, the log and `amk status` say so loudly.
    insecure: bool = False
    # The CA, certificates and keys (cluster/pki.py); the embedded default makes a local
    # CA here. Production points it at the health trust's files, same names.
    pki_dir: Path | None = None
    # --- People's identities, roles and the access log (issue #13) ---------------------
    # "on": every RPC but health needs a verified identity and a role and scope that
    # allow it (actors/domain/data/access.toml). ``insecure = true`` implies off.
    auth: Literal["on", "off"] = "on"
    # The role table the gateways enforce (roles, and per RPC who may call it on which
    # regions). Unset: the shipped actors/domain/data/access.toml, the policy. Another
    # file is for a test bench (the suite's tests/data/access_tests.toml adds a role
    # that may call everything); the gateway logs it at start when it is not the default.
    access_table: Path | None = None
    # The OpenID Connect issuer whose tokens we accept, the audience they must name, and
    # a JWKS file with the issuer's public keys. HelseID in production: its issuer URL
    # (``iss``), the audience registered for this system, and its JWKS document saved to
    # a file (refreshed by whatever deploys the configuration). Unset ``oidc_jwks``: the
    # local issuer of the embedded default (``{pki}/oidc-jwks.json``, ``amk login``).
    oidc_issuer: str = "amk-local"
    oidc_audience: str = "amk-dispatch"
    oidc_jwks: Path | None = None
    # Lifetime of a token `amk login` issues: short, a console logs in again.
    token_lifetime_s: float = Field(default=3600.0, gt=0.0, le=86400.0)
    # Clock skew accepted on ``exp`` / ``iat`` between the issuer and a gateway.
    token_leeway_s: float = Field(default=30.0, ge=0.0, le=300.0)
    # Break-glass (access outside one's centre's regions, with a stated reason) only
    # this long after the person authenticated (``auth_time``, else ``iat``): past it,
    # a fresh login is needed to keep going, so break-glass cannot last a whole shift.
    break_glass_window_s: float = Field(default=900.0, gt=0.0)
    # Normen: the access log is kept this long in the archive database, then pruned.
    access_log_retention_days: float = Field(default=5 * 365.25, gt=0.0)
    # Normen: the access log is reviewed (amk access-review) at least this often; a
    # review older than this shows as overdue (ListAccessReviews, amk access-reviews).
    access_review_interval_days: float = Field(default=30.0, gt=0.0, le=366.0)
    # A period is signed off only this long after it ended: every gateway's reads of it
    # must be in the archive first (they are written within a second, or kept while the
    # archive is down).
    access_review_settle_s: float = Field(default=300.0, ge=0.0)
    # Revoked client certificates: each gateway reads the archive's list this often (the
    # gateway that takes a revocation applies it at once; the others within this).
    revocation_poll_s: float = Field(default=2.0, gt=0.0, le=60.0)
    key_prefix: str = "/amk/v1/"
    lease_ttl_s: int = Field(default=2, ge=2, le=60)
    lease_margin_s: float = Field(default=0.3, ge=0.05)
    # Backups claim a free region in line order, this far apart (0 for the first).
    claim_stagger_s: float = Field(default=0.2, ge=0.0)
    # A backup that has not seen a region owned since it started waits this long before
    # claiming it, so a home centre that starts slowly keeps its region.
    standby_grace_s: float = Field(default=10.0, ge=0.0)
    # The supervisor revokes a dead centre's lease at once (crash fast path). Off only to
    # measure failover by lease expiry alone, as a benchmark baseline.
    crash_fast_path: bool = True
    # The supervisor's liveness probe of every centre (a hang, e.g. SIGSTOP, leaves no
    # death for the crash fast path to see; without the probe a hung owner's regions wait
    # for its lease to expire: TTL 2 s + etcd's 500 ms expiry tick). Each centre is pinged
    # (an answer from memory) every ``probe_interval_s``; a ping unanswered within
    # ``probe_deadline_s`` is a miss; ``probe_misses`` misses in a row revoke the leases
    # of the owner keys that instance holds (the crash fast path's revoke), and the
    # backups claim at once. A false suspicion costs a needless takeover (fencing keeps
    # it safe: the old owner's writes fail and it drops its regions); a slow one costs
    # failover time. Worst detection is about interval + misses x deadline. The deadline
    # sits far above the ping's measured tail on the loaded 2-core machine (see
    # docs/architecture.md, "Who restarts what"); two misses so that one stall of the
    # Ray call path is not enough. Off only as a benchmark baseline.
    liveness_probe: bool = True
    probe_interval_s: float = Field(default=0.1, gt=0.0)
    probe_deadline_s: float = Field(default=0.25, gt=0.0)
    probe_misses: int = Field(default=2, ge=1)
    # The deadline adapts to the machine (probe.AdaptiveDeadline): factor x the p99 of
    # the last ``probe_window`` answered pings (10 s at 5 centres x 10/s), between
    # probe_deadline_s and probe_deadline_max_s. Quiet machine: p99 ~20-50 ms, so the
    # floor, detection <= 0.6 s. Overloaded (load average 20-30 on 2 cores: p99 ~200 ms,
    # single answers up to 1 s): the cap, detection <= 0.1 + 2 x 0.6 = 1.3 s, still
    # well under the lease's 2.5 s, rather than needless takeovers.
    probe_deadline_max_s: float = Field(default=0.6, gt=0.0)
    probe_deadline_factor: float = Field(default=3.0, ge=1.0)
    probe_window: int = Field(default=500, ge=20)
    # A timeout noticed this much later than it was due means the supervisor's own event
    # loop was stalled (CPU starvation, GC): that miss says nothing about the centre and
    # is not counted (else one supervisor stall would suspect every centre at once).
    # Nor is a miss while no other centre answered either (a machine-wide stall; measured
    # at load average 20-30: two centres missed at the same instant). See probe.py.
    probe_late_s: float = Field(default=0.1, gt=0.0)
    # Nor is a miss while the centre wanted a CPU and did not get one since its previous
    # miss: a thread waited this share of the time (or is waiting), and its threads ran
    # less than the rest (the kernel's schedstat; same host and pid namespace only).
    # At most probe_starved_max misses in a row are excused so. See starvation.py.
    probe_starved_share: float = Field(default=0.5, gt=0.0, lt=1.0)
    probe_starved_max: int = Field(default=3, ge=0)
    # Pause before the supervisor starts a dead centre again (it rejoins as a standby).
    restart_delay_s: float = Field(default=0.5, ge=0.0)
    # A home centre that has been back and healthy this long takes its region back from
    # the backup on its own. Off (None) by default: handback is a supervisor's command.
    auto_handback_after_s: float | None = Field(default=None, gt=0.0)
    etcd_endpoints: list[str] = []  # empty: the launcher starts an embedded etcd
    etcd_client_port: int = Field(default=2379, gt=0, lt=65536)
    # Peer port of the embedded etcd; 0: the client port + 1 (2380 by default, etcd's
    # own). Fixed, not picked at random, so `amk up` can check it is free before start.
    etcd_peer_port: int = Field(default=0, ge=0, lt=65536)
    # `amk up` says "up" only once every gateway answers its health check and every
    # region has an owner; it gives up after this long, naming what is missing.
    up_ready_timeout_s: float = Field(default=60.0, gt=0.0)
    ray_address: str | None = None
    # The joined Ray cluster's token file (its head's ~/.ray/auth_token), when Ray's own
    # places (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token) do not have it.
    ray_auth_token_file: Path | None = None
    # Join that cluster with Ray's own TLS (RAY_USE_TLS; `amk cert ray` makes the files):
    # for Ray's traffic between machines. Only with ray_address: the Ray `amk up` starts
    # itself is one machine's, and stays without (README, "Ray between machines").
    ray_tls: bool = False
    ray_namespace: str = "amk"
    # This deployment's site (issue #11): one Ray cluster with its own supervisor,
    # gateways and an instance of every centre. Several sites share one etcd and key
    # prefix; each runs its own `amk up --site NAME` (state folder, ports, Ray).
    site: str = Field(default="main", pattern=SITE_NAME)
    # Every site, in preference order (empty: this site alone). A region's claim line
    # takes each centre in its sites in this order: the home centre in its first site,
    # then in its other sites, then each backup centre likewise (see ``seats``), so a
    # lost site leaves each region with its own AMK centre, hosted elsewhere.
    sites: list[str] = []
    # A centre's own site order where it is not ``sites``: {"oslo": ["b", "a"]}.
    centre_sites: dict[str, list[str]] = {}
    # The site's lease (held by `amk up` while the site runs): its key under it says the
    # site is live, and a second `amk up --site` of that name is refused.
    site_lease_ttl_s: int = Field(default=2, ge=2, le=60)
    # The site-loss fast path (actors/supervisor/site_watch.py; only with several
    # sites): each site's supervisor beats every ``site_heartbeat_s``; a site silent for
    # ``site_silence_s`` is presumed lost and the leases of its regions' owners are
    # revoked at once, instead of expiring after the TTL. The silence is several beats
    # (a beat is one etcd write, ~5 ms; the 2-core machine's stalls are up to a few
    # hundred ms) and short enough that a lost site's regions are served again within a
    # second. A false alarm is safe (fencing) but takes over every region of that site.
    # The beat (and the watcher's check, on the same period) bounds how late within the
    # silence a loss is seen: 0.05 s beats add at most ~0.1 s to the 0.5 s silence.
    site_fast_path: bool = True
    site_heartbeat_s: float = Field(default=0.05, gt=0.0)
    site_silence_s: float = Field(default=0.5, gt=0.0)
    gateways: list[str] = ["127.0.0.1:50051", "127.0.0.1:50052"]
    # Prometheus endpoints (``https://{address}/metrics``; http with ``insecure``), one
    # per gateway, served by that gateway, in the order of ``gateways``. Empty: the
    # gateway's host, its port plus ``metrics_port_offset`` (50051 -> 51051); offset 0
    # and no list: none.
    metrics: list[str] = []
    metrics_port_offset: int = Field(default=1000, ge=0, le=60000)
    # The window of the answer-time figures a scrape reports (the alert's 15 minutes).
    metrics_answer_window_s: float = Field(default=900.0, gt=0.0)
    # What one scrape may take; each source (centres, etcd) is bounded apart within it,
    # so one slow centre loses its own figures, not the scrape.
    metrics_scrape_timeout_s: float = Field(default=2.0, gt=0.0)
    # The dispatcher's web console (issue #14, docs/web-console.md), served by `amk up`
    # once the gateways are up: ``host:port``, loopback by default (the port is plain
    # HTTP; put a TLS proxy in front before binding another address). "off" or empty:
    # none (``amk up --web off``).
    web_address: str = "127.0.0.1:8080"
    # Development only: the console's login form also takes a user, role and centre and
    # signs a token with the local issuer, so anyone who reaches the port picks a role.
    web_dev_login: bool = False
    seed_file: Path | None = None
    log_level: str = "info"
    # Per-centre etcd endpoints (drills put one centre behind a TCP proxy they can cut).
    centre_etcd: dict[str, list[str]] = {}
    # Placement: a Ray custom resource each centre's (or gateway's) first incarnation
    # needs, e.g. {"oslo": "node-a"} with `ray start --resources '{"node-a": 1}'` on the
    # machine meant for AMK Oslo. A restart goes wherever Ray can place it: the node it
    # was pinned to may be the one that died.
    centre_nodes: dict[str, str] = {}
    gateway_nodes: dict[str, str] = {}
    # Server-side waits between tries (see RetryPolicy).
    # A gateway retrying a command on a region's next owner, until the caller's deadline.
    route_retry: RetryPolicy = RetryPolicy(initial_s=0.01, max_s=0.2)
    # A centre's campaign loop after a failed step (session lost: initial; error: max).
    campaign_retry: RetryPolicy = RetryPolicy(initial_s=0.1, max_s=0.2)
    # A centre reopening its session after the old one expired.
    session_retry: RetryPolicy = RetryPolicy(initial_s=0.2, max_s=0.2)
    # The supervisor starting a dead centre again (a dying node may take a few tries).
    restart_retry: RetryPolicy = RetryPolicy(initial_s=0.5, max_s=5.0)
    # The supervisor starting a dead gateway again on its address (target: serving in 2 s).
    gateway_restart_retry: RetryPolicy = RetryPolicy(initial_s=0.1, max_s=2.0)
    # A launcher starting a dead supervisor again.
    supervisor_restart_retry: RetryPolicy = RetryPolicy(initial_s=0.2, max_s=2.0)
    # A gateway waiting for a region's new owner to have loaded it after a hand-over.
    handover_poll: RetryPolicy = RetryPolicy(initial_s=0.01, max_s=0.1)
    # A major incident asking its region's owner to switch call sharing.
    sharing_retry: RetryPolicy = RetryPolicy(initial_s=0.2, max_s=0.2, attempts=20)
    # Deadlines of calls between actors.
    status_timeout_s: float = Field(default=1.0, gt=0.0)  # a centre's status (board)
    peer_status_timeout_s: float = Field(default=0.5, gt=0.0)  # partner's free call-takers
    default_deadline_s: float = Field(default=10.0, gt=0.0)  # an RPC without a deadline
    # How a gateway sends commands to a region's owner: "grpc", the centre's loopback
    # command link (actors/centre/link.py; measured cheaper), or "ray", an actor call.
    # Centre-side: with "ray" a centre opens no link and its owner records name none.
    centre_link: Literal["grpc", "ray"] = "grpc"
    # The host the centre's link listens on and names in its owner records. Loopback by
    # default (every site on one machine). Sites on several machines need an address the
    # other sites' gateways reach. The link speaks mutual TLS with the service identity
    # (cluster/tls.py); `amk up` adds this host to the service certificate.
    centre_link_host: str = "127.0.0.1"
    # etcd's backend quota, set explicitly on the embedded etcd (and checked against an
    # external one by `amk status`). 4 GiB: twice etcd's 2 GiB default, half its 8 GiB
    # suggested maximum; with the archiver running the live data is a day of work
    # (docs: README "Running for months"), so the quota is a guard, not a budget.
    etcd_quota_bytes: int = Field(default=4 * 1024**3, ge=64 * 1024**2)
    # How much history the embedded etcd keeps (periodic auto-compaction): enough for a
    # console's watch to resume after a network blip; one away longer re-reads a
    # snapshot. Kubernetes' API server compacts every 5 minutes too.
    etcd_compaction_retention: str = Field(default="5m", pattern=r"^[0-9]+(s|m|h)$")
    # The archive database: closed work moves here out of etcd. Empty = SQLite in the
    # state folder (``sqlite:///{home}/archive.db``); production: ``postgresql://...``.
    archive_url: str = ""
    # How long a closed incident, a finished call and a journal entry stay live in etcd
    # before the archiver moves them (the board and takeover only ever load live data).
    archive_hold_s: float = Field(default=86400.0, ge=0.0)
    # How long a journal entry stays live in etcd before it is archived (the archive
    # holds it from then on: history, the board at a past moment and KPIs read both).
    # Shorter than the incidents' hold: position reports make the journal by far the
    # biggest part of etcd (a fleet of 150 units reporting every 15 s writes 864,000
    # entries a day), and nothing in live service reads an entry once it is committed.
    journal_hold_s: float = Field(default=3600.0, ge=0.0)
    # How long an idempotency record (request id -> first answer) stays in etcd. Every
    # client retries within its call's deadline (default 10 s) and the client library
    # gives up on a request id after its retry budget (well under a minute), so 24 h
    # covers every retry with a margin of three orders of magnitude.
    request_retention_s: float = Field(default=86400.0, ge=0.0)
    # Days the archive keeps position reports (nearly all of it: README, "Running for
    # months"); 0 keeps them. The data controller's decision (Normen), not a default.
    archive_position_retention_days: float = Field(default=0.0, ge=0.0)
    # Pause between two archive passes of one centre (a pass handles a bounded batch).
    archive_interval_s: float = Field(default=5.0, gt=0.0)
    # Records moved per etcd transaction by the archiver: incidents and calls, or journal
    # entries (each with its request record: two deletes). etcd allows 128 operations.
    archive_batch: int = Field(default=50, ge=1, le=60)
    # Drill-only: while this file exists, an archiver removes it and kills its own
    # process between the archive write and the etcd delete (a crash exactly mid-batch).
    archive_crash_file: Path | None = None
    # Trippelvarsling and the legevakt (issue #19): where each partner takes our alerts,
    # keyed "service:kommunenummer" (a legevakt: "116117:0301"), "service:region" (the
    # 110 or 112 centre covering that AMK region) or "service" (one for every region):
    # an HTTP URL that takes an EIDO document and answers with its
    # acknowledgement (``clients/partner_stub.py`` plays one in tests). No endpoint: an
    # alert to that service is refused, nothing written (the dispatcher phones instead).
    alert_endpoints: dict[str, str] = {}
    # A sent alert with no acknowledgement this long is marked escalated, so the console
    # shows it: the procedure asks for the alert at once, and a minute with no answer
    # means the other centre may not have it and the dispatcher should call them.
    alert_escalate_after_s: float = Field(default=60.0, gt=0.0)
    # How often a region's owner looks for alerts due to escalate (bounds the lateness).
    alert_check_interval_s: float = Field(default=1.0, gt=0.0)
    # How long delivering one alert may take before it counts as not delivered.
    alert_send_timeout_s: float = Field(default=5.0, gt=0.0)
    # Air ambulance requests (issue #19): a request committed on the incident and an
    # answer or mission change committed on the air mission sit in an outbox (a field of
    # the record) until the other region's owner has taken them. Delivery is one command
    # to that owner, idempotent on a request id derived from the record, so delivering
    # twice is harmless; after a failed try it is retried per ``air_delivery_retry``, and
    # whatever is still undelivered is found by the owner's scan every
    # ``air_outbox_interval_s`` (and at once after a takeover). Nothing is dropped.
    air_outbox_interval_s: float = Field(default=1.0, gt=0.0)
    air_delivery_retry: RetryPolicy = RetryPolicy(initial_s=0.05, max_s=0.5, attempts=12)
    # One call to the other region's owner (a takeover there takes well under a second).
    air_delivery_timeout_s: float = Field(default=5.0, gt=0.0)
    # Test/drill-only: while this file exists, the first centre about to deliver an air
    # request or mission change removes it and kills its own process: a crash exactly
    # between the commit and the delivery, which only the next owner's outbox scan can
    # repair (tests/integration/test_air_ambulance.py).
    air_crash_file: Path | None = None
    # Hospital pre-notification (issue #19): where each hospital takes our
    # pre-notifications, keyed by the seed's hospital id: an HTTP URL that takes the
    # pre-notification document (``actors/domain/prenotification_doc.py``) and answers
    # with its acknowledgement (``clients/partner_stub.py`` plays a hospital in tests).
    # No endpoint: a pre-notification to that hospital is refused and nothing is
    # written (the dispatcher phones the hospital instead).
    hospital_endpoints: dict[str, str] = {}
    # An open pre-notification's expected arrival is committed again and sent to the
    # hospital when the unit's movement shifts it by more than this: a minute is what a
    # team waiting in the emergency room notices, and smaller shifts from every AVL
    # report (every few seconds) would only be noise on the hospital's screen.
    prenotification_eta_update_s: float = Field(default=60.0, gt=0.0)
    # A document the hospital did not take (no answer, not 2xx) is tried again after
    # this, doubled after each failure up to 30 s, until it is taken; also how often the
    # owner scans its regions for documents still owed (and at once after a takeover).
    prenotification_outbox_interval_s: float = Field(default=1.0, gt=0.0)
    # Test-only: writes skip the fencing compare, to prove the drill checker catches a
    # stale write. Refused unless AMK_UNSAFE_ALLOW_UNFENCED=1 is set in the environment.
    fencing: bool = True

    def hospital_endpoint(self, hospital_id: str) -> str | None:
        """The URL that takes pre-notifications for ``hospital_id``, or None."""
        return self.hospital_endpoints.get(hospital_id)

    def alert_endpoint(
        self, service: str, region: str, municipality: str = ""
    ) -> tuple[str, str] | None:
        """(the endpoint's name, its URL) for alerts to ``service`` about an incident in
        ``region`` and ``municipality`` (its kommunenummer, "" at sea): the most specific
        configured, ``service:municipality``, then ``service:region``, then ``service``.
        A legevakt serves municipalities, not AMK regions, so its endpoints are keyed by
        kommunenummer (one URL for every municipality of an inter-municipal legevakt)."""
        names = [f"{service}:{municipality}"] if municipality else []
        for name in (*names, f"{service}:{region}", service):
            if name in self.alert_endpoints:
                return name, self.alert_endpoints[name]
        return None

    @model_validator(mode="after")
    def _fencing_only_off_in_tests(self) -> ClusterConfig:
        if not self.fencing and os.environ.get(UNSAFE_UNFENCED_ENV) != "1":
            raise ValueError(
                f"fencing = false is a test-only setting; refused unless "
                f"{UNSAFE_UNFENCED_ENV}=1 (never in production)"
            )
        return self

    @model_validator(mode="after")
    def _ray_tls_only_when_joining(self) -> ClusterConfig:
        if self.ray_tls and not self.ray_address:
            raise ValueError(
                "ray_tls joins a Ray cluster with TLS: it needs ray_address (--ray-address); "
                "the Ray `amk up` starts on its own machine runs without"
            )
        return self

    @model_validator(mode="after")
    def _sites_known(self) -> ClusterConfig:
        known = self.all_sites()
        if len(set(known)) != len(known):
            raise ValueError(f"sites lists a site twice: {known}")
        bad = [s for s in known if not re.fullmatch(SITE_NAME, s)]
        if bad:
            raise ValueError(f"sites: bad site name(s) {bad} (lowercase letters, digits, -)")
        if self.site not in known:
            raise ValueError(f"site {self.site!r} is not in sites {known}")
        for centre, order in self.centre_sites.items():
            if sorted(order) != sorted(known):
                raise ValueError(
                    f"centre_sites.{centre} must order every site {known} once, got {order}"
                )
        return self

    def all_sites(self) -> list[str]:
        """Every site in preference order (this one alone when ``sites`` is empty)."""
        return list(self.sites) or [self.site]

    def site_order(self, centre_id: str) -> list[str]:
        """The sites ``centre_id`` runs in, its primary first."""
        return list(self.centre_sites.get(centre_id) or self.all_sites())

    def seats(self, region: str) -> list[str]:
        """The region's claim line as seats (``centre@site``): the home centre in each of
        its sites, primary first, then each backup centre likewise."""
        r = self.seed.region(region)
        return [seat(c, s) for c in (r.home, *r.backups) for s in self.site_order(c)]

    @model_validator(mode="after")
    def _alert_endpoints_named_right(self) -> ClusterConfig:
        """A misspelt key would never match: the alert would be refused at the desk."""
        regions = set(self.region_ids())
        for key in self.alert_endpoints:
            service, _, where = key.partition(":")
            if service not in ALERT_ENDPOINT_SERVICES:
                raise ValueError(
                    f"alert_endpoints: {key!r} names no service we alert "
                    f"({', '.join(ALERT_ENDPOINT_SERVICES)})"
                )
            if where and where not in regions and not re.fullmatch(r"\d{4}", where):
                raise ValueError(
                    f"alert_endpoints: {key!r}: after the service comes a region of the "
                    "seed or a kommunenummer (four digits), or nothing"
                )
        return self

    @model_validator(mode="after")
    def _one_metrics_address_per_gateway(self) -> ClusterConfig:
        if self.metrics and len(self.metrics) != len(self.gateways):
            raise ValueError(
                f"metrics lists {len(self.metrics)} address(es) for {len(self.gateways)} "
                "gateway(s): give one per gateway, in the same order, or none (offset)"
            )
        return self

    def metrics_address(self, gateway: str) -> str | None:
        """Where the gateway on ``gateway`` serves its Prometheus metrics (None: nowhere)."""
        if self.metrics:
            if gateway not in self.gateways:
                raise ConfigError(f"no metrics address for gateway {gateway}: not configured")
            return self.metrics[self.gateways.index(gateway)]
        if not self.metrics_port_offset:
            return None
        host, _, port = gateway.rpartition(":")
        return f"{host}:{int(port) + self.metrics_port_offset}"

    def pki_folder(self) -> Path:
        """Where the CA and certificates are (``{home}/pki`` unless configured)."""
        return (self.pki_dir or self.home / "pki").resolve()

    def auth_enabled(self) -> bool:
        """Identities, roles and scopes enforced (``auth = "on"`` and not insecure)."""
        return self.auth == "on" and not self.insecure

    def oidc_jwks_location(self) -> Path:
        """The JWKS the gateways verify tokens with (the local issuer's by default)."""
        return (self.oidc_jwks or self.pki_folder() / "oidc-jwks.json").resolve()

    def local_issuer_in_use(self) -> bool:
        """Tokens come from the local development issuer (no ``oidc_jwks`` given)."""
        return self.oidc_jwks is None

    def archive_location(self) -> str:
        """The archive database's URL (SQLite in the state folder unless configured)."""
        return self.archive_url or f"sqlite://{(self.home / 'archive.db').resolve()}"

    def embedded_etcd_peer_port(self) -> int:
        return self.etcd_peer_port or self.etcd_client_port + 1

    def endpoints_for(self, centre_id: str, default: list[str]) -> list[str]:
        return self.centre_etcd.get(centre_id) or default

    @field_validator("access_table", "seed_file")
    @classmethod
    def _table_path(cls, v: Path | None) -> Path | None:
        """Absolute where the config is read: a gateway (a Ray worker) may run elsewhere."""
        return None if v is None else Path(v).expanduser().resolve()

    @field_validator("web_address")
    @classmethod
    def _web_address(cls, v: str) -> str:
        """``host:port``, or "" for none ("off" and empty both mean none)."""
        v = v.strip()
        if v.lower() in ("", "off"):
            return ""
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"web_address {v!r} is not host:port (or off)")
        return v

    @field_validator("key_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not v.startswith("/") or not v.endswith("/"):
            raise ValueError("key_prefix must start and end with '/'")
        return v

    @cached_property
    def seed(self) -> Seed:
        return Seed.load(self.seed_file)

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> ClusterConfig:
        """Defaults, then the settings file, then environment, then ``overrides``."""
        values: dict[str, Any] = {}
        home = _default_home()
        path = path or (Path(os.environ["AMK_CONFIG"]) if os.environ.get("AMK_CONFIG") else None)
        if path is None and (home / "amk.toml").exists():
            path = home / "amk.toml"
        if path is not None:
            try:
                values.update(tomllib.loads(Path(path).read_text()))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"settings file {path}: {exc}") from exc
        if os.environ.get("AMK_HOME"):
            values["home"] = home
        if gw := _split(os.environ.get("AMK_GATEWAY")):
            values["gateways"] = gw
        if ep := _split(os.environ.get("AMK_ETCD")):
            values["etcd_endpoints"] = ep
        if auth := os.environ.get("AMK_AUTH", "").strip():
            values["auth"] = auth  # "off": development and tests (the gateway warns)
        if os.environ.get("AMK_ACCESS_TABLE"):
            values["access_table"] = Path(os.environ["AMK_ACCESS_TABLE"])
        if os.environ.get("AMK_PKI"):
            values["pki_dir"] = Path(os.environ["AMK_PKI"])
        if os.environ.get("AMK_INSECURE", "").strip().lower() in {"1", "true", "yes", "on"}:
            values["insecure"] = True
        if seed := os.environ.get("AMK_SEED", "").strip():
            values["seed_file"] = Path(seed)  # made absolute by its validator
        if web := os.environ.get("AMK_WEB", "").strip():
            values["web_address"] = web  # "off": no web console (the test suite's amk up)
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            cfg = cls.model_validate(values)
            known = {h.id for h in cfg.seed.hospitals}  # fail early on a bad seed
            unknown = sorted(set(cfg.hospital_endpoints) - known)
            if unknown:
                raise ConfigError(f"hospital_endpoints: unknown hospital(s) {', '.join(unknown)}")
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(str(exc)) from exc
        return cfg

    def region_ids(self) -> list[str]:
        """Every region, area or air coordination: what centres own and fence."""
        return [r.id for r in self.seed.regions]

    def area_region_ids(self) -> list[str]:
        """The regions with an area (113 calls, incidents): where load, calls and KPIs go."""
        return [r.id for r in self.seed.area_regions()]

    def centre_ids(self) -> list[str]:
        return [c.id for c in self.seed.centres]

    def home_regions(self, centre_id: str) -> list[str]:
        return [r.id for r in self.seed.regions if r.home == centre_id]
