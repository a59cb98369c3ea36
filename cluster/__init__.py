"""Coordination primitives: config, the etcd session, region ownership and fencing,
the fenced store and journal, and the embedded etcd launcher.

This package imports neither ``actors`` nor ``clients``: dependencies run one way,
``cluster`` <- ``actors`` <- ``clients`` <- ``chaos``.
"""
