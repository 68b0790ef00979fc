"""Command line (Typer). Each area keeps its commands in its own module with a ``register(app)``."""
