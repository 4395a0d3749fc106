from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    name = "kam.segmentation"
    label = "segmentation"
    verbose_name = _("Segmentation and account value")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kam.core import panels

        from . import home, views

        home.register()  # the home page's sections (kam/segmentation/home.py)

        # After the shipments panel (order 10): value, tier, forecast, reasons.
        panels.register("account", "segmentation.value", views.account_value_panel, order=20)

        # A committed import queues a run (one run for a burst of imports).
        from kam.ledger.signals import import_committed

        import_committed.connect(_run_after_import, dispatch_uid="segmentation.after_import")


def _run_after_import(sender: object, batch: object, **kwargs: object) -> None:
    from django.conf import settings

    if not settings.SEGMENT_AFTER_IMPORT:
        return
    from .services import run_enqueue

    run_enqueue(trigger="import", import_batch_id=batch.pk)  # type: ignore[attr-defined]
