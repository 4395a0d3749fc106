from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user does; :mod:`kam.core.access` says what each role may see."""

    DIRECTOR = "director", _("Director")
    DEPARTMENT = "department", _("Key-account department")
    MANAGER = "manager", _("Account manager")
    SERVICE = "service", _("Service representative")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("System administrator")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MANAGER)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    manager = models.ForeignKey(
        "self",
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    #: Where the person works from (GB/T 2260 city code): account assignment puts a
    #: manager's accounts in this territory and visit plans start their days here.
    base_city_code = models.CharField(
        _("base city"),
        max_length=6,
        blank=True,
        help_text=_("The city this person works from (GB/T 2260 code, e.g. 440300)."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for programs. Only a SHA-256 hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AccessLog(models.Model):
    """Append-only: who read, exported, changed or erased whose personal data, and when."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")
        EDIT = "edit", _("Edited")
        ERASE = "erase", _("Erased")

    class Channel(models.TextChoices):
        WEB = "web", _("Web page")
        API = "api", _("API")
        CLI = "cli", _("Command line")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    username = models.CharField(_("user name"), max_length=150)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    subject_type = models.CharField(_("subject type"), max_length=30)
    subject_id = models.BigIntegerField(_("subject id"))
    subject_label = models.CharField(_("whose"), max_length=200)
    account_id = models.BigIntegerField(_("account id"), null=True, db_index=True)
    fields = models.JSONField(_("fields"), default=list)
    path = models.CharField(_("path"), max_length=300, blank=True)
    # Where the request came from (kam.core.requestcontext); empty on the command line.
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.subject_label}"


class Festival(models.TextChoices):
    """The public holidays of the State Council's schedule (and "other" for one-offs)."""

    NEW_YEAR = "new_years_day", _("New Year's Day")
    SPRING_FESTIVAL = "spring_festival", _("Spring Festival")
    TOMB_SWEEPING = "tomb_sweeping_day", _("Qingming Festival")
    LABOUR_DAY = "labour_day", _("Labour Day")
    DRAGON_BOAT = "dragon_boat_festival", _("Dragon Boat Festival")
    MID_AUTUMN = "mid_autumn_festival", _("Mid-Autumn Festival")
    NATIONAL_DAY = "national_day", _("National Day")
    OTHER = "other", _("Other")


class CalendarDay(models.Model):
    """A day that the State Council's schedule makes different from the weekday rule.

    ``working=False``: a day off (a public holiday, or a weekday given off around one);
    ``working=True``: a make-up working day (调休上班), usually a weekend day. Days not listed
    follow Monday-to-Friday. Seeded from the ``chinese-calendar`` package by a migration and
    ``kam calendar seed``; administrators add next year's days when they are published.
    :func:`kam.core.selectors.working_calendar` turns these rows into a
    :class:`kam.core.workcal.WorkingCalendar`.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", _("chinese-calendar package")
        ADMIN = "admin", _("Administrator")

    day = models.DateField(_("day"), unique=True)
    working = models.BooleanField(
        _("working day"), help_text=_("Ticked for a make-up working day, clear for a day off.")
    )
    festival = models.CharField(
        _("holiday"), max_length=30, choices=Festival.choices, default=Festival.OTHER
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.ADMIN
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("working calendar")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.get_festival_display()}"


class Notification(models.Model):
    """A message to one user in the product (the bell in the navigation bar).

    Written by :func:`kam.core.notify.notify`, which also sends it by e-mail. ``kind`` is a
    short machine key of the sending app (e.g. ``coverage.overdue``) for filtering."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=60, blank=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.subject


class UserSession(models.Model):
    """A signed-in browser session, so that its user (or an administrator) can see and end it.

    Written at login and removed at logout (:mod:`kam.core.usersessions`); the session data
    itself stays in Django's session store, keyed by ``session_key``. Ending a session
    deletes it from the store, so its next request is logged out."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="login_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("signed in"))
    last_active_at = models.DateTimeField(_("last active"))
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-last_active_at", "-id"]
        indexes = [models.Index(fields=["user", "expires_at"], name="usersession_user_expiry")]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class SecurityEvent(models.Model):
    """Append-only: changes to how someone logs in (second factor, sessions, lockouts)."""

    class Kind(models.TextChoices):
        TWO_FACTOR_ENABLED = "2fa_enabled", _("Two-factor authentication set up")
        TWO_FACTOR_REMOVED = "2fa_removed", _("Two-factor authentication turned off")
        TWO_FACTOR_RESET = "2fa_reset", _("Two-factor authentication reset by an administrator")
        RECOVERY_CODES = "recovery_codes", _("New recovery codes")
        RECOVERY_CODE_USED = "recovery_code_used", _("Logged in with a recovery code")
        SESSION_ENDED = "session_ended", _("Session ended")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        UNLOCKED = "unlocked", _("Lockout lifted")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        related_name="security_events",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    kind = models.CharField(_("event"), max_length=30, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.kind}"
