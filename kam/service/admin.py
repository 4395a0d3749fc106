from django.contrib import admin

from .models import RootCause, SlaPolicy, SurveyTemplate


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "active", "position")
    list_editable = ("active", "position")


@admin.register(SurveyTemplate)
class SurveyTemplateAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "name_en", "ask_nps", "ask_comment", "low_rating", "low_nps")


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "tier",
        "severity",
        "clock",
        "response_minutes",
        "resolution_minutes",
        "active",
    )
