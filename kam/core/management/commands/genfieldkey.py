"""``kam genfieldkey``: a new key for KAM_FIELD_KEY (see docs/operations.md, key rotation)."""

from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new Fernet key for KAM_FIELD_KEY (personal data encryption)."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(Fernet.generate_key().decode("ascii"))
