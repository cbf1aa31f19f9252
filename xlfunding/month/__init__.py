"""The monthly run: the inbox of returns, reading them in parallel, the consolidation rules, the
evolutions, the report and the CLI job. May import the core, ``read`` and ``write``."""
