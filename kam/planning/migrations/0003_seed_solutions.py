"""The solutions catalogue as the issue lists it (directors change it afterwards)."""

from typing import Any

from django.db import migrations

SOLUTIONS = [
    ("warehousing", "仓储", "Warehousing"),
    ("packaging", "包装", "Packaging"),
    ("consolidation", "集货拼箱", "Consolidation"),
    ("multimodal", "多式联运", "Multimodal transport"),
    ("cod", "代收货款快速回款", "COD with fast remittance"),
    ("returns", "退货与逆向物流", "Returns / reverse logistics"),
    ("cold-chain", "冷链", "Cold chain"),
    ("international", "国际快递", "International"),
    ("same-city", "同城配送", "Same-city delivery"),
    ("supply-chain", "供应链优化设计", "Supply-chain redesign"),
    ("in-house", "承接自营物流", "Taking over in-house logistics"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    Solution = apps.get_model("planning", "Solution")
    for position, (code, zh, en) in enumerate(SOLUTIONS, start=1):
        Solution.objects.get_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en, "position": position * 10}
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("planning", "Solution").objects.filter(
        code__in=[code for code, _zh, _en in SOLUTIONS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("planning", "0002_opportunities")]

    operations = [migrations.RunPython(seed, unseed)]
