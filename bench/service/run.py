"""The SLA clock benchmark: N case events against the working calendar, vectorised clock
versus the naive minute-by-minute baseline, in one run.

Each synthetic case has four events (opened, waiting for customer, resumed, resolved), so
1,000,000 events are 250,000 cases with two running segments each, spread over 2024-2026
(Spring Festivals, National Days, make-up working days, nights and weekends). For every
case the benchmark computes the business minutes used until resolution and the instant the
resolution target (and its 50 % / 80 % warnings) fell due, with business hours 09:00-18:00
China Standard Time.

The naive baseline walks minute by minute, so it runs on a random sample of cases
(``--sample``); its time per case is extrapolated, and its results are compared with the
vectorised ones on exactly that sample (they must be identical).

``python -m bench.service`` (1,000,000 events) or ``--events 20000`` for a quick run.
"""

import argparse
import datetime
import time

import chinese_calendar
import numpy as np

from kam.core.workcal import WorkingCalendar, weekday_rule
from kam.service import clock as c

TARGET_RATIO = 100
SHARES = (50, 80, 100)


def working_calendar() -> WorkingCalendar:
    exceptions: dict[datetime.date, bool] = {}
    for working, table in ((False, chinese_calendar.holidays), (True, chinese_calendar.workdays)):
        for day in table:
            if working != weekday_rule(day):
                exceptions[day] = working
    return WorkingCalendar(exceptions=exceptions, known_years=frozenset(exceptions and
                           {d.year for d in exceptions}))  # fmt: skip


def synthetic(cases: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    start = c.to_minute(datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    span = 3 * 365 * 1440 - 30 * 1440
    opened = start + rng.integers(0, span, cases)
    paused = opened + rng.integers(10, 3 * 1440, cases)
    resumed = paused + rng.integers(10, 4 * 1440, cases)
    resolved = resumed + rng.integers(10, 5 * 1440, cases)
    target = rng.choice(np.array([4, 8, 16, 24], dtype=np.int64) * 60, cases)
    case = np.repeat(np.arange(cases, dtype=np.int64), 2)
    seg_start = np.column_stack([opened, resumed]).ravel()
    seg_end = np.column_stack([paused, resolved]).ravel()
    return {"case": case, "start": seg_start, "end": seg_end, "at": resolved, "target": target}


def vectorised(clock: c.Clock, d: dict[str, np.ndarray], cases: int) -> dict[str, np.ndarray]:
    out = {"elapsed": c.elapsed_many(clock, d["case"], d["start"], d["end"], d["at"], cases)}
    for share in SHARES:
        out[f"due{share}"] = c.due_many(
            clock, d["case"], d["start"], d["end"], d["target"] * share // 100, cases
        )
    return out


def naive(clock: c.Clock, d: dict[str, np.ndarray], picks: np.ndarray) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"elapsed": [], **{f"due{s}": [] for s in SHARES}}
    for i in picks:
        segs = [(int(d["start"][2 * i]), int(d["end"][2 * i])),
                (int(d["start"][2 * i + 1]), int(d["end"][2 * i + 1]))]  # fmt: skip
        out["elapsed"].append(c.naive_elapsed(clock, segs, int(d["at"][i])))
        for share in SHARES:
            due = c.naive_due(clock, segs, int(d["target"][i]) * share // 100)
            out[f"due{share}"].append(-1 if due is None else due)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="case events (4 per case)")
    parser.add_argument("--sample", type=int, default=300, help="cases the naive baseline runs")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    cases = max(1, args.events // 4)
    cal = working_calendar()

    t0 = time.perf_counter()
    clock = c.Clock(cal.is_working, start=9 * 60, end=18 * 60,
                    first=datetime.date(2023, 1, 1), last=datetime.date(2027, 12, 31))  # fmt: skip
    build = time.perf_counter() - t0
    data = synthetic(cases, args.seed)

    t0 = time.perf_counter()
    fast = vectorised(clock, data, cases)
    fast_time = time.perf_counter() - t0

    picks = np.random.default_rng(args.seed + 1).choice(
        cases, min(args.sample, cases), replace=False
    )
    t0 = time.perf_counter()
    slow = naive(clock, data, picks)
    slow_time = time.perf_counter() - t0

    identical = all(fast[k][picks].tolist() == v for k, v in slow.items())
    fast_per_case = fast_time / cases
    slow_per_case = slow_time / len(picks)
    ratio = slow_per_case / fast_per_case
    print("# SLA clock benchmark (issue 6)\n")
    print(f"{cases * 4:,} case events = {cases:,} cases x 4 events (opened, waiting for "
          "customer, resumed, resolved); business hours 09:00-18:00 CST on China's working "
          "calendar 2024-2026; per case: business minutes used and the due instants at "
          "50 %, 80 % and 100 % of the target.\n")  # fmt: skip
    print("| method | cases | total | per case |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| calendar table (5 years, once) | | {build * 1000:.1f} ms | |")
    print(
        f"| vectorised clock (numpy) | {cases:,} | {fast_time:.3f} s | {fast_per_case * 1e6:.2f} µs |"
    )
    print(f"| naive minute by minute (sample) | {len(picks):,} | {slow_time:.3f} s | "
          f"{slow_per_case * 1e6:,.0f} µs |")  # fmt: skip
    print(f"| naive, extrapolated to all cases | {cases:,} | {slow_per_case * cases:,.0f} s | |")
    print()
    print(f"ratio (naive per case / vectorised per case): {ratio:,.0f}x "
          f"(target >= {TARGET_RATIO}x: {'PASS' if ratio >= TARGET_RATIO else 'MISS'})")  # fmt: skip
    print(f"identical results on the {len(picks):,} sampled cases: "
          f"{'yes' if identical else 'NO'} (the naive baseline runs on a random sample and is "
          "extrapolated per case)")  # fmt: skip
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
