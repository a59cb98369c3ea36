"""Client side of the dispatch cluster: the typed gRPC client, rendering, the live board, the CLI."""
