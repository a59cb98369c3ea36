"""Pure domain logic: state machines, triage, validation, decisions.

Nothing in this package imports ``ray``, ``grpc`` or the etcd client (a unit test
checks it), so it is tested alone with a fake clock.
"""
