"""Client side of the dispatch cluster: typed gRPC client, rendering, live board, CLI."""
