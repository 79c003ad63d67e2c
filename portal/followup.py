"""Following up with a receipt: what the reporter may see of their case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

import crypto

from .keyring import Keyring
from .models import Case, ReceiptLock, today
from .stages import Stage
from .vault import installation


@dataclass(frozen=True)
class CaseStatus:
    stage: Stage
    received_on: date
    next_due_on: date | None


def case_status(db: Session, keyring: Keyring, receipt_text: str) -> CaseStatus | None:
    """The status of the case a receipt opens, or None. A typo raises before any derivation."""
    receipt = crypto.normalize_receipt(receipt_text)
    setup = installation(db, keyring)
    keys = crypto.derive_receipt_keys(
        receipt, setup.receipt_salt, crypto.Argon2Params.decode(setup.receipt_kdf)
    )
    lock = db.get(ReceiptLock, keys.lookup_token)
    if lock is None or lock.expires_on < today():
        return None
    case = db.get(Case, lock.case_id)
    if case is None:
        return None
    return CaseStatus(Stage(case.stage), case.received_on, case.next_due_on)
