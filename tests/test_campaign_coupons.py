"""Coupon codes: keyed, stable, unguessable; typed or scanned codes are normalised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from entitle.decide.coupons import ALPHABET, coupon_key, make_code, normalise

KEY = bytes(range(32))


def test_codes_are_stable_per_subject_and_period_and_depend_on_the_key() -> None:
    code = make_code(KEY, "garbage-bags", "2026", "subject-1")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)
    assert code == make_code(KEY, "garbage-bags", "2026", "subject-1")
    others = {
        make_code(KEY, "garbage-bags", "2027", "subject-1"),
        make_code(KEY, "garbage-bags", "2026", "subject-2"),
        make_code(KEY, "lez", "2026", "subject-1"),
        make_code(bytes(32), "garbage-bags", "2026", "subject-1"),
    }
    assert code not in others and len(others) == 4
    many = {make_code(KEY, "c", "2026", f"s{i}") for i in range(20000)}
    assert len(many) == 20000


def test_typed_and_scanned_codes_are_normalised() -> None:
    code = make_code(KEY, "garbage-bags", "2026", "subject-1")
    raw = code.replace("-", "")
    assert normalise(raw.lower()) == code
    assert normalise(f" {raw[:8]} {raw[8:]} ") == code
    assert normalise(f"https://stad.gent/bon/{code}") == code
    assert normalise(code.replace("0", "O").replace("1", "I")) == code
    assert normalise("ABCD") is None and normalise(code + "X") is None
    assert set(ALPHABET) & set("ILOU") == set()


def test_the_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "state" / "coupon.key"
    key = coupon_key(path)
    assert len(key) == 32 and coupon_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_text("00", encoding="utf-8")
    with pytest.raises(ValueError):
        coupon_key(path)
