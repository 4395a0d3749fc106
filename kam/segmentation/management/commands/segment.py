"""``kam segment``: run a segmentation now (what a nightly scheduler calls), with a progress
line; ``--json`` prints the run's summary as one JSON object for scripts."""

import argparse
import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kam.core.management.progress import ProgressLine
from kam.segmentation import services
from kam.segmentation.models import Run


def _month(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"a month like 2026-06 is needed, not {value!r}") from None


class Command(BaseCommand):
    help = "Run a segmentation over the monthly facts now (figures, tiers, value, alerts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            type=_month,
            default=None,
            help="last month to consider, YYYY-MM (default: the latest facts)",
        )
        parser.add_argument("--trigger", choices=["nightly", "manual"], default="nightly")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = ProgressLine(self.stderr, enabled=not options["json"])
        run = services.run_create(trigger=options["trigger"], as_of=options["as_of"])
        try:
            run = services.run_execute(
                run=run, progress=lambda stage, done, total: progress(stage, done, total)
            )
        except Exception as exc:
            progress.finish()
            raise CommandError(f"run {run.pk} failed: {exc}") from exc
        progress.finish()
        stats = run.stats
        summary = {
            "run": run.pk,
            "status": run.status,
            "as_of": f"{run.as_of:%Y-%m}" if run.as_of else None,
            "rule_set": run.rule_set.version,
            "seconds": round(run.duration_seconds or 0, 2),
            "codes": stats.get("codes", {}).get("count", 0),
            "accounts": stats.get("accounts", {}).get("count", 0),
            "groups": stats.get("groups", {}).get("count", 0),
            "top20_share": stats.get("codes", {}).get("top20_share"),
            "gini": stats.get("codes", {}).get("gini"),
            "candidates": stats.get("candidates", 0),
            "proposals": stats.get("proposals", 0),
            "alerts": stats.get("alerts", {}),
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        if run.status != Run.Status.DONE or stats.get("empty"):
            self.stdout.write(f"Run {run.pk}: no monthly facts to segment.")
            return
        self.stdout.write(
            f"Run {run.pk} ({summary['as_of']}, rules v{summary['rule_set']}) in "
            f"{summary['seconds']} s: {summary['codes']} codes, {summary['accounts']} accounts, "
            f"{summary['groups']} groups; top 20 % of codes hold {summary['top20_share']} % of "
            f"revenue (Gini {summary['gini']}); {summary['candidates']} candidates, "
            f"{summary['proposals']} tier proposals, new alerts: "
            + ", ".join(f"{k} {v}" for k, v in summary["alerts"].items())
        )
