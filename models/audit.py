"""The audit log: who viewed or changed what, and when. Admins read it; nobody edits it."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from models.outcomes import AuditEntry


def record(
    session: Session, *, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Add an entry to the session (the caller commits, so the entry lands with the change)."""
    text = json.dumps(detail or {}, default=str)[:4000]
    entry = AuditEntry(actor=actor, action=action, target=target[:200], detail=text)
    session.add(entry)
    return entry


def recent(session: Session, *, limit: int = 500, actor: str | None = None) -> list[AuditEntry]:
    """The newest entries first."""
    newest_first = (col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    query = select(AuditEntry).order_by(*newest_first).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    return list(session.exec(query).all())
