"""A filing in progress, encrypted under a key that only the reporter's cookie holds.

Each step of the public form adds its answers to the draft; files chosen on the evidence step
are already encrypted on arrival and are *staged* (kept in the data dir's ``incoming`` folder)
until the complaint is sent. A draft expires an hour after its last change: then its row and
its staged files are deleted, and nothing of it can be read by anyone.
"""

from __future__ import annotations

import json
import uuid
from base64 import b64decode, b64encode
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

import crypto

from .datadir import DataDir
from .models import Draft, utcnow
from .uploads import STAGED_SUFFIX, EncryptingUpload

DRAFT_MINUTES = 60


@dataclass
class StagedFile:
    """An attachment encrypted on arrival, waiting for its complaint to be sent."""

    file_id: uuid.UUID
    key: bytes
    name: str
    content_type: str
    size: int

    def path(self, data_dir: DataDir) -> Path:
        return data_dir.incoming / f"{self.file_id.hex}{STAGED_SUFFIX}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file_id": str(self.file_id),
            "key": b64encode(self.key).decode("ascii"),
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StagedFile:
        return cls(
            file_id=uuid.UUID(data["file_id"]),
            key=b64decode(data["key"]),
            name=str(data["name"]),
            content_type=str(data["content_type"]),
            size=int(data["size"]),
        )


@dataclass
class DraftState:
    """What the reporter has answered so far."""

    answers: dict[str, Any] = field(default_factory=dict)
    files: list[StagedFile] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "answers": self.answers,
                "files": [staged.to_json() for staged in self.files],
                "visited": self.visited,
            },
            ensure_ascii=False,
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> DraftState:
        raw = json.loads(data)
        return cls(
            answers=dict(raw["answers"]),
            files=[StagedFile.from_json(item) for item in raw["files"]],
            visited=list(raw["visited"]),
        )

    @property
    def total_bytes(self) -> int:
        return sum(staged.size for staged in self.files)


def start(db: Session) -> tuple[bytes, DraftState]:
    """A new, empty draft; returns the token for the cookie (never stored)."""
    sweep_expired(db)
    token = crypto.new_session_token()
    state = DraftState()
    save(db, token, state)
    return token, state


def load(db: Session, data_dir: DataDir, token: bytes) -> DraftState | None:
    """The draft a cookie token opens, or None if there is none or it has expired."""
    try:
        draft_id = crypto.draft_lookup_id(token)
    except crypto.FormatError:
        return None
    row = db.get(Draft, draft_id)
    if row is None:
        return None
    try:
        state = DraftState.from_bytes(crypto.open_draft(token, row.ciphertext))
    except (crypto.CryptoError, ValueError, KeyError):
        db.delete(row)
        db.commit()
        return None
    if row.expires_at <= utcnow():
        discard(db, data_dir, token, state)
        return None
    return state


def save(db: Session, token: bytes, state: DraftState) -> None:
    """Encrypt and store the draft, pushing its expiry an hour ahead."""
    draft_id = crypto.draft_lookup_id(token)
    row = db.get(Draft, draft_id)
    ciphertext = crypto.seal_draft(token, state.to_bytes())
    expires_at = utcnow() + timedelta(minutes=DRAFT_MINUTES)
    if row is None:
        db.add(Draft(id=draft_id, ciphertext=ciphertext, expires_at=expires_at))
    else:
        row.ciphertext, row.expires_at = ciphertext, expires_at
    db.commit()


def discard(db: Session, data_dir: DataDir, token: bytes, state: DraftState | None) -> None:
    """Forget a draft: its row and every file staged for it."""
    for staged in state.files if state else []:
        staged.path(data_dir).unlink(missing_ok=True)
    db.execute(delete(Draft).where(Draft.id == crypto.draft_lookup_id(token)))
    db.commit()


def stage(upload: EncryptingUpload, name: str) -> StagedFile:
    """Keep an encrypted upload past the end of its request."""
    upload.finish()
    staged = StagedFile(
        file_id=upload.file_id,
        key=upload.key,
        name=name,
        content_type=upload.content_type,
        size=upload.size,
    )
    upload.path.rename(upload.path.with_name(f"{upload.file_id.hex}{STAGED_SUFFIX}"))
    return staged


def remove_file(data_dir: DataDir, state: DraftState, file_id: uuid.UUID) -> None:
    """Take a staged file out of the draft and delete it."""
    for staged in list(state.files):
        if staged.file_id == file_id:
            staged.path(data_dir).unlink(missing_ok=True)
            state.files.remove(staged)


def sweep_expired(db: Session) -> int:
    """Delete expired drafts (their staged files are swept by age with the incoming folder)."""
    result = db.execute(delete(Draft).where(Draft.expires_at <= utcnow()))
    db.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
