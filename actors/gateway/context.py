"""What every part of a gateway's API is given: settings, the etcd client, the
directory, the router, the record reader, the access log and the revoked certificates.
One object, built once by the server."""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.domain.triage import CriteriaTable
from actors.gateway.access_log import AccessLog
from actors.gateway.directory import Directory
from actors.gateway.history import History
from actors.gateway.lookup import Lookup
from actors.gateway.revocations import Revocations
from actors.gateway.router import Router
from actors.gateway.watch_hub import WatchHub
from cluster.config import ClusterConfig
from cluster.etcd import EtcdClient
from cluster.keys import Keys


@dataclass
class GatewayContext:
    config: ClusterConfig
    client: EtcdClient
    directory: Directory
    table: CriteriaTable
    hub: WatchHub
    address: str = ""
    keys: Keys = field(init=False)
    router: Router = field(init=False)
    lookup: Lookup = field(init=False)
    history: History = field(init=False)
    access_log: AccessLog = field(init=False)
    revocations: Revocations = field(init=False)
    # When the certificates this gateway loaded expire, by identity (read for its
    # metrics endpoint, when it has one: the on-call engineer is warned before TLS stops
    # on every link at once).
    certificates: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.keys = Keys(self.config.key_prefix)
        self.router = Router(self.config, self.directory)
        self.lookup = Lookup(self.config, self.client, self.directory)
        self.history = History(self.config, self.client)
        retention_s = self.config.access_log_retention_days * 86400.0
        self.access_log = AccessLog(self.history.archive, self.address, retention_s)
        self.revocations = Revocations(self.history.archive, self.config.revocation_poll_s)

    @property
    def regions(self) -> set[str]:
        return self.lookup.regions
