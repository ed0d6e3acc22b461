"""Thin Prefect flows, one per job."""

import steward  # noqa: F401  (sets the Prefect environment before prefect is imported)
