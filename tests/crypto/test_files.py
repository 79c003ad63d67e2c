"""Streamed file encryption (crypto/files.py): round trips, fixed chunk sizes, truncation,
extension, reordering and tampering detection, and bounded buffering."""

from __future__ import annotations

import io
import random
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings as sodium

import crypto

CHUNK = 64 * 1024
CIPHER_CHUNK = CHUNK + 17  # secretstream adds a 1-byte tag and a 16-byte MAC
HEADER = 1 + 24  # version byte + secretstream header
AD = b"file:case-42:attachment-7"


class RecordingSink(io.BytesIO):
    """A sink that remembers the size of every write it received."""

    def __init__(self) -> None:
        super().__init__()
        self.write_sizes: list[int] = []

    def write(self, data) -> int:  # type: ignore[override]
        self.write_sizes.append(len(data))
        return super().write(data)


def random_bytes(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def encrypt(data: bytes, key: bytes, ad: bytes = AD, splits: list[int] | None = None):
    sink = RecordingSink()
    encryptor = crypto.FileEncryptor(key, ad, sink)
    cuts = sorted(splits or [])
    previous = 0
    for cut in [*cuts, len(data)]:
        encryptor.write(data[previous:cut])
        previous = cut
    encryptor.finish()
    assert encryptor.plaintext_size == len(data)
    return sink.getvalue(), sink


def decrypt(blob: bytes, key: bytes, ad: bytes = AD) -> bytes:
    return b"".join(crypto.decrypt_stream(key, ad, io.BytesIO(blob)))


def chunks_of(blob: bytes) -> list[bytes]:
    body = blob[HEADER:]
    return [body[i : i + CIPHER_CHUNK] for i in range(0, len(body), CIPHER_CHUNK)]


@pytest.fixture
def key() -> bytes:
    return crypto.new_file_key()


@pytest.fixture
def three_chunk_blob(key) -> tuple[bytes, bytes]:
    data = random_bytes(2 * CHUNK + 100, seed=3)
    blob, _ = encrypt(data, key)
    assert len(chunks_of(blob)) == 3
    return data, blob


def test_chunk_size_constant_is_64_kib():
    assert crypto.CHUNK_BYTES == CHUNK


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536])
def test_file_round_trips_and_has_predicted_size(key, size):
    data = random_bytes(size, seed=size)
    blob, sink = encrypt(data, key)
    assert decrypt(blob, key) == data
    assert len(blob) == crypto.encrypted_size(size)
    assert (len(blob) - HEADER) % CIPHER_CHUNK == 0
    assert sink.write_sizes[0] == HEADER
    assert set(sink.write_sizes[1:]) == {CIPHER_CHUNK}


def test_encrypted_size_rounds_up_to_whole_chunks():
    assert crypto.encrypted_size(0) == HEADER + CIPHER_CHUNK
    assert crypto.encrypted_size(CHUNK - 1) == HEADER + CIPHER_CHUNK
    assert crypto.encrypted_size(CHUNK) == HEADER + 2 * CIPHER_CHUNK
    assert crypto.encrypted_size(5 * CHUNK + 1) == HEADER + 6 * CIPHER_CHUNK


def test_sizes_within_one_chunk_are_indistinguishable(key):
    small, _ = encrypt(b"x", key)
    large, _ = encrypt(random_bytes(CHUNK - 1), key)
    assert len(small) == len(large)


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_random_sizes_with_random_write_splits_round_trip(data):
    size = data.draw(st.integers(min_value=0, max_value=4 * CHUNK + 3), label="size")
    splits = data.draw(st.lists(st.integers(min_value=0, max_value=size), max_size=8))
    plaintext = random_bytes(size, seed=data.draw(st.integers(0, 2**32)))
    key = crypto.new_file_key()
    blob, sink = encrypt(plaintext, key, splits=splits)
    assert decrypt(blob, key) == plaintext
    assert len(blob) == crypto.encrypted_size(size)
    assert all(n == CIPHER_CHUNK for n in sink.write_sizes[1:])


@pytest.mark.parametrize("write_size", [1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_encryptor_buffers_at_most_one_chunk(key, write_size):
    """Constant memory: once more than a chunk is buffered it goes out, in chunk-sized writes."""
    sink = RecordingSink()
    encryptor = crypto.FileEncryptor(key, AD, sink)
    written = 0
    for _ in range(7):
        encryptor.write(random_bytes(write_size, seed=written))
        written += write_size
        chunks_out = len(sink.write_sizes) - 1
        assert written - chunks_out * CHUNK <= CHUNK
    encryptor.finish()
    assert sink.write_sizes[0] == HEADER
    assert max(sink.write_sizes[1:]) <= CHUNK + 17


def test_write_or_finish_after_finish_is_refused(key):
    encryptor = crypto.FileEncryptor(key, AD, io.BytesIO())
    encryptor.finish()
    with pytest.raises(ValueError):
        encryptor.write(b"late")
    with pytest.raises(ValueError):
        encryptor.finish()


def test_key_of_wrong_length_is_refused():
    with pytest.raises(ValueError):
        crypto.FileEncryptor(b"\0" * 31, AD, io.BytesIO())


def test_new_file_keys_are_random_and_32_bytes():
    assert len(crypto.new_file_key()) == 32
    assert crypto.new_file_key() != crypto.new_file_key()


def test_dropping_the_final_chunk_is_refused(key, three_chunk_blob):
    _, blob = three_chunk_blob
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob[:-CIPHER_CHUNK], key)


@pytest.mark.parametrize(
    "length",
    [0, 1, HEADER - 1, HEADER, HEADER + 1, HEADER + 100, HEADER + CIPHER_CHUNK - 1,
     HEADER + CIPHER_CHUNK + 1, HEADER + 2 * CIPHER_CHUNK + 5000, HEADER + 3 * CIPHER_CHUNK - 1],
)  # fmt: skip
def test_truncation_is_refused(key, three_chunk_blob, length):
    _, blob = three_chunk_blob
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob[:length], key)


def test_truncated_stream_yields_authenticated_chunks_then_raises(key, three_chunk_blob):
    """A caller streaming out sees good chunks first; the failure comes later and is fatal."""
    data, blob = three_chunk_blob
    stream = crypto.decrypt_stream(key, AD, io.BytesIO(blob[:-CIPHER_CHUNK]))
    assert next(stream) == data[:CHUNK]
    assert next(stream) == data[CHUNK : 2 * CHUNK]
    with pytest.raises(crypto.IntegrityError):
        next(stream)


@pytest.mark.parametrize("extra", [b"\0", b"junk after the end", None])
def test_bytes_after_the_final_chunk_are_refused(key, three_chunk_blob, extra):
    _, blob = three_chunk_blob
    appended = blob + (extra if extra is not None else chunks_of(blob)[-1])
    with pytest.raises(crypto.IntegrityError):
        decrypt(appended, key)


def test_reordered_chunks_are_refused(key, three_chunk_blob):
    _, blob = three_chunk_blob
    first, second, final = chunks_of(blob)
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob[:HEADER] + second + first + final, key)


def test_duplicated_chunk_is_refused(key, three_chunk_blob):
    _, blob = three_chunk_blob
    first, second, final = chunks_of(blob)
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob[:HEADER] + first + first + second + final, key)


@pytest.mark.parametrize(
    "position",
    [0, 1, HEADER - 1, HEADER, HEADER + 1000, HEADER + CIPHER_CHUNK - 1,
     HEADER + CIPHER_CHUNK + 7, -CIPHER_CHUNK, -17, -1],
)  # fmt: skip
def test_flipped_byte_is_refused(key, three_chunk_blob, position):
    _, blob = three_chunk_blob
    index = position % len(blob)
    tampered = blob[:index] + bytes([blob[index] ^ 0x40]) + blob[index + 1 :]
    with pytest.raises(crypto.IntegrityError):
        decrypt(tampered, key)


def test_changed_version_byte_is_a_format_error(key, three_chunk_blob):
    _, blob = three_chunk_blob
    with pytest.raises(crypto.FormatError):
        decrypt(b"\x02" + blob[1:], key)


def test_wrong_associated_data_is_refused(key, three_chunk_blob):
    _, blob = three_chunk_blob
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob, key, ad=b"file:case-42:attachment-8")


def test_wrong_key_is_refused(three_chunk_blob):
    _, blob = three_chunk_blob
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob, crypto.new_file_key())


def _handmade_stream(key: bytes, tags: list[int]) -> bytes:
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    out = bytearray(b"\x01" + header)
    for tag in tags:
        out += sodium.crypto_secretstream_xchacha20poly1305_push(state, b"\0" * CHUNK, AD, tag)
    return bytes(out)


def test_handmade_stream_properly_ended_is_accepted(key):
    """Calibrates the next tests: a hand-made stream with a padded final chunk decrypts."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    message = sodium.crypto_secretstream_xchacha20poly1305_push(
        state, b"a" * CHUNK, AD, sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
    )
    final = sodium.crypto_secretstream_xchacha20poly1305_push(
        state,
        sodium.sodium_pad(b"tail", CHUNK),
        AD,
        sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL,
    )
    assert decrypt(b"\x01" + header + message + final, key) == b"a" * CHUNK + b"tail"


def test_final_chunk_with_invalid_padding_is_refused(key):
    blob = _handmade_stream(key, [sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL])
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob, key)


@pytest.mark.parametrize("count", [1, 3])
def test_valid_stream_without_final_tag_is_refused(key, count):
    blob = _handmade_stream(key, [sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE] * count)
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob, key)


@pytest.mark.parametrize(
    "tag",
    [
        sodium.crypto_secretstream_xchacha20poly1305_TAG_PUSH,
        sodium.crypto_secretstream_xchacha20poly1305_TAG_REKEY,
    ],
)
def test_unexpected_stream_tag_is_refused(key, tag):
    blob = _handmade_stream(key, [tag])
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob, key)


def test_file_associated_data_binds_the_file_id(key):
    first, second = uuid.uuid4(), uuid.uuid4()
    assert crypto.file_associated_data(first) == crypto.file_associated_data(first)
    assert crypto.file_associated_data(first) != crypto.file_associated_data(second)
    blob, _ = encrypt(b"photo bytes", key, ad=crypto.file_associated_data(first))
    assert decrypt(blob, key, ad=crypto.file_associated_data(first)) == b"photo bytes"
    with pytest.raises(crypto.IntegrityError):
        decrypt(blob, key, ad=crypto.file_associated_data(second))
