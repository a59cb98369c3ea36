"""The supervisor: creates the centre and major-incident actors and restarts them."""
