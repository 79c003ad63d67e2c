"""Length-prefixed field encoding (crypto/encoding.py), used for associated data and wraps."""

from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import FormatError
from crypto.encoding import decode_fields, encode_fields

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FIELD = st.one_of(st.binary(max_size=64), st.text(st.characters(codec="utf-8")), INT64)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (["ab", "c"], ["a", "bc"]),
        ([b"ab", b"c"], [b"a", b"bc"]),
        (["abc"], [b"abc"]),
        ([""], [b""]),
        ([1], [(1).to_bytes(8, "big", signed=True)]),
        ([0], [bytes(8)]),
        ([1], ["1"]),
        ([], [b""]),
        (["a", ""], ["a"]),
        (["é"], [b"\xc3\xa9"]),
    ],
)
def test_encoding_is_injective_on_tricky_pairs(left, right):
    assert encode_fields(left) != encode_fields(right)


def test_uuid_encodes_as_its_16_bytes():
    value = uuid.uuid4()
    assert encode_fields([value]) == encode_fields([value.bytes])
    assert decode_fields(encode_fields([value])) == [value.bytes]


def test_encoding_layout_is_tag_length_value():
    assert encode_fields(["hi", b"\x00", 5]) == (
        b"s" + struct.pack(">I", 2) + b"hi"
        + b"b" + struct.pack(">I", 1) + b"\x00"
        + b"i" + struct.pack(">I", 8) + (5).to_bytes(8, "big")
    )  # fmt: skip


@pytest.mark.parametrize("value", [True, False, 1.5, None, ["nested"]])
def test_unencodable_values_are_refused(value):
    with pytest.raises(TypeError):
        encode_fields([value])


@settings(max_examples=50, deadline=None)
@given(st.lists(FIELD, max_size=8))
def test_decode_inverts_encode(fields):
    assert decode_fields(encode_fields(fields)) == fields


@settings(max_examples=50, deadline=None)
@given(st.lists(FIELD, max_size=6), st.lists(FIELD, max_size=6))
def test_different_field_lists_encode_differently(left, right):
    if left != right:
        assert encode_fields(left) != encode_fields(right)


def test_truncation_inside_a_field_is_a_format_error():
    fields = ["table", b"\x00\x01\x02", 42, "", "é"]
    data = encode_fields(fields)
    boundaries = {len(encode_fields(fields[:n])) for n in range(len(fields) + 1)}
    checked = 0
    for length in range(len(data)):
        if length in boundaries:
            continue
        checked += 1
        with pytest.raises(FormatError):
            decode_fields(data[:length])
    assert checked == len(data) - len(boundaries) + 1


@pytest.mark.parametrize(
    "data",
    [
        b"x" + struct.pack(">I", 0),
        b"i" + struct.pack(">I", 4) + bytes(4),
        b"s" + struct.pack(">I", 1) + b"\xff",
        b"b" + struct.pack(">I", 2**32 - 1) + b"short",
    ],
    ids=["unknown-tag", "short-int", "bad-utf8", "huge-length"],
)
def test_malformed_input_is_a_format_error(data):
    with pytest.raises(FormatError):
        decode_fields(data)
