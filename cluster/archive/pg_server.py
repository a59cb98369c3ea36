"""A throwaway PostgreSQL server on loopback, for tests and local trials of the archive.

Like ``cluster.etcd_server.EmbeddedEtcd``: it runs the real server binaries (Debian's
``postgresql`` package, which ``./dev setup`` installs), nothing is downloaded at run
time, and the server dies with the process that started it (``PR_SET_PDEATHSIG``).

Binary choice: ``$AMK_PG_BIN`` (a folder holding ``initdb`` and ``postgres``), else the
newest ``/usr/lib/postgresql/<major>/bin`` (Debian's layout, not on PATH), else ``initdb``
and ``postgres`` on PATH.

**As root**: PostgreSQL refuses to run as root, so ``initdb`` and ``postgres`` run as the
``postgres`` system user (the Debian package creates it), and the base folder is handed
to that user. The switch is done by ``subprocess`` itself (``user=``/``group=``, the
``setpriv`` way: no intermediate process), because the kernel clears a parent-death
signal when credentials change: it has to be asked for after the switch, which
``preexec_fn`` does. The base folder's ancestors must let that user through (``/tmp`` does;
pytest's ``/tmp/pytest-of-root`` does not), which ``start`` checks.

Authentication is ``trust`` on 127.0.0.1 only, for the superuser ``amk``: a test server.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import structlog

from cluster.child_process import dying_with_parent
from cluster.errors import ConfigError

log = structlog.get_logger("amk.postgres")

SETUP_HINT = (
    "run ./dev setup (installs Debian's postgresql where apt exists), "
    "or set AMK_PG_BIN to a folder holding initdb and postgres"
)
SYSTEM_USER = "postgres"
DEBIAN_DIR = Path("/usr/lib/postgresql")  # one <major>/bin folder per installed version
SUPERUSER = "amk"


def find_pg_bin() -> Path:
    """The folder of the PostgreSQL server binaries; ConfigError when there is none."""
    candidates: list[Path] = []
    if os.environ.get("AMK_PG_BIN"):
        candidates.append(Path(os.environ["AMK_PG_BIN"]))
    if DEBIAN_DIR.is_dir():
        majors = [p for p in DEBIAN_DIR.iterdir() if re.fullmatch(r"\d+(\.\d+)?", p.name)]
        majors.sort(key=lambda p: tuple(int(x) for x in p.name.split(".")), reverse=True)
        candidates += [p / "bin" for p in majors]
    if found := shutil.which("postgres"):
        candidates.append(Path(found).parent)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "postgres")):
            return folder
    raise ConfigError(f"no PostgreSQL server binaries (initdb, postgres): {SETUP_HINT}")


# SIGINT is PostgreSQL's "fast shutdown" (roll back sessions, checkpoint, exit): a killed
# test run leaves no server and no half-written data folder behind.
DEATH_SIGNAL = signal.SIGINT


def _reachable(path: Path, uid: int, gid: int) -> Path | None:
    """The first ancestor of ``path`` that ``uid``/``gid`` cannot enter, or None."""
    for folder in reversed(path.parents):
        st = folder.stat()
        if st.st_uid == uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid == gid:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            return folder
    return None


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server: data in ``base_dir/data``, its socket and log beside it.

    ``start()`` runs ``initdb`` on first use, starts the server, waits until it accepts
    a connection and creates ``database``; ``url`` then reaches it as ``amk``.
    """

    base_dir: Path
    port: int
    database: str = "amk"
    process: subprocess.Popen[bytes] | None = None
    version: str = ""
    _owner: tuple[int, int] | None = field(default=None, repr=False)  # (uid, gid) as root

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.database):
            raise ConfigError(f"postgres database name {self.database!r}: use [a-z0-9_]")

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def _as_server_user(self) -> dict[str, object]:
        """Popen arguments that run a child as the ``postgres`` user when we are root."""
        if os.getuid() != 0:
            return {}
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise ConfigError(
                f"running as root, and PostgreSQL refuses to run as root, but there is no "
                f"{SYSTEM_USER!r} user to run it as: {SETUP_HINT}"
            ) from None
        self._owner = (entry.pw_uid, entry.pw_gid)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _prepare(self) -> dict[str, object]:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        as_user = self._as_server_user()
        if self._owner:
            uid, gid = self._owner
            if blocked := _reachable(self.base_dir, uid, gid):
                raise ConfigError(
                    f"the {SYSTEM_USER!r} user cannot enter {blocked}: put the PostgreSQL "
                    "folder under one it can reach (e.g. tempfile.mkdtemp() in /tmp)"
                )
            os.chown(self.base_dir, uid, gid)
            for root, dirs, files in os.walk(self.base_dir):
                for name in dirs + files:
                    os.chown(Path(root) / name, uid, gid)
        return as_user

    def start(self, timeout_s: float = 60.0) -> EmbeddedPostgres:
        bin_dir = find_pg_bin()
        as_user = self._prepare()
        self.version = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        if not (self.data_dir / "PG_VERSION").exists():
            initdb = [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-A", "trust"]
            done = subprocess.run(
                [*initdb, "-U", SUPERUSER, "-E", "UTF8", "--no-instructions"],
                capture_output=True,
                text=True,
                cwd=self.base_dir,
                timeout=120,
                **as_user,  # type: ignore[arg-type]
            )
            if done.returncode != 0:
                raise ConfigError(f"initdb failed ({done.returncode}): {done.stderr.strip()}")
        server = [str(bin_dir / "postgres"), "-D", str(self.data_dir), "-k", str(self.base_dir)]
        # fsync on (the default, said out loud): the archive's tests are about durable
        # confirmation.
        argv, preexec = dying_with_parent(
            [*server, "-h", "127.0.0.1", "-p", str(self.port), "-c", "fsync=on"], DEATH_SIGNAL
        )
        with open(self.log_file, "ab") as out:
            self.process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                preexec_fn=preexec,
                **as_user,  # type: ignore[arg-type]
            )
        self._wait_ready(timeout_s)
        self._create_database()
        log.info("postgres_started", url=self.url, version=self.version, pid=self.process.pid)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise ConfigError(
                    f"postgres exited with {self.process.returncode} at start "
                    f"(port {self.port} taken?); log {self.log_file}:\n{tail}"
                )
            try:
                with psycopg.connect(self.url_for("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ConfigError(
                        f"postgres did not accept connections within {timeout_s}s "
                        f"(log {self.log_file})"
                    ) from None
                time.sleep(0.05)

    def _create_database(self) -> None:
        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self, timeout_s: float = 30.0) -> None:
        """Fast shutdown (SIGINT): sessions are cut, a checkpoint is written."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        log.info("postgres_stopped", port=self.port)
