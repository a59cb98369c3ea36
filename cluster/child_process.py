"""Children that die with their parent: the embedded etcd and PostgreSQL servers.

``PR_SET_PDEATHSIG`` makes the kernel signal a child when the thread that started it
ends, so a launcher or test run killed with SIGKILL leaves no server behind.

How it is set matters. Python code in the child between fork and exec (a
``preexec_fn``) runs in a copy of a parent busy with gRPC and Ray threads. A lock
another thread held at the fork, or a fork handler of those libraries, can abort the
child: "etcd exited with -6 at start", seen twice, the second time after libc was
already loaded in the parent. So the child runs no Python at all: util-linux's
``setpriv --pdeathsig`` sets the signal and execs the server (the same process, so the
pid is the server's). Only where ``setpriv`` is missing is a ``preexec_fn`` used.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
from collections.abc import Callable, Sequence

_prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
PR_SET_PDEATHSIG = 1


def death_signal(sig: int) -> Callable[[], None]:
    """A ``preexec_fn`` that asks for ``sig`` when the parent dies."""

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, sig)

    return preexec


def dying_with_parent(
    argv: Sequence[str], sig: int, setpriv: str | None = shutil.which("setpriv")
) -> tuple[list[str], Callable[[], None] | None]:
    """``argv`` wrapped so that it gets ``sig`` when the thread starting it ends, and the
    ``preexec_fn`` still needed for that (None: no Python runs in the child)."""
    if setpriv:
        name = signal.Signals(sig).name.removeprefix("SIG")
        return [setpriv, "--pdeathsig", name, "--", *argv], None
    return list(argv), death_signal(sig)
