"""Keyed pseudonyms and key loading."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from everyfamily.config import PrivacySettings
from everyfamily.errors import PrivacyError
from everyfamily.privacy import load_key, pseudonym


def test_pseudonym_is_hmac_sha256_prefix() -> None:
    key = b"k" * 32
    expected = hmac.new(key, b"person\x1fbirths\x1fB1", hashlib.sha256).hexdigest()[:12]
    assert pseudonym(key, "person", "births", "B1", prefix="P") == f"P-{expected.upper()}"
    assert pseudonym(key, "ab", "c", prefix="P") != pseudonym(key, "a", "bc", prefix="P")
    assert pseudonym(b"j" * 32, "x", prefix="P") != pseudonym(key, "x", prefix="P")


def test_key_from_environment_and_file(tmp_path: Path) -> None:
    settings = PrivacySettings(key_env="EF_TEST_KEY")
    assert load_key(settings, {"EF_TEST_KEY": "0123456789abcdef0123"}) == b"0123456789abcdef0123"
    f = tmp_path / "key.txt"
    f.write_text("fedcba9876543210fedcba\n")
    assert load_key(PrivacySettings(key_file=f), {}) == b"fedcba9876543210fedcba"


def test_missing_or_short_key_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(PrivacyError, match="EF_TEST_KEY is not set") as err:
        load_key(PrivacySettings(key_env="EF_TEST_KEY"), {})
    assert "\n" not in str(err.value) and "secrets.token_hex" in str(err.value)
    with pytest.raises(PrivacyError, match="shorter than 16 bytes"):
        load_key(PrivacySettings(key_env="EF_TEST_KEY"), {"EF_TEST_KEY": "short"})
    with pytest.raises(PrivacyError, match="cannot be read"):
        load_key(PrivacySettings(key_file=tmp_path / "absent.txt"), {})


def test_a_key_file_that_is_not_a_key_is_refused_without_showing_it(tmp_path: Path) -> None:
    project_file = tmp_path / "project.yaml"
    project_file.write_text("project:\n  name: Sentinelshire\n  reference_date: 2026-03-31\n")
    extract = tmp_path / "births.csv"
    extract.write_text("id,first,last\n1,Qzvellithorne,Smith\n")
    repeated = tmp_path / "word.txt"
    repeated.write_text("password" * 4)
    for path in (project_file, extract, repeated):
        with pytest.raises(PrivacyError, match="does not look like a secret key") as err:
            load_key(PrivacySettings(key_file=path), {})
        msg = str(err.value)
        assert "Sentinelshire" not in msg and "Qzvellithorne" not in msg and "password" not in msg
    with pytest.raises(PrivacyError, match="does not look like a secret key"):
        load_key(PrivacySettings(key_env="K"), {"K": "a passphrase with spaces in it"})
