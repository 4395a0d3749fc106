from django.db import migrations, models


def store_totals(apps, schema_editor):  # type: ignore[no-untyped-def]
    """The unlinked codes' totals of an existing database, as ``refresh_unlinked_codes``
    computes them, so the list reads them before any rebuild."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_unlinkedcode "
            "(billing_code, waybills, revenue, first_month, last_month, months) "
            "SELECT am.billing_code, SUM(am.waybills), SUM(am.revenue), MIN(am.month), "
            "MAX(am.month), COUNT(*) FROM ledger_accountmonth am WHERE NOT EXISTS "
            "(SELECT 1 FROM accounts_billingcode bc WHERE bc.code = am.billing_code) "
            "GROUP BY am.billing_code"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_account_revenue_prev"),
    ]

    operations = [
        migrations.CreateModel(
            name="UnlinkedCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("billing_code", models.CharField(max_length=40, unique=True)),
                ("waybills", models.BigIntegerField()),
                ("revenue", models.DecimalField(decimal_places=2, max_digits=20)),
                ("first_month", models.DateField()),
                ("last_month", models.DateField()),
                ("months", models.IntegerField()),
            ],
        ),
        migrations.RunPython(store_totals, migrations.RunPython.noop),
    ]
