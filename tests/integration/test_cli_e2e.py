"""A new user's path: ``amk up`` in the background, the CLI as subprocesses, SIGTERM.

It starts its own etcd and its own local Ray through ``amk up`` (that is what it
tests), stops them, starts them again from the same state folder, and checks that the
incident is still there and that no etcd, Ray or gateway process outlives ``amk up``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chaos.processes import descendants
from cluster.etcd_server import find_free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

AMK = str(Path(sys.executable).parent / "amk")


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class AmkUp:
    """``amk up`` as a background process with its own state folder and ports."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.log = open(home / "up.log", "ab")
        self.proc = subprocess.Popen(
            [AMK, "up"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        while not (home / "up.json").exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"amk up exited: {(home / 'up.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("amk up did not come up in 180 s")
            time.sleep(0.2)
        self.children = descendants(self.proc.pid)
        names = " | ".join(cmdline(p) for p in self.children)
        # What must be stopped later really ran below amk up: etcd, Ray, the actors.
        for part in ("etcd", "gcs_server", "raylet", "CentreActor", "GatewayActor"):
            assert part in names, f"{part} not among amk up's processes"

    def stop(self) -> int:
        self.children |= descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=120)
        self.log.close()
        return rc


def amk(env: dict[str, str], *args: str, ok: bool = True) -> dict | list | str:
    out = subprocess.run(
        [AMK, "--json", *args], env=env, capture_output=True, text=True, timeout=60
    )
    if ok:
        assert out.returncode == 0, f"amk {' '.join(args)}: {out.stderr}"
        return json.loads(out.stdout) if out.stdout.strip() else ""
    return out


def iso(at: float) -> str:
    """A Unix time as the CLI takes it (ISO 8601, UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at))


def http_get(url: str) -> tuple[int, dict]:
    """GET a JSON answer: (status, body), an HTTP error status included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def login(env: dict[str, str], role: str, centre: str) -> None:
    """``amk login`` as ``role`` of ``centre``: the token the next commands send."""
    out = subprocess.run(
        [AMK, "login", "--user", f"e2e-{role}", "--role", role, "--centre", centre],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr


def test_amk_up_cli_walkthrough_and_clean_stop(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    gateway = f"127.0.0.1:{find_free_port()}"
    web = f"127.0.0.1:{find_free_port()}"
    (home / "amk.toml").write_text(
        f'etcd_client_port = {find_free_port()}\nray_namespace = "amk-cli-e2e"\n'
        f'web_address = "{web}"\n'
    )
    # As `amk up` has it by default: auth on, the shipped role table, and a person logs in
    # (not the suite's test table and token).
    env = {**os.environ, "AMK_HOME": str(home), "AMK_GATEWAY": gateway, "AMK_AUTH": "on"}
    for name in ("RAY_ADDRESS", "AMK_ACCESS_TABLE", "AMK_TOKEN", "AMK_WEB"):
        env.pop(name, None)

    up = AmkUp(home, env)
    try:
        # The web console serves once the cluster is up, its URL in the "up" line.
        url = json.loads((home / "up.json").read_text())["web"]
        assert url == f"http://{web}/" and f"Web console {url}" in (home / "up.log").read_text()
        assert http_get(f"{url}api/reference")[0] == 200
        status, body = http_get(f"{url}api/me")
        assert status == 401 and body["error"]["code"] == "UNAUTHENTICATED"
        # Auth is on by default: without a token the CLI says what to do.
        refused = amk(env, "status", ok=False)
        assert refused.returncode != 0 and "run amk login" in refused.stderr
        assert "Traceback" not in refused.stderr
        login(env, "supervisor", "vestre-viken")
        inc = amk(
            env,
            "incident",
            "create",
            "--region",
            "vestre-viken",
            "--lat",
            "59.6689",
            "--lon",
            "9.6502",
            "--accuracy",
            "30",
            "--address",
            "Kirkegata 1, Kongsberg",
            "--caller",
            "+4790000001",
            "--notes",
            "Several injured",
        )
        assert isinstance(inc, dict) and inc["status"] == "received"
        iid = inc["id"]
        tri = amk(env, "incident", "triage", iid, "A.11.01")
        assert tri["urgency"] == "akutt" and tri["status"] == "triaged"
        units = amk(
            env,
            "unit",
            "list",
            "--region",
            "vestre-viken",
            "--status",
            "available_at_station",
            "--kind",
            "road_ambulance",
        )
        assert isinstance(units, list) and units
        uid = units[0]["id"]
        # The human forms of the recommendations and of coverage (beredskap).
        for argv, needle in ((["recommend", iid], "ETA"), (["coverage"], "vestre-viken")):
            shown_human = subprocess.run(
                [AMK, *argv], env=env, capture_output=True, text=True, timeout=60
            )
            assert shown_human.returncode == 0 and needle in shown_human.stdout, shown_human
        cover = amk(env, "coverage", "--region", "vestre-viken")
        assert cover["stations"] and all(s["region"] == "vestre-viken" for s in cover["stations"])
        pair = amk(env, "assign", iid, uid)
        assert pair["incident"]["status"] == "dispatched" and pair["unit"]["status"] == "assigned"
        for status in (
            "en_route",
            "on_scene",
            "transporting",
            "at_hospital",
            "available_at_station",
        ):
            amk(env, "unit", "status", uid, status)
        shown = amk(env, "incident", "show", iid)
        assert shown["status"] == "at_hospital" and not shown.get("assigned_unit_ids")
        closed = amk(env, "incident", "status", iid, "closed")
        assert closed["status"] == "closed"
        bad = amk(env, "incident", "status", iid, "on_scene", ok=False)
        assert bad.returncode == 2 and "FAILED_PRECONDITION" in bad.stderr
        status = amk(env, "status")
        owners = {r["id"]: r["owner_centre"] for r in status["regions"]}
        assert owners == {
            **{
                r: r
                for r in ("oslo", "vestfold-telemark", "innlandet", "sorlandet", "vestre-viken")
            },
            "luftambulanse-hso": "oslo",  # AMK-LA: AMK Oslo coordinates the aircraft
        }
        assert all(r["fencing_token"] > 0 for r in status["regions"])
        # Innlandet's supervisor hands the region to Oslo and takes it back.
        login(env, "supervisor", "innlandet")
        moved = amk(env, "handover", "region", "innlandet", "--to", "oslo")
        assert moved["owner_centre"] == "oslo"
        back = amk(env, "handback", "region", "innlandet")
        assert back["owner_centre"] == "innlandet"
        assert back["fencing_token"] > moved["fencing_token"]
        # CAD-to-CAD: export as NENA EIDO, import into another region.
        eido_file = home / "incident.eido.json"
        login(env, "dispatcher", "vestre-viken")
        amk(env, "incident", "export", "--eido", iid, "-o", str(eido_file))
        assert json.loads(eido_file.read_text())["incidentComponent"]
        login(env, "dispatcher", "oslo")  # Oslo partners Vestre Viken: it may show iid
        imported = amk(env, "incident", "import", str(eido_file), "--region", "oslo")
        assert imported["region"] == "oslo" and imported["address"] == "Kirkegata 1, Kongsberg"
        # Who read the incident (Normen): the auditor asks; other roles may not.
        assert amk(env, "audit", "--incident", iid, ok=False).returncode != 0
        login(env, "auditor", "oslo")
        reads = amk(env, "audit", "--incident", iid)
        assert isinstance(reads, list)
        assert {(r["user"], r["why"]) for r in reads} >= {("e2e-supervisor", "owner")}
        # The periodic review (Normen): the last hour reviewed and signed off.
        now = time.time()
        found = amk(env, "access-review", f"--since={iso(now - 3600)}", f"--until={iso(now)}")
        assert isinstance(found, dict) and int(found["rows"]) >= len(reads)
        note = "Gjennomgått: lesinger i e2e-kjøringen, ingen funn å følge opp"
        settled = [f"--since={iso(now - 3600)}", f"--until={iso(now - 400)}"]  # 5 min settle
        shown, signed = amk(env, "access-review", *settled, "--sign", note)
        assert signed["note"] == note and signed["reviewer"] == "e2e-auditor"
        assert signed["findings"] == len(shown["findings"])
        reviews = amk(env, "access-reviews")
        assert reviews["reviews"][0]["id"] == signed["id"] and reviews["overdue"] is False
        # A crew's lost certificate: issued, then revoked by the engineer and listed; the
        # auditor may list but not revoke.
        issued = subprocess.run(
            [AMK, "cert", "crew", "osl-a11"], env=env, capture_output=True, text=True, timeout=60
        )
        assert issued.returncode == 0, issued.stderr
        crt = issued.stdout.split("certificate ", 1)[1].split()[0]
        why = ["--reason", "nettbrettet til osl-a11 mistet under e2e-kjøringen"]
        refused = amk(env, "cert", "revoke", "--cert", crt, *why, ok=False)
        assert refused.returncode != 0 and "PERMISSION_DENIED" in refused.stderr
        login(env, "engineer", "oslo")
        revoked = amk(env, "cert", "revoke", "--cert", crt, *why)
        assert revoked["common_name"] == "osl-a11" and revoked["revoked_by"] == "e2e-engineer"
        assert revoked["already"] is False and revoked["not_after"]
        listed = amk(env, "cert", "revoked")["certificates"]
        assert [c["serial"] for c in listed] == [revoked["serial"]]
        crew = amk({**env, "AMK_TLS_NAME": "crew-osl-a11"}, "status", ok=False)
        assert crew.returncode != 0 and "was revoked" in crew.stderr, crew.stderr
        assert "amk login" not in crew.stderr  # a new token would not help
        bad = amk(env, "cert", "revoke", "--serial", "not-hex", *why, ok=False)
        assert bad.returncode != 0 and "serial: 'not-hex' is not a serial" in bad.stderr
        # A person suspended (the engineer) is refused with any token until reinstated.
        because = ["--reason", "oppslag uten tjenstlig behov, under gjennomgang"]
        assert amk(env, "user", "suspend", "e2e-dispatcher", *because)["suspended"] is True
        assert [d["user"] for d in amk(env, "user", "suspended")["decisions"]] == ["e2e-dispatcher"]
        login(env, "dispatcher", "oslo")
        out = amk(env, "status", ok=False)
        assert out.returncode != 0 and "PERMISSION_DENIED" in out.stderr, out.stderr
        assert "access suspended" in out.stderr
        login(env, "engineer", "oslo")
        assert amk(env, "user", "reinstate", "e2e-dispatcher", *because)["suspended"] is False
        login(env, "dispatcher", "oslo")
        # The only gateway is killed outright; the supervisor serves it again on its address.
        (gw,) = amk(env, "status")["gateways"]
        assert gw["address"] == gateway and gw["alive"] and not gw.get("restarts")
        os.kill(int(gw["pid"]), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            out = amk(env, "status", ok=False)
            if out.returncode == 0:
                (now,) = json.loads(out.stdout)["gateways"]
                if now.get("restarts") == 1 and now["alive"] and now["pid"] != gw["pid"]:
                    break
            assert time.monotonic() < deadline, f"gateway not back: {out.stderr or out.stdout}"
            time.sleep(0.2)
        assert amk(env, "incident", "show", iid)["id"] == iid
    finally:
        rc = up.stop()
    assert rc == 0, (home / "up.log").read_text()[-3000:]
    left = [p for p in up.children if alive(p)]
    assert left == [], f"processes left after SIGTERM: {left}"
    assert not (home / "up.json").exists()
    with pytest.raises(OSError):  # the web console stopped with it
        http_get(f"{url}api/reference")

    # The whole cluster again, from the same state folder: the incident is still there.
    up = AmkUp(home, env)
    try:
        again = amk(env, "incident", "show", iid)
        assert again["status"] == "closed" and again["address"] == "Kirkegata 1, Kongsberg"
        assert again["urgency"] == "akutt"
    finally:
        rc = up.stop()
    assert rc == 0
    assert [p for p in up.children if alive(p)] == []
