"""The four pages: runs, run detail, trends, live. Each has ``layout(...)`` and ``register(app, ctx)``."""
