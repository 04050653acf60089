"""Layer 4: the command line, one module per area, each with ``register(subparsers)``.

Parses arguments, calls a service in erp/ or a pipeline, renders text or ``--json``.
"""
