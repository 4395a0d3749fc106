"""A progress line for long console commands (DESIGN.md: long work shows progress)."""

import time

from django.core.management.base import OutputWrapper


class ProgressLine:
    """Rewrites one line on a terminal; elsewhere prints a line per stage (logs stay short).

    Call it as ``progress(stage, done, total)``; :meth:`finish` ends the line.
    """

    def __init__(self, out: OutputWrapper, *, enabled: bool = True) -> None:
        self.out = out
        self.enabled = enabled
        self.tty = out.isatty()
        self.stage = ""
        self.started = time.monotonic()
        self.width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        text = f"{stage}: {done:,}/{total:,} ({elapsed:.1f} s)"
        if self.tty:
            padding = " " * max(0, self.width - len(text))
            self.out.write(f"\r{text}{padding}", ending="", style_func=_plain)
            self.out.flush()
            self.width = len(text)
        elif stage != self.stage:
            self.out.write(f"{stage} …", style_func=_plain)
        self.stage = stage

    def finish(self) -> None:
        if self.enabled and self.tty and self.width:
            self.out.write("", style_func=_plain)
            self.width = 0


def _plain(text: str) -> str:
    return text
