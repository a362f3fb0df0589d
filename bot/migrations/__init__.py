"""The store's schema: numbered SQL migrations `NNNN_name.sql` beside `runner.py`, which applies them in
order, each in one transaction, and records them in the database."""

from __future__ import annotations

from bot.migrations.runner import Migration, load_migrations

__all__ = ["Migration", "load_migrations"]
