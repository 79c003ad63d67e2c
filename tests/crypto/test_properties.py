"""Design properties (docs: shared/design/crypto.md, P1..P10) shown at the library layer."""

from __future__ import annotations

import uuid

import pytest

import crypto
from crypto import WrapPurpose

CHEAP = crypto.Argon2Params(memory_kib=1024, time_cost=1)


def new_account(password: str) -> tuple[uuid.UUID, crypto.AccountKeys]:
    account_id = uuid.uuid4()
    keys, _ = crypto.create_account_keys(account_id, password, CHEAP)
    return account_id, keys


def sign_in(account_id: uuid.UUID, password: str, keys: crypto.AccountKeys):
    return crypto.unlock_account_key(
        account_id, password, keys.wrapped_private_key, keys.public_key
    )


def message_context(case_id: uuid.UUID) -> crypto.RecordContext:
    return crypto.RecordContext("messages", "body", case_id, uuid.uuid4())


def test_p3_account_never_granted_cannot_open_the_compartment():
    case_id, compartment_id = uuid.uuid4(), uuid.uuid4()
    granted_id, granted = new_account("granted pw")
    other_id, other = new_account("other pw")
    compartment = crypto.generate_keypair()
    grant = crypto.seal_grant(compartment, compartment_id, granted.public_key)
    ctx = message_context(case_id)
    record = crypto.seal_record(compartment.public_key, ctx, b"what happened")

    granted_key = sign_in(granted_id, "granted pw", granted)
    opened = crypto.open_grant(grant, granted_key, compartment_id, crypto.public_bytes(compartment))
    assert crypto.open_record(opened, ctx, record) == b"what happened"

    other_key = sign_in(other_id, "other pw", other)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(grant, other_key, compartment_id, crypto.public_bytes(compartment))
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(other_key, ctx, record)


def test_p3_after_rotation_revoked_account_cannot_open_new_records():
    case_id, compartment_id = uuid.uuid4(), uuid.uuid4()
    kept_id, kept = new_account("kept pw")
    revoked_id, revoked = new_account("revoked pw")
    old = crypto.generate_keypair()
    revoked_grant = crypto.seal_grant(old, compartment_id, revoked.public_key)
    # While granted, the revoked account unwrapped (and may have kept) the old private key.
    revoked_key = sign_in(revoked_id, "revoked pw", revoked)
    stolen_old = crypto.open_grant(
        revoked_grant, revoked_key, compartment_id, crypto.public_bytes(old)
    )

    # Revocation: a new compartment key pair, granted only to the remaining account.
    new = crypto.generate_keypair()
    new_grant = crypto.seal_grant(new, compartment_id, kept.public_key)
    ctx = message_context(case_id)
    record = crypto.seal_record(crypto.public_bytes(new), ctx, b"after revocation")

    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(stolen_old, ctx, record)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(revoked_key, ctx, record)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(new_grant, revoked_key, compartment_id, crypto.public_bytes(new))

    kept_key = sign_in(kept_id, "kept pw", kept)
    current = crypto.open_grant(new_grant, kept_key, compartment_id, crypto.public_bytes(new))
    assert crypto.open_record(current, ctx, record) == b"after revocation"


def test_p6_forgotten_password_recovered_through_the_recovery_key():
    case_id, compartment_id = uuid.uuid4(), uuid.uuid4()
    recovery_private, secret = crypto.generate_recovery_key()
    recovery_public = crypto.public_bytes(recovery_private)
    del recovery_private  # never stored on the server
    compartment = crypto.generate_keypair()
    ctx = message_context(case_id)
    record = crypto.seal_record(compartment.public_key, ctx, b"case file")
    recovery_wrap = crypto.seal_grant(
        compartment, compartment_id, recovery_public, WrapPurpose.RECOVERY
    )

    # The caseworker forgot their password; the operator types the secret back and re-grants.
    new_id, new_keys = new_account("fresh password")
    recovered = crypto.open_grant(
        recovery_wrap,
        crypto.parse_recovery_secret(secret),
        compartment_id,
        crypto.public_bytes(compartment),
        WrapPurpose.RECOVERY,
    )
    regrant = crypto.seal_grant(recovered, compartment_id, new_keys.public_key)
    key = crypto.open_grant(
        regrant,
        sign_in(new_id, "fresh password", new_keys),
        compartment_id,
        crypto.public_bytes(compartment),
    )
    assert crypto.open_record(key, ctx, record) == b"case file"


def test_p8_without_any_wrap_nothing_opens_the_record():
    case_id, compartment_id = uuid.uuid4(), uuid.uuid4()
    recovery_private, _ = crypto.generate_recovery_key()
    account_id, account = new_account("pw")
    account_key = sign_in(account_id, "pw", account)
    compartment = crypto.generate_keypair()
    grants = [
        crypto.seal_grant(compartment, compartment_id, account.public_key),
        crypto.seal_grant(
            compartment, compartment_id, recovery_private.public_key, WrapPurpose.RECOVERY
        ),
    ]
    ctx = message_context(case_id)
    record = crypto.seal_record(compartment.public_key, ctx, b"to be purged")
    public = crypto.public_bytes(compartment)  # stays stored after the purge
    # Before the purge the recovery wrap would have opened it.
    via_recovery = crypto.open_grant(
        grants[1], recovery_private, compartment_id, public, WrapPurpose.RECOVERY
    )
    assert crypto.open_record(via_recovery, ctx, record) == b"to be purged"

    # Purge: every wrap and the private key are gone; the record and public key remain.
    del grants, compartment, via_recovery
    for key in (recovery_private, account_key, crypto.generate_keypair()):
        with pytest.raises(crypto.IntegrityError):
            crypto.open_record(key, ctx, record)


def test_p7_session_row_and_cookie_each_open_nothing_alone():
    owner_id = uuid.uuid4()
    account_id, account = new_account("pw")
    unlocked = sign_in(account_id, "pw", account)
    token = crypto.new_session_token()
    row_id = crypto.session_lookup_id(token)
    row_wrap = crypto.wrap_session_key(token, unlocked, owner_id, "staff", 1_900_000_000)
    assert bytes(unlocked) not in row_wrap
    assert token not in row_id + row_wrap
    with pytest.raises(crypto.IntegrityError):  # the row alone, using its id as the token
        crypto.unwrap_session_key(
            row_id, row_wrap, owner_id, "staff", 1_900_000_000, account.public_key
        )
    back = crypto.unwrap_session_key(
        token, row_wrap, owner_id, "staff", 1_900_000_000, account.public_key
    )
    assert bytes(back) == bytes(unlocked)


def test_p10_substituted_public_key_is_caught_by_the_server_mac():
    mac = crypto.ServerMac(crypto.new_server_mac_key())
    case_id = uuid.uuid4()
    genuine = crypto.public_bytes(crypto.generate_keypair())
    tag = mac.tag("compartment-public", case_id, "case", genuine)
    attacker = crypto.public_bytes(crypto.generate_keypair())
    with pytest.raises(crypto.IntegrityError):
        mac.verify(tag, "compartment-public", case_id, "case", attacker)
    mac.verify(tag, "compartment-public", case_id, "case", genuine)
