"""Keyed BLAKE2b helpers (crypto/hashing.py): domain separation by label."""

from __future__ import annotations

import pytest

from crypto import IntegrityError, hashing

LABELS = [value for name, value in vars(hashing).items() if name.startswith("LABEL_")]
KEY = bytes(range(32))


def test_labels_are_distinct_and_fit_blake2b_personalisation():
    assert len(LABELS) >= 9
    assert len(set(LABELS)) == len(LABELS)
    assert all(1 <= len(label) <= 16 for label in LABELS)


def test_each_label_gives_a_different_subkey():
    subkeys = {hashing.derive_subkey(KEY, label) for label in LABELS}
    assert len(subkeys) == len(LABELS)


def test_keyed_hash_depends_on_key_and_data():
    base = hashing.keyed_hash(KEY, b"sid", b"data")
    assert base == hashing.keyed_hash(KEY, b"sid", b"data")
    assert base != hashing.keyed_hash(bytes(32), b"sid", b"data")
    assert base != hashing.keyed_hash(KEY, b"sid", b"date")
    assert len(hashing.keyed_hash(KEY, b"sid", b"", size=4)) == 4


@pytest.mark.parametrize("label", [b"", b"x" * 17])
def test_label_outside_1_to_16_bytes_is_refused(label):
    with pytest.raises(ValueError):
        hashing.keyed_hash(KEY, label)


def test_check_tag():
    hashing.check_tag(b"same", b"same")
    with pytest.raises(IntegrityError):
        hashing.check_tag(b"same", b"sama")
    with pytest.raises(IntegrityError):
        hashing.check_tag(b"same", b"sam")
