"""Encryption of personal data at rest (MultiFernet: AES-128-CBC + HMAC-SHA256).

``settings.FIELD_KEYS`` is a list of Fernet keys: the first encrypts, every key decrypts.
Rotation (docs/operations.md): put a new key first, keep the old ones, run
``kam rotatekeys``, then drop the old keys.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_KEYS
    if not keys:
        raise ImproperlyConfigured("KAM_FIELD_KEY is empty: personal data cannot be encrypted")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "KAM_FIELD_KEY must be comma-separated Fernet keys (32 url-safe base64 bytes); "
            f"generate one with `kam genfieldkey` ({exc})"
        ) from exc


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: object) -> None:
    if setting == "FIELD_KEYS":
        _fernet.cache_clear()


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ImproperlyConfigured(
            "An encrypted field cannot be decrypted with any key in KAM_FIELD_KEY "
            "(was a key removed before `kam rotatekeys` finished?)"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token under the first key."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")
