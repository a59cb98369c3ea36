"""Failover drills: fault injection, a load generator's history, a checker and reports.

Why it exists: the failover design promises that nothing acknowledged is lost, nothing is
applied twice, and a deposed owner cannot write. The integration tests check that for a
few cases; drills check it under sustained load with faults as data
(``chaos/scenarios/*.toml``), and leave a report a supervisor can read.

- :mod:`chaos.failpoints`  the faults (kill -9, ray.kill, SIGSTOP, etcd link cut, gateway
  kill, etcd member kill), each with ``name``, ``available``, ``inject``, ``recover``
- :mod:`chaos.proxy`       the loopback TCP proxy that cuts one centre's etcd link
- :mod:`chaos.etcd_cluster` a three-member etcd for member-kill drills
- :mod:`chaos.checker`     history vs. etcd: lost, duplicated, stale writes accepted
- :mod:`chaos.drill`       scenario loading, health before/after, the run
- :mod:`chaos.report`      JSON, Markdown and a timeline picture

``python -m chaos chaos/scenarios/kill-centre.toml --report-dir /tmp/drill``; see
docs/drills.md.
"""
