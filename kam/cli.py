"""The ``kam`` console command: Django's management commands behind a friendly name.

``kam demo``, ``kam serve``, ``kam createuser``, ``kam token``, ``kam team`` are KAM's own
verbs; every Django command (``migrate``, ``check``, ``shell`` ...) works too.
"""

import os
import sys

from kam.core.datadir import owner_only_umask


def main() -> None:
    # First of all: the settings create var/ and its keys, and every command may write the
    # database, the lake or DuckDB's spill files there. All of it is KAM's user's alone.
    # (Files a command writes elsewhere on request, such as a reject report, are too.)
    owner_only_umask()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    from django.core.management import execute_from_command_line

    argv = ["kam", *sys.argv[1:]]
    if len(argv) == 1:
        argv.append("help")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
