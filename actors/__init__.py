"""Ray actors of the dispatch cluster (centre, gateway) and, in ``actors.domain``,
the pure domain logic they host."""
