from django.contrib import admin

from .models import Industry


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "position")
    list_editable = ("position",)
    search_fields = ("code", "name_zh", "name_en")
