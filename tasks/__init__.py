"""The domain: plain typed functions, with thin Prefect task wrappers."""

import steward  # noqa: F401  (sets the Prefect environment before prefect is imported)
