"""The administration site is for system administrators: users, tokens, configuration.
Customer data is not registered here (administrators do not see it)."""

from collections import Counter
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth.admin import UserAdmin
from django.db import router
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from kam.core.models import ApiToken, CalendarDay, User


@admin.register(User)
class KamUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "email", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("KAM"), {"fields": ("role", "display_name", "phone", "manager", "base_city_code")}),
    )

    def get_deleted_objects(self, objs: Any, request: Any) -> tuple[Any, Any, Any, Any]:
        """What goes with a user, by kind and number only: the rows themselves (team
        memberships, ties, notifications, visits) name the customers the user served,
        and administrators see no customer data."""
        _to_delete, counts, perms_needed, _protected = super().get_deleted_objects(objs, request)
        collector = NestedObjects(using=router.db_for_write(self.model))
        collector.collect(list(objs))
        protected = Counter(str(o._meta.verbose_name_plural) for o in collector.protected)
        return (
            [str(o) for o in objs],
            counts,
            perms_needed,
            [f"{name}: {n}" for name, n in sorted(protected.items())],
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = ("user", "name", "prefix", "token_hash", "created_at", "last_used_at")

    def has_add_permission(self, request: object) -> bool:
        return False  # tokens are created with `kam token create`, which shows them once


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Administrators add next year's schedule here when the State Council publishes it."""

    list_display = ("day", "weekday", "working", "festival", "source")
    list_filter = ("working", "festival", "source", ("day", admin.DateFieldListFilter))
    date_hierarchy = "day"
    search_fields = ("day",)
    readonly_fields = ("source",)

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return formats.date_format(obj.day, "l")

    def save_model(self, request: Any, obj: CalendarDay, form: Any, change: bool) -> None:
        obj.source = CalendarDay.Source.ADMIN  # a re-seed never overwrites an edited day
        super().save_model(request, obj, form, change)
