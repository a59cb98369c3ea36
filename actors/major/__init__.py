"""A declared major incident: a Ray actor of its own, so it outlives any one centre."""
