"""Hybrid records (crypto/records.py): round trips, binding to context (P4), tamper and
truncation detection, key commitment, padding, and sealing with only a public key (P9)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey, SealedBox

import crypto
from crypto.hashing import LABEL_KEY_COMMIT, keyed_hash

# The documented layout: version (1) | sealed record key (80) | commitment (32) | nonce (24) |
# padded body | Poly1305 tag (16). Hard-coded here so that a layout change is noticed.
VERSION_AT = 0
SEALED_KEY = (1, 81)
COMMITMENT = (81, 113)
NONCE = (113, 137)
BODY_START = 137
TAG_BYTES = 16


@pytest.fixture
def compartment() -> PrivateKey:
    return crypto.generate_keypair()


@pytest.fixture
def context() -> crypto.RecordContext:
    return crypto.RecordContext(
        table="messages", column="body", case_id=uuid.uuid4(), record_id=uuid.uuid4()
    )


def regions(blob: bytes) -> dict[str, tuple[int, int]]:
    return {
        "version": (VERSION_AT, VERSION_AT + 1),
        "sealed_key": SEALED_KEY,
        "commitment": COMMITMENT,
        "nonce": NONCE,
        "body": (BODY_START, len(blob) - TAG_BYTES),
        "tag": (len(blob) - TAG_BYTES, len(blob)),
    }


def flip(blob: bytes, index: int, bit: int = 0) -> bytes:
    return blob[:index] + bytes([blob[index] ^ (1 << bit)]) + blob[index + 1 :]


def test_record_round_trips(compartment, context):
    content = "Guard hit me at the north gate. — Ahmad".encode()
    blob = crypto.seal_record(compartment.public_key, context, content)
    assert content not in blob
    assert crypto.open_record(compartment, context, blob) == content


def test_empty_record_round_trips(compartment, context):
    blob = crypto.seal_record(compartment.public_key, context, b"")
    assert crypto.open_record(compartment, context, blob) == b""


@settings(max_examples=50, deadline=None)
@given(content=st.binary(max_size=20_000))
def test_any_content_round_trips(content):
    key = crypto.generate_keypair()
    ctx = crypto.RecordContext("t", "c", uuid.uuid4(), uuid.uuid4())
    assert crypto.open_record(key, ctx, crypto.seal_record(key.public_key, ctx, content)) == content


def test_sealing_twice_gives_different_ciphertexts(compartment, context):
    first = crypto.seal_record(compartment.public_key, context, b"same")
    second = crypto.seal_record(compartment.public_key, context, b"same")
    assert first != second


def test_record_layout_has_documented_size(compartment, context):
    blob = crypto.seal_record(compartment.public_key, context, b"x")
    assert blob[0] == 1
    assert len(blob) == 1 + 80 + 32 + 24 + 512 + 16


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("table", "notes"),
        ("column", "subject"),
        ("case_id", uuid.uuid4()),
        ("record_id", uuid.uuid4()),
    ],
)
def test_record_moved_to_another_context_is_refused(compartment, context, field, value):
    blob = crypto.seal_record(compartment.public_key, context, b"content")
    moved = replace(context, **{field: value})
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(compartment, moved, blob)


def test_table_and_column_boundary_is_bound(compartment):
    case_id, record_id = uuid.uuid4(), uuid.uuid4()
    ctx = crypto.RecordContext("ab", "c", case_id, record_id)
    shifted = crypto.RecordContext("a", "bc", case_id, record_id)
    blob = crypto.seal_record(compartment.public_key, ctx, b"content")
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(compartment, shifted, blob)


def test_ciphertexts_swapped_between_two_records_are_refused(compartment):
    case_id = uuid.uuid4()
    ctx_a = crypto.RecordContext("messages", "body", case_id, uuid.uuid4())
    ctx_b = crypto.RecordContext("messages", "body", case_id, uuid.uuid4())
    blob_a = crypto.seal_record(compartment.public_key, ctx_a, b"message A")
    blob_b = crypto.seal_record(compartment.public_key, ctx_b, b"message B")
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(compartment, ctx_a, blob_b)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(compartment, ctx_b, blob_a)


def test_ciphertexts_swapped_between_columns_of_one_row_are_refused(compartment, context):
    other_column = replace(context, column="contact")
    blob = crypto.seal_record(compartment.public_key, context, b"name")
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(compartment, other_column, blob)


@pytest.mark.parametrize("region", ["version", "sealed_key", "commitment", "nonce", "body", "tag"])
def test_bit_flip_anywhere_in_region_is_refused(compartment, context, region):
    blob = crypto.seal_record(compartment.public_key, context, b"tamper with me")
    start, end = regions(blob)[region]
    assert end > start
    for index in range(start, end):
        with pytest.raises(crypto.IntegrityError):
            crypto.open_record(compartment, context, flip(blob, index, index % 8))


def test_every_bit_of_the_version_byte_is_a_format_error(compartment, context):
    blob = crypto.seal_record(compartment.public_key, context, b"x")
    for bit in range(8):
        with pytest.raises(crypto.FormatError):
            crypto.open_record(compartment, context, flip(blob, 0, bit))


def test_format_error_is_an_integrity_error():
    assert issubclass(crypto.FormatError, crypto.IntegrityError)


def test_truncation_at_every_length_is_refused(compartment, context):
    blob = crypto.seal_record(compartment.public_key, context, b"truncate me")
    for length in range(len(blob)):
        with pytest.raises(crypto.IntegrityError):
            crypto.open_record(compartment, context, blob[:length])


def test_appended_bytes_are_refused(compartment, context):
    blob = crypto.seal_record(compartment.public_key, context, b"content")
    for extra in (b"\0", b"\0" * 16, os.urandom(512)):
        with pytest.raises(crypto.IntegrityError):
            crypto.open_record(compartment, context, blob + extra)


def test_wrong_private_key_is_refused(compartment, context):
    blob = crypto.seal_record(compartment.public_key, context, b"content")
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(crypto.generate_keypair(), context, blob)


def test_padding_hides_length_within_a_block(compartment, context):
    short = crypto.seal_record(compartment.public_key, context, b"x")
    long = crypto.seal_record(compartment.public_key, context, b"y" * 400)
    assert len(short) == len(long)


def test_padding_grows_by_whole_blocks(compartment, context):
    one_block = crypto.seal_record(compartment.public_key, context, b"y" * 400)
    two_blocks = crypto.seal_record(compartment.public_key, context, b"y" * 600)
    assert len(two_blocks) - len(one_block) == 512


def test_record_key_resealed_to_same_public_key_without_new_commitment_is_refused(
    compartment, context
):
    """Key commitment: another record key sealed to the compartment, same body, is refused."""
    blob = crypto.seal_record(compartment.public_key, context, b"original")
    other_key = os.urandom(32)
    resealed = bytes(SealedBox(compartment.public_key).encrypt(other_key))
    assert len(resealed) == SEALED_KEY[1] - SEALED_KEY[0]
    forged = blob[: SEALED_KEY[0]] + resealed + blob[SEALED_KEY[1] :]
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(compartment, context, forged)


def test_record_key_resealed_with_matching_commitment_still_fails_on_body(compartment, context):
    blob = crypto.seal_record(compartment.public_key, context, b"original")
    other_key = os.urandom(32)
    resealed = bytes(SealedBox(compartment.public_key).encrypt(other_key))
    commitment = keyed_hash(other_key, LABEL_KEY_COMMIT, context.associated_data())
    forged = blob[:1] + resealed + commitment + blob[COMMITMENT[1] :]
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(compartment, context, forged)


def test_header_of_another_record_on_this_body_is_refused(compartment, context):
    other_ctx = replace(context, record_id=uuid.uuid4())
    blob = crypto.seal_record(compartment.public_key, context, b"mine")
    other = crypto.seal_record(compartment.public_key, other_ctx, b"theirs")
    spliced = other[: COMMITMENT[1]] + blob[COMMITMENT[1] :]
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(compartment, context, spliced)


def test_party_with_only_the_public_key_can_add_but_not_read(compartment, context):
    """P9: a company officer seals an answer to the case's public key, then cannot open it."""
    stored_public = crypto.public_bytes(compartment)
    officer = crypto.generate_keypair()
    answer = b"We have suspended the guard pending inquiry."
    blob = crypto.seal_record(stored_public, context, answer)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_record(officer, context, blob)
    assert crypto.open_record(compartment, context, blob) == answer
