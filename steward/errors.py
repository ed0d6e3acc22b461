"""Errors a user can act on. The CLI prints their message (never a traceback) and exits non-zero.

Messages name the file, line, field, contract or rule at fault, and never carry personal data.
"""

from __future__ import annotations


class StewardError(Exception):
    """Base of every error steward reports to a user."""

    exit_code = 1


class ConfigurationError(StewardError):
    """A setting, file or argument is wrong."""

    exit_code = 2
