"""The one settings object: every tunable of steward, read from STEWARD_* environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from steward import PROJECT_ROOT

VAR_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """steward's settings. Each field is set by the environment variable STEWARD_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'steward.db'}",
        description="SQLAlchemy URL of the CRM/community database (SQLite file by default).",
    )
    output_dir: Path = Field(default=VAR_DIR / "out", description="Where reports, plans and packages go.")
    timezone: str = Field(default="Europe/London", description="The office's time zone (York).")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for keyed hashes and pseudonyms. Unset: a key is generated once into "
        "secret_key_file (owner-only) and reused.",
    )
    secret_key_file: Path = Field(default=VAR_DIR / "secret.key")
    chunk_size: int = Field(default=10_000, ge=100, description="Rows per chunk for streamed work.")

    # retention (docs/retention.md)
    retention_rules_file: Path = Field(
        default=PROJECT_ROOT / "data_contracts" / "retention_rules.yaml",
        description="The retention rules (periods, anchors, actions) the retention sweep enforces.",
    )
    financial_year_end: str = Field(
        default="03-31",
        pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="Last day of the financial year as MM-DD (31 March by default); finance records are "
        "kept for their regulatory lifetime counted from the end of the financial year they belong to.",
    )
    retention_guard_max_rows: int = Field(
        default=100_000,
        ge=0,
        description="A retention plan deleting more than this many subjects and rows waits for the DPO's "
        "approval (the share of accounts is guard_max_active_share, as for every plan).",
    )

    # bounce reconciliation (docs/bounce-reconciliation.md)
    bounce_inbox: Path | None = Field(
        default=None,
        description="Folder the email provider's exports (*.csv, *.jsonl) land in; the daily run ingests "
        "each new file. Unset: <output_dir>/demo, where `steward demo-data` writes its sample export.",
    )
    bounce_transient_threshold: float = Field(
        default=2.5,
        gt=0,
        description="Transient-bounce score at which an address becomes undeliverable. Each day with a "
        "transient bounce adds 1, decaying by half every bounce_transient_half_life_days.",
    )
    bounce_transient_half_life_days: float = Field(
        default=7.0, gt=0, description="Half-life, in days, of a transient bounce's weight in the score."
    )
    bounce_transient_window_days: int = Field(
        default=30, ge=1, description="Only transient bounces in the last N days count towards the score."
    )
    bounce_grace_period_days: int = Field(
        default=30,
        ge=0,
        description="Days an account stays undeliverable before its removal is planned (time for the "
        "person to correct their address).",
    )

    # plans and erasure (docs/erasure.md)
    guard_max_active_share: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="A plan removing more than this share of the accounts waits for the DPO's approval.",
    )
    guard_max_subjects: int = Field(
        default=1000,
        ge=0,
        description="A plan removing more than this many subjects (accounts or rows deleted) waits for "
        "the DPO's approval.",
    )
    erasure_batch_size: int = Field(
        default=10_000, ge=1, description="Subjects erased per transaction when a plan is applied."
    )
    erasure_row_batch_size: int = Field(
        default=100_000,
        ge=1,
        description="Plan items read per window when a plan is checked or applied; row items (delete_row, "
        "anonymise_row) of one table in a window are applied set-based in one transaction.",
    )
    erasure_journal: Path | None = Field(
        default=None,
        description="Append-only journal of erasures (keyed hashes only), read by `steward erasure "
        "replay` after a database restore. Keep it on storage that is not restored with the database. "
        "Unset: <output_dir>/audit/erasure-journal.jsonl.",
    )

    # subject access (docs/subject-access.md)
    sar_controller_name: str = Field(
        default="the charity",
        description="The organisation named as data controller in subject access packages.",
    )
    sar_dpo_contact: str = Field(
        default="the Data Protection Officer (see the privacy policy for how to reach them)",
        description="How a person reaches the DPO, printed in every subject access package.",
    )
    sar_disclosure_log: str = Field(
        default="data_shares",
        description="The table of the personal-data map that logs disclosures to other organisations; "
        "its rows about the person are listed in the package as who actually received their data.",
    )

    # funder statistics and research extracts (docs/funder-statistics.md)
    funders_threshold: int = Field(
        default=10,
        ge=1,
        description="A published cell needs at least this many contributors (distinct people); fewer "
        "and it is suppressed (primary suppression).",
    )
    funders_zero_cells: Literal["publish", "suppress"] = Field(
        default="publish",
        description="`publish`: an empty cell is printed as 0 (it tells of nobody); `suppress`: empty "
        "cells are treated as sensitive too.",
    )
    funders_dominance_n: int = Field(
        default=2, ge=1, description="Dominance rule (n, k) for hours: the n largest contributors..."
    )
    funders_dominance_k: float = Field(
        default=80.0,
        gt=0,
        le=100,
        description="...making up more than k percent of a cell make it sensitive.",
    )
    funders_protection_width: float = Field(
        default=10.0,
        gt=0,
        description="The narrowest range an attacker may be left with for a suppressed sensitive count, "
        "knowing every figure published in every release (proved by the audit).",
    )
    funders_magnitude_protection_percent: float = Field(
        default=20.0,
        ge=0,
        description="For a suppressed sensitive magnitude (hours), the range must also be at least this "
        "percentage of the cell's value.",
    )
    funders_rounding_base: int = Field(
        default=0,
        ge=0,
        description="0: publish exact counts; 5: round every published count to the nearest 5, each "
        "total rounded independently of its cells.",
    )
    funders_min_contributors_for_mean: int = Field(
        default=10,
        ge=1,
        description="Impact means and medians are published only where at least this many people contribute.",
    )
    research_extract_lawful_basis: str = Field(
        default="consent",
        description="The lawful basis recorded in the data-share log for research extracts (only people "
        "who agreed to research sharing are included).",
    )

    # content rescan and moderation (docs/content-rescan.md)
    keyword_categories: list[str] = Field(
        default=["terrorism", "csea", "hate", "violence", "fraud", "organisation"],
        description="The categories a keyword list may use: terrorism, child sexual exploitation and "
        "abuse (csea), hate, violence, fraud, and the organisation's own rules. As JSON in the "
        "environment: STEWARD_KEYWORD_CATEGORIES='[\"terrorism\", ...]'.",
    )
    keyword_max_length: int = Field(
        default=100, ge=2, le=200, description="The longest keyword term accepted, in characters."
    )
    keyword_list_bootstrap: Path | None = Field(
        default=PROJECT_ROOT / "demo" / "keywords.csv",
        description="A keyword list the content-rescan flow imports when the database holds none yet (a "
        "fresh demo database). Set it to an empty value in production, where the list is imported with "
        "`steward keywords import`.",
    )
    allow_list_bootstrap: Path | None = Field(
        default=PROJECT_ROOT / "demo" / "allowlist.csv",
        description="The allow-list imported with keyword_list_bootstrap.",
    )
    moderation_working_days: int = Field(
        default=3,
        ge=1,
        description="A moderation case (and an appeal or a filter complaint) is due at the end of this "
        "many business days after the day it was opened (Europe/London dates, England and Wales bank "
        "holidays skipped).",
    )
    content_scan_workers: int = Field(
        default=0,
        ge=0,
        description="Processes that scan posts in parallel (0: one per CPU). Each reads its own range of "
        "post ids after the keyword automaton is built.",
    )
    content_parallel_min_posts: int = Field(
        default=20_000,
        ge=1,
        description="Scans of fewer posts than this run in one process (starting workers costs more).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secret_key_bytes(self) -> bytes:
        """The key for keyed hashes; generated once, owner-only, when none is configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.secret_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
