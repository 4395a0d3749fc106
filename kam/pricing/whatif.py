"""The what-if of a card on an account's (or a group's) real last twelve months: the
lake's waybills of its billing codes repriced in DuckDB (``reprice.what_if``), and the
price realisation of the account's active card.

Callers start from the access selectors: this module takes accounts the user may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import duckdb
from django.db.models import QuerySet

from kam.accounts.models import Account
from kam.ledger import facts, lake
from kam.ledger import selectors as ledger
from kam.ledger.models import AccountMonth, LakeFile

from . import reprice, seasons, services, strategies
from .models import RateCard


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day of the first month
    end: dt.date  # first day of the last month

    @property
    def last_day(self) -> dt.date:
        """The last day of the last month."""
        following = (self.end.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return following - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m} – {self.end:%Y-%m}"


def last_twelve_months() -> Period | None:
    period = ledger.trailing_period()
    return Period(*period) if period else None


def _files(period: Period, codes: list[str]) -> list[str]:
    """The lake files of the months of ``period`` in which ``codes`` shipped. The monthly
    facts (``AccountMonth``, rebuilt in the transaction that names a month's files) say
    which months those are, so a month without the codes' waybills is not opened."""
    months = ledger.month_list(period.start, period.end)
    shipped = (
        AccountMonth.objects.filter(billing_code__in=codes, month__in=months)
        .values_list("month", flat=True)
        .distinct()
    )
    names = sorted({f"{m:%Y-%m}" for m in shipped})
    return list(LakeFile.objects.filter(month__in=names).values_list("path", flat=True))


#: The waybills of the chosen billing codes, on a connection from :func:`codes_waybills`.
SOURCE = "SELECT * FROM waybills WHERE billing_code IN (SELECT code FROM _codes)"


@contextmanager
def codes_waybills(
    codes: Iterable[str], period: Period | None
) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A DuckDB connection on which :data:`SOURCE` reads the lake's waybills of ``codes``
    in ``period``; None when there are no codes, no period or nothing in the lake. Only
    the files of the months the codes shipped in are opened (:func:`_files`)."""
    codes = sorted(set(codes))
    files = _files(period, codes) if period is not None and codes else []
    if not files:
        yield None
        return
    con = lake.connect()
    try:
        facts.define_waybills_view(con, files)
        con.execute("CREATE TEMP TABLE _codes (code VARCHAR)")
        con.executemany("INSERT INTO _codes VALUES (?)", [(c,) for c in codes])
        empty = con.execute(f"SELECT count(*) = 0 FROM ({SOURCE})").fetchall()[0][0]  # noqa: S608 - our SQL
        yield None if empty else con
    finally:
        con.close()


def card_what_if(
    card: RateCard,
    accounts: QuerySet[Account],
    *,
    volume_change: Decimal = Decimal("0"),
    period: Period | None = None,
    top_lanes: int = 15,
    seasons_into_period: bool = True,
) -> tuple[reprice.WhatIf, Period] | None:
    """``card`` applied to the waybills of ``accounts``' billing codes in ``period``
    (default: the ledger's last twelve months). None when there is nothing to reprice.

    A proposal's seasons of another year are applied on the same dates of the period
    (:func:`seasons.into_period`); ``seasons_into_period=False`` keeps every season on its
    own dates (the price realisation: what the card charged, when it charged it)."""
    period = period or last_twelve_months()
    with codes_waybills(ledger.codes_of_accounts(accounts), period) as con:
        if con is None or period is None:
            return None
        spec = services.card_spec(card)
        if seasons_into_period:
            spec = seasons.into_period(spec, period.start, period.last_day)
        result = reprice.what_if(
            con, spec, SOURCE, services.cost_rates(),
            volume_change=volume_change, top_lanes=top_lanes,
        )  # fmt: skip
    return result, period


def quote_accounts(account: Account | None, group_id: int | None) -> QuerySet[Account]:
    if account is not None:
        return Account.objects.filter(pk=account.pk)
    return Account.objects.filter(group_id=group_id)


#: The weight bands of a volume profile (kg): parcels, cartons, heavy parcels, freight.
PROFILE_BANDS: tuple[Decimal, ...] = (
    Decimal("0"),
    Decimal("1"),
    Decimal("3"),
    Decimal("10"),
    Decimal("30"),
)


def volume_profile(
    accounts: QuerySet[Account], list_card: RateCard, *, period: Period | None = None
) -> tuple[strategies.VolumeProfile, Period] | None:
    """The accounts' waybills of ``period`` per product, zone and weight band, with what
    the list card charges for them (the strategies' input). Waybills the list card cannot
    price are left out. None when there is nothing in the ledger."""
    period = period or last_twelve_months()
    spec = services.card_spec(list_card)
    edges = [int(b * 1000) for b in PROFILE_BANDS[1:]]
    band = (
        "CASE "
        + " ".join(f"WHEN weight_kg * 1000 < {g} THEN {i}" for i, g in enumerate(edges))
        + f" ELSE {len(edges)} END"
    )
    with codes_waybills(ledger.codes_of_accounts(accounts), period) as con:
        if con is None or period is None:
            return None
        reprice.load_card(con, spec, SOURCE)
        rows = con.execute(
            f"""SELECT product, zone, {band} AS band, count(*), sum(weight_kg),
                       sum(new_freight), sum(freight),
                       CASE WHEN count(cost) = count(*) THEN sum(cost) END
                FROM ({reprice.priced_sql(spec, SOURCE)}) WHERE priced
                GROUP BY ALL ORDER BY product, zone, band"""  # noqa: S608 - SQL of this module
        ).fetchall()
    if not rows:
        return None
    bounds = [*PROFILE_BANDS, None]
    cells = tuple(
        strategies.VolumeCell(
            product=product,
            zone=zone,
            from_kg=bounds[b],
            to_kg=bounds[b + 1],
            waybills=int(n),
            weight_kg=Decimal(weight),
            list_freight=reprice.money(Decimal(listed)),
            revenue=Decimal(charged),
            cost=Decimal(cost) if cost is not None else None,
        )  # fmt: skip
        for product, zone, b, n, weight, listed, charged, cost in rows
    )
    months = len(ledger.month_list(period.start, period.end))
    return strategies.VolumeProfile(cells, months), period
