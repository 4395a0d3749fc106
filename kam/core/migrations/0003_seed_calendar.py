"""Seed the working calendar from the chinese-calendar package (2004 to its release)."""

from django.db import migrations

FESTIVALS = {
    "new_years_day",
    "spring_festival",
    "tomb_sweeping_day",
    "labour_day",
    "dragon_boat_festival",
    "mid_autumn_festival",
    "national_day",
}


def seed(apps, schema_editor):  # noqa: ANN001, ARG001 - the migration signature
    import chinese_calendar

    CalendarDay = apps.get_model("core", "CalendarDay")
    keys = {h.value: h.name for h in chinese_calendar.Holiday}  # "Spring Festival" -> key
    rows = {}
    for working, table in ((False, chinese_calendar.holidays), (True, chinese_calendar.workdays)):
        for day, holiday in table.items():
            if working == (day.weekday() < 5):
                continue
            rows[day] = CalendarDay(
                day=day,
                working=working,
                festival=key if (key := keys.get(holiday, "")) in FESTIVALS else "other",
                source="package",
            )
    CalendarDay.objects.bulk_create(rows.values(), batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_calendar_day")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
