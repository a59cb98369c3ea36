"""The encoding of commands and answers between a gateway and a centre over gRPC.

Pickle, because the commands and outcomes are slotted dataclasses already and pickle's
C implementation is the cheapest codec we have for them (no per-field Python code on
either side). Never plain :func:`pickle.loads`: unpickling can call any importable
callable, and these bytes come from the network. :class:`_Unpickler` rebuilds only

- the domain's commands, records and enums (``actors.domain.commands``,
  ``actors.domain.model``, ``actors.domain.enums``), by class; and
- errors of our one tree: an :class:`AmkError` subclass, via ``cluster.errors._rebuild``
  (class, message args, attribute dict), the same path Ray's pickling uses.

Anything else (another module, a function, a class outside the tree) is refused with
:class:`WireError` before it is imported or called.

Both ends run the same code: a pickle names classes by module and field, so a centre
and a gateway (of any site) of different versions may not understand each other
(a class moved, a field added). A deployment upgrades every site together.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import io
import pickle
from typing import Any

from actors.domain import commands, enums, model
from cluster import errors
from cluster.errors import AmkError

PROTOCOL = 5
MAX_NAME = 200  # characters of a module and class name together
_DOMAIN_MODULES = {m.__name__: m for m in (commands, enums, model)}
# Modules whose AmkError subclasses may be rebuilt (imported on first sight, then checked).
_ERROR_MODULE_PREFIXES = ("actors.", "cluster.")


class WireError(pickle.UnpicklingError):
    """Bytes from a peer named something the wire codec does not rebuild, or were not
    a message at all. Not in our error tree: between our own processes it is a bug (or
    an attack), which the RPC layer logs and answers as INTERNAL."""


def _domain_class(module: str, name: str) -> type | None:
    mod = _DOMAIN_MODULES.get(module)
    cls = getattr(mod, name, None) if mod is not None and "." not in name else None
    if isinstance(cls, type) and (dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)):
        return cls
    return None


def _error_class(module: str, name: str) -> type | None:
    if not module.startswith(_ERROR_MODULE_PREFIXES) or "." in name:
        return None
    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, AmkError) else None


@functools.lru_cache(maxsize=512)
def _allowed(module: str, name: str) -> Any:
    """What ``module.name`` may be rebuilt as, or None. Cached: every answer names the
    same few classes, and a gateway unpickles one answer per command (the checks cost
    about 1 % of its CPU under load). A refusal is cached too: it depends only on the
    names and what is importable."""
    if module == errors.__name__ and name == "_rebuild":
        return errors._rebuild
    return _domain_class(module, name) or _error_class(module, name)


class _Unpickler(pickle.Unpickler):
    """Resolves only the classes listed in the module docstring."""

    def find_class(self, module: str, name: str) -> Any:
        # Our names are short; a long one is refused before the cache keeps it.
        found = _allowed(module, name) if len(module) + len(name) <= MAX_NAME else None
        if found is None:
            raise WireError(f"refused to rebuild {module}.{name}")
        return found


def dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=PROTOCOL)


def loads(raw: bytes) -> Any:
    """Rebuild what :func:`dumps` made, refusing anything outside the allowed classes."""
    try:
        return _Unpickler(io.BytesIO(raw)).load()
    except WireError:
        raise
    except Exception as exc:  # truncated or garbled bytes
        raise WireError(f"undecodable message: {exc!r}") from exc
