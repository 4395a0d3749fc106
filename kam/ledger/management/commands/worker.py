"""``kam worker``: run background jobs (imports) from the database queue.

The production start beside ``kam serve --no-worker``; ``kam serve`` alone starts one
for you. Options are those of django-tasks' ``db_worker`` (``--batch`` drains the queue
and exits).
"""

from django_tasks_db.management.commands.db_worker import Command as DbWorker


class Command(DbWorker):
    help = "Run KAM's background jobs (imports). `kam worker --batch` drains the queue and exits."
