"""Hand-made posts, keyword lists and helpers for the content-rescan tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from tasks.calendar import utc_now
from tasks.schema import (
    accounts,
    community_threads,
    content_reports,
    moderation_cases,
    post_attachments,
    posts,
    scan_hits,
)

SENTINEL = "Zebedee-Quokka-7731"
"""Personal words written into posts: they must never reach a log, an artifact or an error."""

LIST_HEADER = "term,category,match_mode,action\n"


def write_list(path: Path, lines: list[str], header: str = LIST_HEADER) -> Path:
    path.write_text(header + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


class Community:
    """A thread and an author; posts added one by one, each edit bumping updated_at."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._clock = itertools.count(1)
        self.start = utc_now() - timedelta(days=1)
        with engine.begin() as conn:
            self.account_id = conn.execute(
                insert(accounts).returning(accounts.c.id),
                [
                    {
                        "account_type": "educator",
                        "email": "author@school.example",
                        "first_name": "Ada",
                        "last_name": SENTINEL,
                        "region": "London",
                        "registered_at": self.start,
                        "updated_at": self.start,
                    }
                ],
            ).scalar_one()
            self.thread_id = conn.execute(
                insert(community_threads).returning(community_threads.c.id),
                [
                    {
                        "author_account_id": self.account_id,
                        "title": "Lessons",
                        "category": "general",
                        "created_at": self.start,
                    }
                ],
            ).scalar_one()

    def _tick(self) -> datetime:
        return self.start + timedelta(seconds=next(self._clock))

    def post(self, body: str, title: str | None = None) -> int:
        moment = self._tick()
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    insert(posts).returning(posts.c.id),
                    [
                        {
                            "thread_id": self.thread_id,
                            "author_account_id": self.account_id,
                            "title": title,
                            "body": body,
                            "created_at": moment,
                            "updated_at": moment,
                        }
                    ],
                ).scalar_one()
            )

    def edit(self, post_id: int, body: str) -> None:
        moment = utc_now()
        with self.engine.begin() as conn:
            conn.execute(
                update(posts)
                .where(posts.c.id == post_id)
                .values(body=body, edited_at=moment, updated_at=moment)
            )

    def attach(self, post_id: int, file_name: str, uploaded_at: datetime | None = None) -> int:
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    insert(post_attachments).returning(post_attachments.c.id),
                    [
                        {
                            "post_id": post_id,
                            "file_name": file_name,
                            "content_type": "application/pdf",
                            "size_bytes": 1000,
                            "uploaded_at": uploaded_at or self._tick(),
                        }
                    ],
                ).scalar_one()
            )

    def report(
        self, post_id: int, reason: str, created_at: datetime | None = None, trusted: bool = False
    ) -> int:
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    insert(content_reports).returning(content_reports.c.id),
                    [
                        {
                            "post_id": post_id,
                            "reporter_account_id": None if trusted else self.account_id,
                            "reporter_kind": "trusted_flagger" if trusted else "member",
                            "trusted_flagger_name": "Online Safety Hotline" if trusted else None,
                            "reason": reason,
                            "details": f"said by {SENTINEL}",
                            "created_at": created_at or utc_now(),
                        }
                    ],
                ).scalar_one()
            )

    # ------------------------------------------------------------------------------------ reading

    def hits(self, post_id: int | None = None, active: bool = True) -> list[Any]:
        query = select(scan_hits).order_by(scan_hits.c.id)
        if post_id is not None:
            query = query.where(scan_hits.c.post_id == post_id)
        if active:
            query = query.where(scan_hits.c.cleared_at.is_(None))
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    def cases(self, post_id: int | None = None) -> list[Any]:
        query = select(moderation_cases).order_by(moderation_cases.c.id)
        if post_id is not None:
            query = query.where(moderation_cases.c.post_id == post_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    def hidden(self, post_id: int) -> tuple[bool, str | None]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(posts.c.is_hidden, posts.c.hidden_reason).where(posts.c.id == post_id)
            ).one()
        return bool(row.is_hidden), row.hidden_reason

    def body(self, post_id: int) -> str:
        with self.engine.connect() as conn:
            return str(conn.execute(select(posts.c.body).where(posts.c.id == post_id)).scalar_one())
