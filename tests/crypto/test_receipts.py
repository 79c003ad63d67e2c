"""Receipts (crypto/receipts.py): format, Damm check digit, normalisation of what people type,
and key derivation."""

from __future__ import annotations

import random
import re
import uuid

import pytest

import crypto
from crypto import WrapPurpose, receipts

CHEAP = crypto.Argon2Params(memory_kib=1024, time_cost=1)
SALT = bytes(range(16))
EASTERN_ARABIC = "٠١٢٣٤٥٦٧٨٩"
PERSIAN = "۰۱۲۳۴۵۶۷۸۹"


def sample_receipts(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        body = "".join(rng.choice("0123456789") for _ in range(19))
        out.append(body + receipts.damm_digit(body))
    return out


def to_script(receipt: str, digits: str) -> str:
    return "".join(digits[int(ch)] for ch in receipt)


def test_receipt_length_and_entropy_constants():
    assert receipts.RECEIPT_DIGITS == 20
    assert receipts.RANDOM_DIGITS == 19


def test_generated_receipt_is_20_ascii_digits_that_validate():
    for _ in range(50):
        receipt = crypto.generate_receipt()
        assert re.fullmatch(r"[0-9]{20}", receipt)
        assert crypto.normalize_receipt(receipt) == receipt


def test_generated_receipt_draws_19_random_digits_and_keeps_leading_zeros(monkeypatch):
    bounds = []

    def fake_randbelow(bound: int) -> int:
        bounds.append(bound)
        return 7

    monkeypatch.setattr(receipts.secrets, "randbelow", fake_randbelow)
    receipt = crypto.generate_receipt()
    assert bounds == [10**19]
    assert receipt[:19] == "0" * 18 + "7"
    assert receipt[19] == receipts.damm_digit(receipt[:19])


def test_every_random_position_varies():
    generated = [crypto.generate_receipt() for _ in range(300)]
    for position in range(19):
        assert len({r[position] for r in generated}) >= 5, position


def test_format_gives_five_groups_of_four():
    receipt = crypto.generate_receipt()
    formatted = crypto.format_receipt(receipt)
    assert re.fullmatch(r"[0-9]{4}( [0-9]{4}){4}", formatted)
    assert formatted.replace(" ", "") == receipt


def test_damm_digit_known_vector():
    assert receipts.damm_digit("572") == "4"
    assert receipts.damm_digit("") == "0"


@pytest.mark.parametrize("receipt", sample_receipts(20))
def test_every_single_digit_substitution_is_detected(receipt):
    assert crypto.normalize_receipt(receipt) == receipt
    for position in range(20):
        for digit in "0123456789":
            if digit == receipt[position]:
                continue
            typo = receipt[:position] + digit + receipt[position + 1 :]
            with pytest.raises(crypto.InvalidReceiptError):
                crypto.normalize_receipt(typo)


@pytest.mark.parametrize("receipt", sample_receipts(20, seed=11))
def test_every_adjacent_transposition_is_detected(receipt):
    swapped_any = False
    for position in range(19):
        a, b = receipt[position], receipt[position + 1]
        if a == b:
            continue
        swapped_any = True
        typo = receipt[:position] + b + a + receipt[position + 2 :]
        with pytest.raises(crypto.InvalidReceiptError):
            crypto.normalize_receipt(typo)
    assert swapped_any


@pytest.mark.parametrize(
    "render",
    [
        crypto.format_receipt,
        lambda r: "-".join(r[i : i + 4] for i in range(0, 20, 4)),
        lambda r: "  " + " - ".join(r[i : i + 4] for i in range(0, 20, 4)) + " ",
        lambda r: to_script(r, EASTERN_ARABIC),
        lambda r: to_script(r, PERSIAN),
        lambda r: crypto.format_receipt(to_script(r, EASTERN_ARABIC)),
        lambda r: to_script(r[:10], PERSIAN) + "-" + to_script(r[10:], EASTERN_ARABIC),
        lambda r: r[:10] + " " + to_script(r[10:], PERSIAN),
    ],
    ids=["spaces", "dashes", "padded", "arabic", "persian", "arabic-spaced", "mixed", "latin-fa"],
)
def test_normalize_accepts_what_people_type(render):
    for receipt in sample_receipts(5, seed=3):
        assert crypto.normalize_receipt(render(receipt)) == receipt


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r[:19],
        lambda r: r + "0",
        lambda r: r[:5] + "A" + r[6:],
        lambda r: r[:19] + "x",
        lambda r: "",
        lambda r: r[:19] + str((int(r[19]) + 1) % 10),
    ],
    ids=["19-digits", "21-digits", "letter-inside", "letter-at-end", "empty", "wrong-check"],
)
def test_normalize_rejects_malformed_receipts(mutate):
    for receipt in sample_receipts(5, seed=5):
        with pytest.raises(crypto.InvalidReceiptError):
            crypto.normalize_receipt(mutate(receipt))


def test_21_digit_number_that_checks_to_zero_is_still_rejected():
    body = sample_receipts(1)[0]
    longer = body + receipts.damm_digit(body)  # 21 digits, Damm-valid
    assert receipts.damm_digit(longer) == "0"
    with pytest.raises(crypto.InvalidReceiptError):
        crypto.normalize_receipt(longer)


def test_derivation_is_deterministic():
    receipt = crypto.generate_receipt()
    first = crypto.derive_receipt_keys(receipt, SALT, CHEAP)
    second = crypto.derive_receipt_keys(receipt, SALT, CHEAP)
    assert first == second
    assert len(first.lookup_token) == 32
    assert len(first.public_key) == 32


def test_derivation_depends_on_salt_and_receipt():
    receipt, other = sample_receipts(2, seed=9)
    base = crypto.derive_receipt_keys(receipt, SALT, CHEAP)
    salted = crypto.derive_receipt_keys(receipt, bytes(16), CHEAP)
    different = crypto.derive_receipt_keys(other, SALT, CHEAP)
    assert salted.lookup_token != base.lookup_token
    assert salted.public_key != base.public_key
    assert different.lookup_token != base.lookup_token


def test_lookup_token_is_neither_half_of_the_key_pair():
    keys = crypto.derive_receipt_keys(crypto.generate_receipt(), SALT, CHEAP)
    assert keys.lookup_token not in (keys.public_key, bytes(keys.private_key))


def test_spaced_unspaced_and_arabic_receipts_give_the_same_keys():
    receipt = crypto.generate_receipt()
    plain = crypto.derive_receipt_keys(receipt, SALT, CHEAP)
    assert crypto.derive_receipt_keys(crypto.format_receipt(receipt), SALT, CHEAP) == plain
    assert crypto.derive_receipt_keys(to_script(receipt, EASTERN_ARABIC), SALT, CHEAP) == plain


def test_typo_is_refused_before_any_key_derivation(monkeypatch):
    calls = []
    monkeypatch.setattr(receipts, "derive_key", lambda *args: calls.append(args))
    receipt = crypto.generate_receipt()
    typo = receipt[:19] + str((int(receipt[19]) + 1) % 10)
    with pytest.raises(crypto.InvalidReceiptError):
        crypto.derive_receipt_keys(typo, SALT, CHEAP)
    assert calls == []


def test_receipt_key_pair_opens_the_case_compartment_only_with_the_right_receipt():
    case_key, case_id = crypto.generate_keypair(), uuid.uuid4()
    receipt = crypto.generate_receipt()
    keys = crypto.derive_receipt_keys(receipt, SALT, CHEAP)
    wrap = crypto.seal_grant(case_key, case_id, keys.public_key, WrapPurpose.RECEIPT)
    typed = crypto.derive_receipt_keys(crypto.format_receipt(receipt), SALT, CHEAP)
    opened = crypto.open_grant(
        wrap, typed.private_key, case_id, crypto.public_bytes(case_key), WrapPurpose.RECEIPT
    )
    assert bytes(opened) == bytes(case_key)
    wrong = crypto.derive_receipt_keys(crypto.generate_receipt(), SALT, CHEAP)
    with pytest.raises(crypto.IntegrityError):
        crypto.open_grant(
            wrap, wrong.private_key, case_id, crypto.public_bytes(case_key), WrapPurpose.RECEIPT
        )
