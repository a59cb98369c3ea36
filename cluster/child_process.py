"""Children that die with their parent: the embedded etcd and PostgreSQL servers.

``PR_SET_PDEATHSIG`` makes the kernel signal a child when the thread that started it
ends, so a launcher or test run killed with SIGKILL leaves no server behind. libc is
loaded here, in the parent: loading a library in the child between fork and exec
(dlopen, malloc) can find a lock another thread of the parent held at the fork and
abort the child (seen as "etcd exited with -6 at start" in a test process busy with
gRPC and Ray threads).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

_prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
PR_SET_PDEATHSIG = 1


def death_signal(sig: int) -> Callable[[], None]:
    """A ``preexec_fn`` that asks for ``sig`` when the parent dies."""

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, sig)

    return preexec
