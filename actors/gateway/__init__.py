"""The gateway: the gRPC server consoles, crews and supervisors reach, its router, its
watch-fed directory of owners, and one module per part of the API."""
