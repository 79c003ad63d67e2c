"""Drafts (crypto/sessions.py): a filing in progress opens only with its cookie token, hides its
length, is found by an id that is neither the token nor a session id, and refuses tampering."""

from __future__ import annotations

import pytest

import crypto

DRAFT = b'{"answers": {"what_happened": "They beat him at the gate"}}'


@pytest.fixture
def token() -> bytes:
    return crypto.new_session_token()


@pytest.fixture
def sealed(token) -> bytes:
    return crypto.seal_draft(token, DRAFT)


def test_a_draft_opens_with_its_own_token(token, sealed):
    assert DRAFT not in sealed
    assert crypto.open_draft(token, sealed) == DRAFT


def test_an_empty_draft_round_trips(token):
    assert crypto.open_draft(token, crypto.seal_draft(token, b"")) == b""


def test_sealing_twice_gives_different_blobs(token):
    assert crypto.seal_draft(token, DRAFT) != crypto.seal_draft(token, DRAFT)


def test_another_token_cannot_open_the_draft(sealed):
    with pytest.raises(crypto.IntegrityError):
        crypto.open_draft(crypto.new_session_token(), sealed)


def test_a_token_of_the_wrong_length_is_refused(sealed):
    with pytest.raises(crypto.FormatError):
        crypto.open_draft(b"\x00" * 31, sealed)
    with pytest.raises(crypto.FormatError):
        crypto.seal_draft(b"\x00" * 33, DRAFT)


def test_the_blob_does_not_tell_how_much_was_written(token):
    one_byte = crypto.seal_draft(token, b"x")
    nine_hundred = crypto.seal_draft(token, b"x" * 900)
    assert len(one_byte) == len(nine_hundred)


def test_padding_grows_in_whole_blocks_past_the_first(token):
    first_block = crypto.seal_draft(token, b"x" * 900)
    second_block = crypto.seal_draft(token, b"x" * 1100)
    assert len(second_block) - len(first_block) == 1024


def test_the_lookup_id_is_stable_and_is_neither_the_token_nor_a_session_id(token):
    draft_id = crypto.draft_lookup_id(token)
    assert draft_id == crypto.draft_lookup_id(token)
    assert len(draft_id) == 32
    assert draft_id != token
    assert draft_id != crypto.session_lookup_id(token)
    assert draft_id != crypto.draft_lookup_id(crypto.new_session_token())


@pytest.mark.parametrize(
    "position",
    [0, 1, 24, 100, -1],
    ids=["version", "nonce", "body start", "body", "tag"],
)
def test_a_flipped_byte_is_refused(token, sealed, position):
    tampered = bytearray(sealed)
    tampered[position] ^= 0x01
    with pytest.raises(crypto.IntegrityError):
        crypto.open_draft(token, bytes(tampered))


@pytest.mark.parametrize(
    "keep", [0, 1, 20, -1, -16], ids=["empty", "version", "short", "-1", "-16"]
)
def test_a_truncated_blob_is_refused(token, sealed, keep):
    with pytest.raises(crypto.IntegrityError):
        crypto.open_draft(token, sealed[:keep])


def test_a_blob_with_a_byte_appended_is_refused(token, sealed):
    with pytest.raises(crypto.IntegrityError):
        crypto.open_draft(token, sealed + b"\x00")
