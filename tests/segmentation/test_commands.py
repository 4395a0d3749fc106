"""``kam segment``: the nightly command."""

import json
from io import StringIO
from typing import Any

from django.core.management import call_command

from kam.segmentation.models import Run


def test_segment_json_summary(portfolio: Any) -> None:
    out = StringIO()
    call_command("segment", "--json", stdout=out, stderr=StringIO())
    summary = json.loads(out.getvalue())
    run = Run.objects.get()
    assert summary["run"] == run.pk and summary["status"] == "done"
    assert summary["as_of"] == "2026-06"
    assert summary["candidates"] >= 1 and summary["alerts"]["decline"] >= 1
    assert run.trigger == "nightly"


def test_segment_progress_line_and_as_of(portfolio: Any) -> None:
    out, err = StringIO(), StringIO()
    call_command("segment", "--as-of", "2026-03", "--trigger", "manual", stdout=out, stderr=err)
    assert "2026-03" in out.getvalue() and "rules v1" in out.getvalue()
    assert "facts" in err.getvalue()  # the progress line names the stages
