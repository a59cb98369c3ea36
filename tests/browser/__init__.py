"""Browser tests of the web console (issue #14)."""
