"""Encryption of personal data at rest: round trip, key rotation, bad keys."""

import datetime

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured

from kam.core import crypto
from tests.factories import ContactFactory

OLD_KEY = "Xn0t6LrM1d3fY2fG6wz8K0eUqN4r7TQpV9cB1aJ5sHk="
NEW_KEY = "p2D4w8Rk1Vb0nC6xZ3mL9qT5yH7gF2jS4aE8uW1oI0M="
PLAIN = "林志强 13912345678 围棋与茶道"


def test_encrypt_then_decrypt_gives_the_plain_text_back() -> None:
    token = crypto.encrypt(PLAIN)
    assert token != PLAIN
    assert "13912345678" not in token
    assert crypto.decrypt(token) == PLAIN


def test_the_same_text_encrypts_differently_each_time() -> None:
    assert crypto.encrypt(PLAIN) != crypto.encrypt(PLAIN)


def test_changing_the_field_keys_setting_resets_the_cached_cipher(settings) -> None:
    settings.FIELD_KEYS = [OLD_KEY]
    token = crypto.encrypt(PLAIN)
    assert Fernet(OLD_KEY.encode()).decrypt(token.encode()).decode() == PLAIN
    settings.FIELD_KEYS = [NEW_KEY]
    token = crypto.encrypt(PLAIN)
    assert Fernet(NEW_KEY.encode()).decrypt(token.encode()).decode() == PLAIN
    with pytest.raises(InvalidToken):
        Fernet(OLD_KEY.encode()).decrypt(token.encode())


def test_new_key_first_still_decrypts_tokens_of_the_old_key(settings) -> None:
    settings.FIELD_KEYS = [OLD_KEY]
    old_token = crypto.encrypt(PLAIN)
    settings.FIELD_KEYS = [NEW_KEY, OLD_KEY]
    assert crypto.decrypt(old_token) == PLAIN
    new_token = crypto.encrypt(PLAIN)
    assert Fernet(NEW_KEY.encode()).decrypt(new_token.encode()).decode() == PLAIN


def test_rotate_gives_a_token_that_decrypts_with_the_new_key_alone(settings) -> None:
    settings.FIELD_KEYS = [OLD_KEY]
    old_token = crypto.encrypt(PLAIN)
    settings.FIELD_KEYS = [NEW_KEY, OLD_KEY]
    rotated = crypto.rotate(old_token)
    settings.FIELD_KEYS = [NEW_KEY]
    assert crypto.decrypt(rotated) == PLAIN
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        crypto.decrypt(old_token)


def test_an_empty_key_list_stops_with_a_clear_message(settings) -> None:
    settings.FIELD_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="KAM_FIELD_KEY is empty"):
        crypto.encrypt(PLAIN)


def test_a_malformed_key_stops_with_a_clear_message(settings) -> None:
    settings.FIELD_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        crypto.encrypt(PLAIN)


@pytest.mark.django_db
def test_encrypted_fields_read_back_as_plain_values() -> None:
    contact = ContactFactory(hobbies="钓鱼", birthday=datetime.date(1980, 1, 31))
    contact.refresh_from_db()
    assert contact.hobbies == "钓鱼"
    assert contact.birthday == datetime.date(1980, 1, 31)
