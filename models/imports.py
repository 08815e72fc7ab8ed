"""Files already imported, by content hash: importing the same responses twice would count them twice.

Only the hash, the kind of file, its row count and when it was imported are kept, never content.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from models.base import utcnow


class ImportedFile(SQLModel, table=True):
    """One import of one file's content (a repeat allowed with ``--allow-repeat`` adds no row)."""

    __tablename__ = "imported_file"
    __table_args__ = (UniqueConstraint("kind", "content_sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # "responses"
    content_sha256: str = Field(max_length=64)
    rows: int
    imported_at: datetime = Field(default_factory=utcnow)


def imported_at(session: Session, *, kind: str, content_sha256: str) -> datetime | None:
    """When a file with this content was imported, or None if it never was."""
    return session.exec(
        select(ImportedFile.imported_at).where(
            ImportedFile.kind == kind, ImportedFile.content_sha256 == content_sha256
        )
    ).first()


def remember(session: Session, *, kind: str, content_sha256: str, rows: int) -> None:
    """Record an import in the caller's transaction, unless the same content is already recorded."""
    if imported_at(session, kind=kind, content_sha256=content_sha256) is None:
        session.add(ImportedFile(kind=kind, content_sha256=content_sha256, rows=rows))
        session.flush()
