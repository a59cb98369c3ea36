"""The AMK centre actor and its parts: ownership of regions, the executor that commits
and reloads, dispatch, the call desk, and the region host with its entities.

Read ``docs/architecture.md`` for how the parts fit; ``actor.py`` is where they meet.
"""
