"""Backups: one tar file with a consistent snapshot of the database and the file store.

The format (``FORMAT_VERSION`` 1) is a single uncompressed POSIX tar file, every member mode
0600 (directories 0700), owned by uid 0 with no user or group name, every time set to midnight
(UTC) of the day it was made:

``database/portal.sqlite3``
    SQLite: a copy made with SQLite's online backup API, in one step, so it is one consistent
    snapshot (WAL included) taken while the portal keeps serving;
``database/portal.dump``
    or PostgreSQL: ``pg_dump --format=custom`` (one transaction, so consistent too);
``keys/server_mac_key``, ``keys/secret_key``
    the data dir's key files, left out with ``--without-keys``;
``files/xx/<file id>``
    the encrypted file store, the ciphertext byte for byte as stored (``incoming/`` is not
    backed up: filings in progress);
``manifest.json``
    last: the format, the schema revision of the snapshot, the database kind, the day it was
    made (no time), the number of files, the size and SHA-256 of every other member, and a
    check value of each key file (an HMAC under the key itself, which says nothing of the key
    but lets a restore from a backup made ``--without-keys`` tell whether the key files put in
    the data dir are the right ones).

The database is snapshotted before the file store is copied: stored files never change, so
every file a row of the snapshot names is already in the store; a file stored after the
snapshot is an orphan without a row, and harmless. Nothing is ever decrypted: what is secret in
the database and the store stays sealed to caseworkers, the recovery key and receipts. Metadata
is not encrypted (dates at day precision, sizes, routing), so the archive should be encrypted
before it leaves the server (docs/operations.md, section 7).

A restore verifies the manifest and every member's SHA-256 before it writes anything, and goes
only into an empty installation: no portal tables in the database, no file in the store.
"""

from __future__ import annotations

from .archive import FORMAT, FORMAT_VERSION, MANIFEST, POSTGRES_MEMBER, SQLITE_MEMBER, key_check
from .create import BackupSummary, create_backup
from .database import POSTGRESQL, SQLITE, database_kind, find_pg_tool, libpq_connection
from .restore import RestoreSummary, restore_backup
from .shared import KEY_FILES, KEY_SIZE, BackupError, Say

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "KEY_FILES",
    "KEY_SIZE",
    "MANIFEST",
    "POSTGRESQL",
    "POSTGRES_MEMBER",
    "SQLITE",
    "SQLITE_MEMBER",
    "BackupError",
    "BackupSummary",
    "RestoreSummary",
    "Say",
    "create_backup",
    "database_kind",
    "find_pg_tool",
    "key_check",
    "libpq_connection",
    "restore_backup",
]
