"""First-run initialisation: the installation row with the recovery public key and receipt salt."""

from __future__ import annotations

from nacl.public import PrivateKey
from sqlalchemy.orm import Session

import crypto

from .config import Settings
from .keyring import Keyring
from .models import Installation


def is_initialised(db: Session) -> bool:
    return db.get(Installation, 1) is not None


def initialise(db: Session, keyring: Keyring, settings: Settings) -> tuple[PrivateKey, str]:
    """Create the installation row; return the recovery key and its secret (never stored)."""
    private_key, secret = crypto.generate_recovery_key()
    row = Installation(
        id=1,
        recovery_public_key=crypto.public_bytes(private_key),
        receipt_salt=crypto.new_salt(),
        receipt_kdf=settings.argon2.encode(),
    )
    keyring.sign_installation(row)
    db.add(row)
    return private_key, secret
