"""What administrators keep in the admin site: the zones and the province-pair matrix,
the monthly fuel index, cost rates and competitor rates (history records each change).
Cards, quotes and guidance have pages of their own (and their access rules)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import CompetitorRate, CostRate, FuelIndex, Zone, ZonePair


@admin.register(Zone)
class ZoneAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name_zh", "name_en", "remote", "position")
    list_editable = ("remote", "position")


@admin.register(ZonePair)
class ZonePairAdmin(SimpleHistoryAdmin):
    list_display = ("origin", "destination", "zone")
    list_filter = ("zone",)
    list_editable = ("zone",)
    search_fields = ("origin", "destination")
    list_per_page = 100


@admin.register(FuelIndex)
class FuelIndexAdmin(SimpleHistoryAdmin):
    list_display = ("month", "index", "source")


@admin.register(CostRate)
class CostRateAdmin(SimpleHistoryAdmin):
    list_display = ("product", "zone", "per_waybill", "per_kg")
    list_filter = ("product", "zone")
    list_editable = ("per_waybill", "per_kg")


@admin.register(CompetitorRate)
class CompetitorRateAdmin(SimpleHistoryAdmin):
    list_display = ("competitor", "product", "zone", "first_kg", "first_price", "step_kg",
                    "step_price", "observed_on", "source")  # fmt: skip
    list_filter = ("competitor", "product", "zone")
    date_hierarchy = "observed_on"
