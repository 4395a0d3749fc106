"""iCalendar feed tokens: only their SHA-256 is stored from now on. Existing tokens are
hashed in place, so phones already subscribed keep working; the plain column goes."""

import hashlib

from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    FeedToken = apps.get_model("coverage", "FeedToken")
    for feed in FeedToken.objects.all().only("pk", "token"):
        feed.token_hash = hashlib.sha256(feed.token.encode("utf-8")).hexdigest()
        feed.save(update_fields=["token_hash"])


def forget_tokens(apps, schema_editor):
    # A hash cannot be turned back into the secret: going back, every link is void and
    # each person makes a new one on their calendar page.
    apps.get_model("coverage", "FeedToken").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("coverage", "0001_visits_reports_follow_ups"),
    ]

    operations = [
        migrations.AddField(
            model_name="feedtoken",
            name="token_hash",
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(hash_tokens, migrations.RunPython.noop),
        migrations.RemoveField(model_name="feedtoken", name="token"),
        # Backwards, the rows go before the plain column comes back (a new secret each).
        migrations.RunPython(migrations.RunPython.noop, forget_tokens),
        migrations.AlterField(
            model_name="feedtoken",
            name="token_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
