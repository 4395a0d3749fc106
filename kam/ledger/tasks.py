"""Background jobs of the ledger (django-tasks). Jobs take primary keys and are idempotent."""

from django_tasks import task

from .models import ImportBatch


@task()
def run_import(batch_id: int) -> int:
    """Run a queued import. A batch that already finished is left alone."""
    from . import services

    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status == ImportBatch.Status.QUEUED:
        services.import_run(batch=batch)
    return batch_id
