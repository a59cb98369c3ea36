"""The error tree against the one status table: every retryable error reaches clients
with a code they retry, and nothing but a configuration error maps to INTERNAL."""

from __future__ import annotations

import importlib
import pkgutil

import grpc
import pytest

import actors
import cluster
from actors.gateway.status_codes import RETRYABLE_CODES, STATUS_OF, code_for
from clients.client import RETRYABLE_CODES as CLIENT_RETRYABLE_CODES
from cluster.errors import AmkError, ConfigError
from cluster.store import StaleRecordError

pytestmark = pytest.mark.timeout(60)


def _import_everything() -> None:
    """Import every module of actors/ and cluster/, so every error class is defined."""
    for package in (actors, cluster):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def _tree() -> list[type[AmkError]]:
    _import_everything()
    return sorted(_subclasses(AmkError), key=lambda c: c.__qualname__)


def test_the_tree_is_walked_whole() -> None:
    tree = _tree()
    assert len(tree) >= 16
    assert StaleRecordError in tree  # a class outside cluster/errors.py is found too


@pytest.mark.parametrize("cls", _tree(), ids=lambda c: c.__name__)
def test_no_error_maps_to_internal(cls: type[AmkError]) -> None:
    if issubclass(cls, ConfigError):
        return  # a broken configuration is the server's fault
    assert code_for(cls) != grpc.StatusCode.INTERNAL, f"{cls.__name__} is missing from STATUS_OF"


@pytest.mark.parametrize("cls", _tree(), ids=lambda c: c.__name__)
def test_retryable_errors_reach_clients_retryable(cls: type[AmkError]) -> None:
    code = code_for(cls)
    assert (code in RETRYABLE_CODES) == cls.retryable, (
        f"{cls.__name__}: retryable={cls.retryable} but maps to {code.name}"
    )


def test_client_retries_exactly_the_servers_retryable_codes() -> None:
    assert CLIENT_RETRYABLE_CODES == RETRYABLE_CODES


def test_lookup_follows_the_mro() -> None:
    class Special(StaleRecordError):
        pass

    assert code_for(Special) == STATUS_OF[StaleRecordError]
    assert code_for(AmkError) == grpc.StatusCode.INTERNAL
