"""CLI command modules. Each module here defines `register(app)` and is picked up by steward.cli."""
