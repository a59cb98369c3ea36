"""Children that die with their parent get their signal with no Python code run in the
child between fork and exec (cluster/child_process.py): setpriv sets it, then execs."""

from __future__ import annotations

import signal
import subprocess
import sys

from cluster.child_process import dying_with_parent

# Prints the child's own parent-death signal (prctl PR_GET_PDEATHSIG).
READ_SIGNAL = (
    "import ctypes; v = ctypes.c_int(); "
    "ctypes.CDLL('libc.so.6').prctl(2, ctypes.byref(v)); print(v.value)"
)


def test_setpriv_sets_the_signal_and_no_preexec_runs() -> None:
    argv, preexec = dying_with_parent([sys.executable, "-c", READ_SIGNAL], signal.SIGTERM)
    assert preexec is None and argv[1:4] == ["--pdeathsig", "TERM", "--"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == str(int(signal.SIGTERM))


def test_without_setpriv_a_preexec_sets_it() -> None:
    argv, preexec = dying_with_parent(
        [sys.executable, "-c", READ_SIGNAL], signal.SIGINT, setpriv=None
    )
    assert preexec is not None and argv[0] == sys.executable
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=30, check=True, preexec_fn=preexec
    )
    assert out.stdout.strip() == str(int(signal.SIGINT))
