"""The package: composed under the consent gate, sealed in its own compartment, read, exported."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

import crypto

from .. import scrub
from ..access import case_for
from ..casework import AttachmentInfo, describe_file, file_chunks
from ..datadir import DataDir
from ..drafts import StagedFile
from ..intake import IDENTITY_FIELDS, record_stored_file
from ..keyring import Keyring
from ..models import (
    Account,
    AuditEvent,
    AuthorRole,
    Case,
    Channel,
    Company,
    Compartment,
    CompartmentKind,
    Grant,
    Recipient,
    Record,
    RecordKind,
    Referral,
    ReferralStatus,
    Scope,
    StoredFile,
    today,
)
from ..people import ConsentRecord, consent_record_from, shareable_identity
from ..staff import SignedIn
from ..vault import (
    grant_to_account,
    installation,
    new_compartment,
    open_record,
    seal,
    unlock_compartment,
)
from .consent import scope_for
from .core import (
    DEFAULT_RESPONSE_DAYS,
    MAX_SHARED_FILE,
    Package,
    ReferralError,
    SharedFile,
    _holders,
    _officers,
    _package_records,
    _referral_key,
)


@dataclass(frozen=True)
class PackageChoice:
    """What the caseworker put in the package (answers already redacted by them)."""

    answers: Sequence[tuple[str, str]]  # (question, answer as it is to go)
    cover_note: str
    include_identity: bool = False
    file_ids: Sequence[uuid.UUID] = ()


def _identity(
    db: Session, keyring: Keyring, who: SignedIn, case: Case, recipient: Recipient
) -> dict[str, str]:
    """The identity that may go to ``recipient``: the reporter's, or for a case an organisation
    filed, the names of only those people whose own consent lets them go there."""
    compartments = db.scalars(
        select(Compartment).where(
            Compartment.case_id == case.id, Compartment.kind == CompartmentKind.IDENTITY.value
        )
    )
    for compartment in compartments:
        key = unlock_compartment(db, keyring, compartment, who.account, who.private_key)
        if key is None:
            continue
        record = db.scalar(
            select(Record)
            .where(
                Record.compartment_id == compartment.id, Record.kind == RecordKind.IDENTITY.value
            )
            .order_by(Record.sequence.desc())
        )
        if record is None:
            continue
        identity = json.loads(open_record(key, record))
        if case.channel != Channel.INTERMEDIARY.value:
            return {str(k): str(v) for k, v in identity.items()}
        consent = _consent_record(db, keyring, who, case)
        shared = shareable_identity(consent, identity, recipient) if consent else {}
        if shared:
            return shared
    raise ReferralError("no_identity_access")


def _consent_record(
    db: Session, keyring: Keyring, who: SignedIn, case: Case
) -> ConsentRecord | None:
    row = db.scalar(
        select(Record)
        .where(Record.case_id == case.id, Record.kind == RecordKind.CONSENT.value)
        .order_by(Record.sequence.desc())
        .limit(1)
    )
    compartment = db.get(Compartment, row.compartment_id) if row else None
    key = (
        unlock_compartment(db, keyring, compartment, who.account, who.private_key)
        if row and compartment
        else None
    )
    if row is None or key is None:
        return None
    return consent_record_from(json.loads(open_record(key, row)))


def _case_file(
    db: Session, keyring: Keyring, data_dir: DataDir, who: SignedIn, case: Case, file_id: uuid.UUID
) -> tuple[AttachmentInfo, bytes]:
    """An original attachment of the case, decrypted into memory (never to disk)."""
    stored = db.get(StoredFile, file_id)
    record = db.get(Record, stored.key_record_id) if stored else None
    if stored is None or record is None or stored.case_id != case.id:
        raise ReferralError("no_file")
    compartment = db.get(Compartment, record.compartment_id)
    if compartment is None or compartment.kind != CompartmentKind.CASE.value:
        raise ReferralError("no_file")
    key = unlock_compartment(db, keyring, compartment, who.account, who.private_key)
    if key is None:
        raise ReferralError("no_file")
    info, file_key = describe_file({compartment.id: key}, record, stored)
    if info.size > MAX_SHARED_FILE:
        raise ReferralError("file_too_large", info.name)
    return info, b"".join(file_chunks(data_dir, stored, file_key))


def _store_copy(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    compartment: Compartment,
    private_key: PrivateKey,
    name: str,
    copy: scrub.CleanCopy,
    written: list[Any],
) -> SharedFile:
    file_id = uuid.uuid4()
    file_key = crypto.new_file_key()
    destination = data_dir.file_path(file_id.hex)
    destination.parent.mkdir(mode=0o700, exist_ok=True)
    with destination.open("xb") as sink:
        written.append(destination)
        encryptor = crypto.FileEncryptor(file_key, crypto.file_associated_data(file_id), sink)
        encryptor.write(copy.data)
        encryptor.finish()
    stem = name.rsplit(".", 1)[0] or "file"
    shared = SharedFile(file_id, f"{stem}.{copy.extension}", copy.media_type, len(copy.data))
    described = StagedFile(file_id, file_key, shared.name, shared.content_type, shared.size)
    record_stored_file(
        db, keyring, compartment, private_key, described, AuthorRole.STAFF, destination
    )
    return shared


def compose(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    who: SignedIn,
    referral: Referral,
    choice: PackageChoice,
    response_days: int = DEFAULT_RESPONSE_DAYS,
) -> Referral:
    """Seal the package into a compartment of its own; send it (company) or prepare it.

    Refused, with nothing stored, when consent does not allow what was chosen. Files written
    before a refusal are removed; the caller rolls back the session.
    """
    case = case_for(db, who.account, referral.case_id)
    if case is None:
        raise ReferralError("no_case")
    if referral.status != ReferralStatus.READY.value:
        raise ReferralError("not_ready")
    scope = scope_for(case, referral.recipient)
    if scope in (Scope.UNASKED, Scope.NOTHING):
        raise ReferralError("no_consent")
    if choice.include_identity and scope is not Scope.IDENTITY:
        raise ReferralError("identity_not_allowed")
    if not choice.answers and not choice.cover_note.strip():
        raise ReferralError("empty")
    answers = [(q, a) for q, a in choice.answers if q not in IDENTITY_FIELDS]
    identity = (
        _identity(db, keyring, who, case, referral.recipient) if choice.include_identity else None
    )
    readers = {a.id: a for a in [*_holders(db, case.id), *_officers(db, referral.company_id)]}
    compartment, private_key = new_compartment(
        db,
        keyring,
        case.id,
        CompartmentKind.REFERRAL,
        readers.values(),
        installation(db, keyring).recovery_public_key,
    )
    written: list[Any] = []
    try:
        shared = []
        for file_id in choice.file_ids:
            original, data = _case_file(db, keyring, data_dir, who, case, file_id)
            try:
                copy = scrub.clean_copy(data)
            except scrub.CannotClean as exc:
                raise ReferralError("cannot_clean", original.name) from exc
            shared.append(
                _store_copy(
                    db,
                    keyring,
                    data_dir,
                    compartment,
                    private_key,
                    original.name,
                    copy,
                    written,
                )
            )
        content = {
            "answers": [[q, a] for q, a in answers],
            "cover_note": choice.cover_note,
            "identity": identity,
            "files": [[f.file_id.hex, f.name, f.content_type, f.size] for f in shared],
        }
        seal(
            db,
            keyring,
            compartment,
            RecordKind.PACKAGE,
            json.dumps(content, ensure_ascii=False, sort_keys=True).encode("utf-8"),
            AuthorRole.STAFF,
            author_account_id=who.account.id,
            private_key=private_key,
        )
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    referral.compartment_id = compartment.id
    referral.scope = Scope.IDENTITY.value if identity else Scope.ACCOUNT.value
    if referral.company_id is not None:
        company = db.get(Company, referral.company_id)
        days = company.response_days if company and company.response_days else None
        referral.status = ReferralStatus.SENT.value
        referral.sent_on = today()
        referral.response_due_on = today() + timedelta(days=days or response_days)
    else:
        referral.status = ReferralStatus.PREPARED.value
    db.add(
        AuditEvent(
            action="referral.sent" if referral.company_id else "referral.prepared",
            actor_account_id=who.account.id,
            case_id=case.id,
            detail=f"{referral.id}:{referral.scope}:{len(shared)}",
        )
    )
    return referral


def read_package(
    db: Session, keyring: Keyring, account: Account, private_key: PrivateKey, referral: Referral
) -> Package | None:
    """The package, for an account holding the referral's key; None for anyone else."""
    found = _package_records(db, keyring, account, private_key, referral, RecordKind.PACKAGE)
    if not found:
        return None
    content = found[0][1]
    return Package(
        answers=[(str(q), str(a)) for q, a in content["answers"]],
        cover_note=str(content["cover_note"]),
        identity=content["identity"],
        files=[SharedFile(uuid.UUID(i), str(n), str(t), int(s)) for i, n, t, s in content["files"]],
    )


def open_shared_file(
    db: Session,
    keyring: Keyring,
    data_dir: DataDir,
    account: Account,
    private_key: PrivateKey,
    referral: Referral,
    file_id: uuid.UUID,
) -> tuple[SharedFile, bytes] | None:
    """A cleaned copy in the package, decrypted; None unless the account holds the package."""
    unlocked = _referral_key(db, keyring, account, private_key, referral)
    stored = db.get(StoredFile, file_id)
    record = db.get(Record, stored.key_record_id) if stored else None
    if unlocked is None or stored is None or record is None:
        return None
    compartment, key = unlocked
    if record.compartment_id != compartment.id or record.kind != RecordKind.FILE_KEY.value:
        return None
    info, file_key = describe_file({compartment.id: key}, record, stored)
    data = b"".join(file_chunks(data_dir, stored, file_key))
    return SharedFile(stored.id, info.name, info.content_type, len(data)), data


def bundle(
    db: Session, keyring: Keyring, data_dir: DataDir, who: SignedIn, referral: Referral, title: str
) -> bytes | None:
    """The package as a ZIP made in memory: ``package.txt`` and the cleaned files."""
    package = read_package(db, keyring, who.account, who.private_key, referral)
    if package is None:
        return None
    lines = [title, "", package.cover_note, ""]
    for question, answer in package.answers:
        lines += [question, answer, ""]
    if package.identity:
        lines += [f"{key}: {value}" for key, value in package.identity.items()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        stamp = (2000, 1, 1, 0, 0, 0)  # no time of day in the archive either
        archive.writestr(zipfile.ZipInfo("package.txt", stamp), "\n".join(lines))
        for shared in package.files:
            opened = open_shared_file(
                db, keyring, data_dir, who.account, who.private_key, referral, shared.file_id
            )
            if opened is not None:
                archive.writestr(zipfile.ZipInfo(f"files/{shared.name}", stamp), opened[1])
    db.add(
        AuditEvent(
            action="referral.exported",
            actor_account_id=who.account.id,
            case_id=referral.case_id,
            detail=str(referral.id),
        )
    )
    return out.getvalue()


def share_with_new_holders(
    db: Session, keyring: Keyring, who: SignedIn, referrals: Iterable[Referral]
) -> int:
    """Grant each package the caseworker holds to holders of the case and company officers
    who lack it (colleagues given the case later, officers added later). How many grants."""
    made = 0
    for referral in referrals:
        unlocked = _referral_key(db, keyring, who.account, who.private_key, referral)
        if unlocked is None:
            continue
        compartment, key = unlocked
        have = set(
            db.scalars(select(Grant.account_id).where(Grant.compartment_id == compartment.id))
        )
        for account in [*_holders(db, referral.case_id), *_officers(db, referral.company_id)]:
            if account.id not in have:
                grant_to_account(db, keyring, compartment, key, account)
                have.add(account.id)
                made += 1
    return made
