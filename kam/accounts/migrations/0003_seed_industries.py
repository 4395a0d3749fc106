"""The industries the domain names; administrators add more in the admin."""

from django.db import migrations

INDUSTRIES = [
    ("apparel", "服装", "Apparel"),
    ("it_electronics", "IT / 电子", "IT / electronics"),
    ("trade_forwarding", "国际贸易与货代", "International trade & freight forwarding"),
    ("electromechanical", "机电设备", "Electromechanical equipment"),
    ("ecommerce", "电子商务", "E-commerce"),
    ("pharma", "医药", "Pharmaceuticals"),
    ("auto_parts", "汽车配件", "Auto parts"),
    ("fresh_food", "生鲜食品（冷链）", "Fresh food (cold chain)"),
    ("government", "政府与公共机构", "Government & public bodies"),
    ("other", "其他", "Other"),
]


def seed(apps, schema_editor):
    Industry = apps.get_model("accounts", "Industry")
    for position, (code, zh, en) in enumerate(INDUSTRIES):
        Industry.objects.update_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "position": position * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
