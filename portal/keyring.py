"""Authenticates the clear values that encryption depends on (property P10).

Public keys, grants and the installation row carry a MAC under the server key kept in the data
dir, outside the database. Every read that leads to encryption or unwrapping verifies it first.
"""

from __future__ import annotations

from crypto import ServerMac

from .models import Account, Compartment, Grant, Installation


class Keyring:
    """Signs and verifies rows; raises ``crypto.IntegrityError`` on any tampered one."""

    def __init__(self, mac_key: bytes) -> None:
        self._mac = ServerMac(mac_key)

    # accounts
    def sign_account(self, account: Account) -> None:
        account.public_key_mac = self._mac.tag("account-public-key", account.id, account.public_key)

    def verify_account(self, account: Account) -> None:
        self._mac.verify(
            account.public_key_mac, "account-public-key", account.id, account.public_key
        )

    # compartments
    def sign_compartment(self, compartment: Compartment) -> None:
        compartment.public_key_mac = self._mac.tag(
            "compartment-public-key",
            compartment.id,
            compartment.case_id,
            compartment.kind,
            compartment.public_key,
        )

    def verify_compartment(self, compartment: Compartment) -> None:
        self._mac.verify(
            compartment.public_key_mac,
            "compartment-public-key",
            compartment.id,
            compartment.case_id,
            compartment.kind,
            compartment.public_key,
        )

    # grants
    def _grant_fields(self, grant: Grant) -> tuple[object, ...]:
        holder = grant.account_id.bytes if grant.account_id else b""
        return (grant.id, grant.compartment_id, grant.holder, holder, grant.wrap)

    def sign_grant(self, grant: Grant) -> None:
        grant.mac = self._mac.tag("grant", *self._grant_fields(grant))  # type: ignore[arg-type]

    def verify_grant(self, grant: Grant) -> None:
        self._mac.verify(grant.mac, "grant", *self._grant_fields(grant))  # type: ignore[arg-type]

    # the installation row
    def _installation_fields(self, row: Installation) -> tuple[bytes, bytes, bytes]:
        return (row.recovery_public_key, row.receipt_salt, row.receipt_kdf)

    def sign_installation(self, row: Installation) -> None:
        row.mac = self._mac.tag("installation", *self._installation_fields(row))

    def verify_installation(self, row: Installation) -> None:
        self._mac.verify(row.mac, "installation", *self._installation_fields(row))
