"""KAM's data directory (``KAM_DATA_DIR``, default ``var/``) belongs to KAM's user alone.

Everything KAM writes there holds customer data or the keys to it: the SQLite database
with its ``-wal`` and ``-shm`` files, the generated ``secret.key`` and ``field.key``,
collected static files, uploads, the Parquet lake and DuckDB's spill files. The ``kam``
command and ``kam.wsgi`` therefore set the umask to 077 before anything else (new files
0600, new directories 0700, whichever library creates them), and the settings call
:func:`private_dir`, which also tightens a ``var/`` that an older KAM left open.

No Django here: this runs before the settings exist.
"""

import os
import stat
import sys
from pathlib import Path
from typing import TextIO

#: The umask of every KAM process: no permission for group or others.
OWNER_ONLY_UMASK = 0o077


def owner_only_umask() -> int:
    """Make every file this process creates owner-only; returns the previous umask."""
    return os.umask(OWNER_ONLY_UMASK)


def is_private(path: Path) -> bool:
    """True when neither the group nor others have any permission on ``path``."""
    return path.stat().st_mode & OWNER_ONLY_UMASK == 0


def tighten(root: Path) -> tuple[int, list[Path]]:
    """Take every group and other permission off ``root`` and everything under it.

    Owner permissions are kept (a 0644 file becomes 0600, a 0755 directory 0700).
    Symbolic links are neither changed nor followed. Returns how many entries changed and
    the ones that could not be (owned by another user, say).
    """
    changed = 0
    failed: list[Path] = []

    def fix(path: Path) -> None:
        nonlocal changed
        try:
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode) or not mode & OWNER_ONLY_UMASK:
                return
            os.chmod(path, stat.S_IMODE(mode) & ~OWNER_ONLY_UMASK)
        except FileNotFoundError:  # removed meanwhile (a finished DuckDB spill file)
            return
        except OSError:
            failed.append(path)
            return
        changed += 1

    fix(root)
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            fix(Path(folder) / name)
    return changed, failed


def private_dir(path: Path, *, stream: TextIO | None = None) -> None:
    """Create ``path`` owner-only (0700), or make an existing one owner-only.

    A directory found open to others (a ``var/`` of a KAM before the umask) is tightened
    together with everything in it, once, with a line on ``stream`` (stderr) saying so;
    afterwards its own mode shows that it is done, so a start costs one ``stat``.
    A directory that cannot be tightened is reported and left; ``kam serve`` in
    production then refuses to start (:mod:`kam.core.deploy`).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        return
    if not mode & OWNER_ONLY_UMASK:
        return
    out = stream or sys.stderr
    changed, failed = tighten(path)
    out.write(
        f"KAM: {path} was open to other users (mode {stat.S_IMODE(mode):04o}); made it and "
        f"everything in it owner-only ({changed} directories and files changed).\n"
    )
    if failed:
        out.write(
            f"KAM: could not make {len(failed)} of them owner-only (another user's?), "
            f"for example {failed[0]}.\n"
        )
