"""Bounce reconciliation: ingest the provider's exports, classify them, mark undeliverable accounts,
plan the removal of those that stay undeliverable past the grace period (docs/bounce-reconciliation.md)."""
