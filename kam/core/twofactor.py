"""Two-factor authentication: an authenticator app (TOTP) and ten single-use recovery codes.

Built on django-otp: a confirmed ``TOTPDevice`` is the authenticator, a ``StaticDevice``
holds the recovery codes, and django-otp's middleware marks a session verified when it
holds the id of the device that checked a code (:func:`django_otp.login`). Which roles must
use it is ``KAM_TWO_FACTOR_ROLES``; the others may.

Recovery codes are stored as a hash (the first 16 hex digits of SHA-256, the width of
django-otp's token column), never as the code: a copy of the database does not give them
away, and at 79 bits a code cannot be found from its hash by trying.

After the password, a session of a user who must give a second factor is *pending*
(:data:`PENDING_KEY`); :class:`kam.core.middleware.TwoFactorMiddleware` lets a pending or
unverified-but-required session reach only the code and enrolment pages.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kam.core.models import SecurityEvent, User
from kam.core.security_events import security_event_record

#: Session key: the password was right, the second factor is still owed.
PENDING_KEY = "kam_2fa_pending"
#: Session key: recovery codes just made, shown once by the recovery-codes page.
NEW_CODES_KEY = "kam_2fa_new_codes"

RECOVERY_CODE_COUNT = 10
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read off paper without doubt
_CODE_LENGTH = 16
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def required(user: User) -> bool:
    """Whether this user's role must log in with a second factor."""
    return user.role in settings.KAM_TWO_FACTOR_ROLES


def authenticator(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if set up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def is_enrolled(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def asks_second_factor(user: User) -> bool:
    """After the password: must this user give (or first set up) a second factor?"""
    return required(user) or is_enrolled(user)


def needs_verification(request: HttpRequest) -> bool:
    """This session's user logged in with a password only and owes a second factor.

    Costs no query for a user who needs none; for the others, django-otp's middleware loads
    the device named in the session once per request."""
    user = request.user
    if not user.is_authenticated:
        return False
    if user.is_verified():
        return False
    return bool(request.session.get(PENDING_KEY)) or required(user)


# --- enrolment ----------------------------------------------------------------------------


def enrolment_start(user: User) -> TOTPDevice:
    """The authenticator being set up: the unconfirmed one already shown, or a new key."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=TOTP_NAME).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def secret_for_typing(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for apps that cannot scan the QR code."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The ``otpauth://`` URI as an SVG QR code in a ``data:`` URI (the CSP allows
    ``img-src data:``; no script draws it)."""
    qr = segno.make_qr(device.config_url, error="m")
    return str(qr.svg_data_uri(scale=5, border=2, dark="#0b3d6e"))


def enrolment_confirm(
    *, request: HttpRequest, user: User, device: TOTPDevice, code: str
) -> list[str] | None:
    """Check the first code from the new authenticator. If right: the device replaces any
    earlier one, new recovery codes are made (returned, to show once) and this session is
    verified. If wrong: ``None`` and nothing changes."""
    if not _totp_verify(device, code):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        security_event_record(by=user, user=user, kind=SecurityEvent.Kind.TWO_FACTOR_ENABLED)
    otp_login(request, device)
    request.session.pop(PENDING_KEY, None)
    return codes


# --- recovery codes -------------------------------------------------------------------------


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]+", "", code).lower()


def recovery_code_hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode("utf-8")).hexdigest()[:16]


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=recovery_code_hash(code)) for code in codes
    )
    return codes


def recovery_codes_renew(*, user: User) -> list[str]:
    """New recovery codes (the old ones stop working); returned to show once."""
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        security_event_record(by=user, user=user, kind=SecurityEvent.Kind.RECOVERY_CODES)
    return codes


# --- the code after the password -------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    """What :func:`code_verify` found: the device that accepted the code (``None``: wrong),
    whether it was a recovery code, and, when the device refuses to check for a while
    after wrong codes, the seconds to wait."""

    device: Device | None
    recovery: bool = False
    wait_seconds: int = 0


def _totp_verify(device: TOTPDevice, code: str) -> bool:
    digits = re.sub(r"\s+", "", code)
    return bool(re.fullmatch(r"\d{6}", digits)) and bool(device.verify_token(digits))


def _wait(device: Device) -> int:
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return 0
    from django.utils import timezone

    return max(1, int((data["locked_until"] - timezone.now()).total_seconds() + 0.999))


def code_verify(*, user: User, code: str) -> CodeCheck:
    """Check a code from the authenticator (six digits) or a recovery code."""
    compact = re.sub(r"[\s-]+", "", code)
    if re.fullmatch(r"\d{6}", compact):
        device = authenticator(user)
        if device is None:
            return CodeCheck(None)
        if wait := _wait(device):
            return CodeCheck(None, wait_seconds=wait)
        with transaction.atomic():
            locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            ok = locked.verify_token(compact)
        return CodeCheck(locked if ok else None)
    recovery = recovery_device(user)
    if recovery is None or len(compact) != _CODE_LENGTH:
        if recovery is not None:
            recovery.throttle_increment()
        return CodeCheck(None, recovery=True)
    if wait := _wait(recovery):
        return CodeCheck(None, recovery=True, wait_seconds=wait)
    with transaction.atomic():
        locked_static = StaticDevice.objects.select_for_update().get(pk=recovery.pk)
        ok = locked_static.verify_token(recovery_code_hash(compact))
        if ok:
            security_event_record(by=user, user=user, kind=SecurityEvent.Kind.RECOVERY_CODE_USED)
    return CodeCheck(locked_static if ok else None, recovery=True)


def session_verify(request: HttpRequest, device: Device) -> None:
    """Mark this session verified by ``device`` (django-otp's way) and no longer pending."""
    otp_login(request, device)
    request.session.pop(PENDING_KEY, None)


# --- turning it off ---------------------------------------------------------------------------


def two_factor_remove(*, user: User, by: User) -> int:
    """Delete the user's authenticator and recovery codes. ``by`` the user themself (only
    where it is optional: the view checks) or an administrator (a lost phone: the user sets
    it up again at the next login). Returns the devices removed."""
    with transaction.atomic():
        removed = int(TOTPDevice.objects.filter(user=user).count())
        removed += int(StaticDevice.objects.filter(user=user).count())
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()  # and its codes
        kind = (
            SecurityEvent.Kind.TWO_FACTOR_REMOVED
            if by.pk == user.pk
            else SecurityEvent.Kind.TWO_FACTOR_RESET
        )
        security_event_record(by=by, user=user, kind=kind)
    return removed
