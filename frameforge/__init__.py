"""The ``frameforge`` command and what it starts: one-shot extraction, the whole stack, the demo.

It sits above the service packages and is the only package that imports all of them:
``frameforge_core`` (what every process agrees on) <- ``frameforge_pipeline`` (engine and
Dagster code location) <- ``frameforge_api``; ``frameforge_worker`` needs only the core.
"""
