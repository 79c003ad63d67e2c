"""The portal's cryptography, as a small library with no Flask and no SQL in it.

High-level operations only: callers seal and open records, grants, files, receipts, sessions
and account keys; they never pick a nonce or call a primitive. See ``docs/security.md``.
"""

from .accounts import (
    AccountKeys,
    burn_password_derivation,
    create_account_keys,
    unlock_account_key,
    wrap_account_key,
    wrapped_params,
)
from .errors import CryptoError, FormatError, IntegrityError, InvalidReceiptError, WrongSecretError
from .files import (
    CHUNK_BYTES,
    FileEncryptor,
    decrypt_stream,
    encrypted_size,
    file_associated_data,
    new_file_key,
)
from .kdf import PRODUCTION, Argon2Params, derive_key, new_salt
from .keys import (
    WrapPurpose,
    generate_keypair,
    open_grant,
    public_bytes,
    seal_grant,
    unwrap_under_key,
    wrap_under_key,
)
from .mac import ServerMac, new_server_mac_key
from .receipts import (
    ReceiptKeys,
    derive_receipt_keys,
    format_receipt,
    generate_receipt,
    normalize_receipt,
)
from .records import RecordContext, open_record, seal_record
from .recovery import encode_recovery_secret, generate_recovery_key, parse_recovery_secret
from .sessions import (
    draft_lookup_id,
    new_session_token,
    open_draft,
    seal_draft,
    session_lookup_id,
    unwrap_session_key,
    wrap_session_key,
)

__all__ = [
    "CHUNK_BYTES",
    "PRODUCTION",
    "AccountKeys",
    "Argon2Params",
    "CryptoError",
    "FileEncryptor",
    "FormatError",
    "IntegrityError",
    "InvalidReceiptError",
    "ReceiptKeys",
    "RecordContext",
    "ServerMac",
    "WrapPurpose",
    "WrongSecretError",
    "burn_password_derivation",
    "create_account_keys",
    "decrypt_stream",
    "derive_key",
    "derive_receipt_keys",
    "draft_lookup_id",
    "encode_recovery_secret",
    "encrypted_size",
    "file_associated_data",
    "format_receipt",
    "generate_keypair",
    "generate_receipt",
    "generate_recovery_key",
    "new_file_key",
    "new_salt",
    "new_server_mac_key",
    "new_session_token",
    "normalize_receipt",
    "open_draft",
    "open_grant",
    "open_record",
    "parse_recovery_secret",
    "public_bytes",
    "seal_draft",
    "seal_grant",
    "seal_record",
    "session_lookup_id",
    "unlock_account_key",
    "unwrap_session_key",
    "unwrap_under_key",
    "wrap_account_key",
    "wrap_session_key",
    "wrap_under_key",
    "wrapped_params",
]
