import datetime

from django.db import migrations, models


def store_figures(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Both figures of an existing database, as ``refresh_revenue_12m`` computes them (the
    12 months ending with the lake's last month, and the 12 before), so the home page's book
    of business reads them before any rebuild."""
    apps.get_model("ledger", "AccountRevenue").objects.all().delete()
    last = apps.get_model("ledger", "LakeFile").objects.aggregate(last=models.Max("month"))["last"]
    if not last:
        return
    end = datetime.date(int(last[:4]), int(last[5:7]), 1)

    def months_back(n: int) -> datetime.date:
        index = end.year * 12 + end.month - 1 - n
        return datetime.date(index // 12, index % 12 + 1, 1)

    start, prev_start = months_back(11), months_back(23)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_accountrevenue (account_id, as_of, revenue, revenue_prev) "
            "SELECT bc.account_id, %s, "
            "SUM(CASE WHEN am.month >= %s THEN am.revenue ELSE 0 END), "
            "SUM(CASE WHEN am.month < %s THEN am.revenue ELSE 0 END) "
            "FROM ledger_accountmonth am JOIN accounts_billingcode bc ON bc.code = am.billing_code "
            "WHERE am.month >= %s AND am.month <= %s GROUP BY bc.account_id",
            [end, start, start, prev_start, end],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_account_revenue"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountrevenue",
            name="revenue_prev",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=20),
        ),
        migrations.RunPython(store_figures, migrations.RunPython.noop),
    ]
