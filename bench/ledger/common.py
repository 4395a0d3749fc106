"""What the ledger benchmark's modules share: targets, logging, memory, the KAM environment."""

import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MB = 1024 * 1024
DEFAULT_ROWS = 10_000_000
CODES = 50_000
MONTHS = 24
READ_BACK_RUNS = 50

# The targets (issue 3, "Speed and memory").
TARGET_FACT_RATIO = 1.3  # fact build / plain DuckDB GROUP BY
TARGET_IMPORT_ROWS = 100_000_000
TARGET_IMPORT_SECONDS = 180.0
TARGET_PEAK_MB = 8 * 1024
TARGET_READ_BACK_MS = 50.0

# How carriers' exports spell them (the contract maps them to express, standard, ground, cold,
# international and delivered, returned, lost, damaged).
PRODUCTS_ZH = ["特快", "标快", "陆运", "冷运", "国际"]
STATUSES_ZH = ["已签收", "退回", "丢失", "破损"]
GOODS = ["服装", "电子产品", "文件", "食品", "日用品", "医药"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- memory -----------------------------------------------------------------------------------


def _status_kb(key: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kB


def peak_kb() -> int:
    """The process's peak RSS (VmHWM) since start or since the last :func:`reset_peak`."""
    return _status_kb("VmHWM")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# --- environment -------------------------------------------------------------------------------


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    import django

    django.setup()


def kam_environment(data_dir: Path) -> dict[str, str]:
    """The KAM_* variables of a fresh, private KAM under ``data_dir``."""
    return {
        "DJANGO_SETTINGS_MODULE": "kam.settings",
        "KAM_DATA_DIR": str(data_dir),
        "KAM_LAKE_DIR": str(data_dir / "lake"),
        "KAM_DATABASE_URL": f"sqlite:///{data_dir / 'kam.sqlite3'}",
        "KAM_LOG_LEVEL": os.environ.get("KAM_LOG_LEVEL", "WARNING"),
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def migrate_quietly() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def engine_fingerprint() -> str:
    """Which engine was measured: git HEAD, and a hash of kam/ledger's code when it differs."""
    import hashlib

    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for path in sorted((root / "kam" / "ledger").rglob("*")):
        if path.suffix in (".py", ".sql") and "migrations" not in path.parts:
            digest.update(path.read_bytes())
    head = git(root, "rev-parse", "--short", "HEAD")
    changed = (
        git(root, "--no-optional-locks", "diff", "--quiet", "HEAD", "--", "kam/ledger") is None
    )
    return f"git {head or '?'}{' + uncommitted changes' if changed else ''}, kam/ledger sha256 {digest.hexdigest()[:10]}"


def git(root: Path, *args: str) -> str | None:
    """A read-only git command's output, None when it fails (or, for diff --quiet, differs)."""
    import subprocess

    try:
        done = subprocess.run(  # noqa: S603 - fixed read-only git commands, no shell
            ["git", "-C", str(root), *args],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def migrate_worker() -> None:
    django_setup()
    migrate_quietly()


def migrate_in_child(env: dict[str, str]) -> None:
    """Migrate another KAM (its settings differ from this process's, so in a child)."""
    context = multiprocessing.get_context("spawn")
    with environment(env):
        child = context.Process(target=migrate_worker)
        child.start()
    child.join()
    if child.exitcode:
        raise RuntimeError("migrating the CSV KAM failed")


def mem_total_gb() -> float:
    return meminfo_kb("MemTotal") / 1024 / 1024


def meminfo_kb(key: str) -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / MB


def version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
