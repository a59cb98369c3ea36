"""Fault injection, failover drills and the history checker.

Not built yet: the drills, failpoints and checker of the failover-drills issue. Today the
failover behaviour is exercised by the integration tests (tests/integration/test_failover.py,
test_handover.py), which kill -9 and SIGSTOP centres and kill gateways under load.
"""
