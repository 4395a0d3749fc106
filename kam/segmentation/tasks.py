"""Background jobs of the segmentation app (django-tasks). Jobs take primary keys."""

from django_tasks import task

from .models import Run


@task()
def run_segmentation(run_id: int) -> int:
    """Execute a queued run; a run that already started or finished is left alone."""
    from . import services

    run = Run.objects.get(pk=run_id)
    if run.status == Run.Status.QUEUED:
        services.run_execute(run=run)
    return run_id
