"""The Ray actors of the dispatch cluster, one package per kind (``centre``, ``gateway``,
``supervisor``, ``major``), the one wrapper for calls between them (``remote``), and in
``actors.domain`` the pure domain logic they host. docs/architecture.md is the map."""
