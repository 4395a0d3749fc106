"""The planner with a road model: days a person can drive (pure, no database)."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.core.workcal import WorkingCalendar
from kam.coverage.geo import Travel, city_coordinates, haversine_km
from kam.coverage.planner import (
    NO_CAPACITY,
    TOO_FAR,
    AccountIn,
    base_cities,
    check_capacity,
    check_travel,
    plan_visits,
)

MONDAY = datetime.date(2026, 7, 6)
WEEKDAYS = WorkingCalendar()
COORDS = city_coordinates()
# The issue's day: 锦州, 金华, 烟台 and 邵阳; and cities near 杭州.
JINZHOU, JINHUA, YANTAI, SHAOYANG = "210700", "330700", "370600", "430500"
HANGZHOU, SHAOXING, JIAXING, HUZHOU = "330100", "330600", "330400", "330500"


def test_coordinates_come_from_the_package_for_every_prefecture_code() -> None:
    assert len(COORDS) > 330
    lat, lon = COORDS[HANGZHOU]
    assert 29.5 < lat < 31 and 119.5 < lon < 121
    # Beijing to Shanghai is about 1,070 km as the crow flies.
    assert 1000 < haversine_km(COORDS["110100"], COORDS["310100"]) < 1150
    assert "370000" not in COORDS  # a province is not a place to drive to
    assert "540600" in COORDS  # 那曲市: not listed as a city, placed by its districts


def test_road_time_is_great_circle_times_the_road_factor_over_the_speed() -> None:
    travel = Travel({"a": (30.0, 120.0), "b": (30.0, 121.0)}, road_factor=1.5, speed_kmh=50)
    km = haversine_km((30.0, 120.0), (30.0, 121.0))
    assert travel.road_km("a", "b") == pytest.approx(km * 1.5)
    assert travel.minutes(travel.road_km("a", "b")) == pytest.approx(km * 1.5 / 50 * 60)
    assert travel.tour_km("a", ["b", "b"]) == pytest.approx(2 * km * 1.5)
    assert travel.tour_km(None, ["a", "b"]) == pytest.approx(km * 1.5)  # no base: a path
    with pytest.raises(ValueError, match="road_factor"):
        Travel({}, road_factor=0.5)


def test_the_issues_four_cities_never_share_a_day() -> None:
    # Before: the planner without travel put 锦州, 金华, 烟台 and 邵阳 on one day.
    accounts = [AccountIn(i, 1, cadence_days=7, value=10 - i, city=c)
                for i, c in enumerate([JINZHOU, JINHUA, YANTAI, SHAOYANG])]  # fmt: skip
    old = plan_visits(accounts, {1: 4}, MONDAY, 1, WEEKDAYS.is_working)
    assert len({v.day for v in old.visits}) == 1  # what the issue saw
    travel = Travel(COORDS, base={1: JINHUA})
    new = plan_visits(accounts, {1: 4}, MONDAY, 1, WEEKDAYS.is_working, travel)
    assert check_travel(new, {1: 4}, travel, {1: JINHUA}) == []
    assert check_travel(old, {1: 4}, travel, {1: JINHUA}) != []
    # From 金华 the others are beyond a day trip: each gets a trip of its own (out on one
    # day, a night there, back the next), never a day shared with another city.
    assert len({v.day for v in new.visits}) == len(new.visits) == 3  # 5 days: 1 + 2 + 2
    away = [r for r in new.routes if r.cities != (JINHUA,)]
    assert {(r.start, r.end) for r in away} == {
        (JINHUA, JINZHOU), (JINZHOU, JINHUA), (JINHUA, YANTAI), (YANTAI, JINHUA)
    }  # fmt: skip
    assert [u.account for u in new.unserved] == [3]  # 邵阳: no two free days left


def test_a_city_beyond_even_a_trip_is_reported_too_far() -> None:
    # One visit a day: the journey from 金华 to 锦州 alone takes the day it arrives.
    travel = Travel(COORDS, base={1: JINHUA})
    plan = plan_visits([AccountIn(1, 1, cadence_days=7, city=JINZHOU)], {1: 1}, MONDAY, 1,
                       WEEKDAYS.is_working, travel)  # fmt: skip
    assert [u.reason for u in plan.unserved] == [TOO_FAR] and not plan.visits


def test_long_legs_go_by_rail_or_air_when_faster() -> None:
    travel = Travel(COORDS)
    # 杭州-绍兴 by road; 北京-上海 (1,070 km) by air: 180 + 1,070 / 700 h.
    assert travel.leg_minutes(HANGZHOU, SHAOXING) == pytest.approx(
        travel.minutes(travel.road_km(HANGZHOU, SHAOXING))
    )
    gc = haversine_km(COORDS["110100"], COORDS["310100"])
    assert travel.leg_minutes("110100", "310100") == pytest.approx(180 + gc / 700 * 60)


def test_a_day_is_one_city_or_neighbours_and_the_road_takes_capacity() -> None:
    # Base 杭州, capacity 3 (160 min a visit). 绍兴 is ~56 km off: the round trip (~96 min)
    # costs one visit, so a day there holds two.
    travel = Travel(COORDS, base={1: HANGZHOU})
    accounts = [AccountIn(i, 1, cadence_days=7, value=1, city=SHAOXING) for i in range(3)]
    plan = plan_visits(accounts, {1: 3}, MONDAY, 1, lambda d: d == MONDAY, travel)
    assert len(plan.visits) == 2
    assert [u.reason for u in plan.unserved] == [NO_CAPACITY]
    (route,) = plan.routes
    assert route.cities == (SHAOXING,) and route.km == pytest.approx(
        2 * travel.road_km(HANGZHOU, SHAOXING)
    )
    # In the base city itself the road costs nothing: all three fit.
    home = [AccountIn(i, 1, cadence_days=7, city=HANGZHOU) for i in range(3)]
    assert len(plan_visits(home, {1: 3}, MONDAY, 1, lambda d: d == MONDAY, travel).visits) == 3


def test_visits_start_from_the_base_city_given_else_where_most_accounts_are() -> None:
    accounts = [AccountIn(1, 1, 7, city=HANGZHOU), AccountIn(2, 1, 7, city=HANGZHOU),
                AccountIn(3, 1, 7, city=SHAOXING), AccountIn(4, 2, 7, city=JIAXING)]  # fmt: skip
    assert base_cities(accounts, Travel(COORDS)) == {1: HANGZHOU, 2: JIAXING}
    assert base_cities(accounts, Travel(COORDS, base={1: HUZHOU}))[1] == HUZHOU
    # A base without coordinates falls back to the accounts' city.
    assert base_cities(accounts, Travel(COORDS, base={1: "999900"}))[1] == HANGZHOU


def test_cities_without_coordinates_get_days_of_their_own_and_are_listed() -> None:
    travel = Travel(COORDS, base={1: HANGZHOU})
    accounts = [AccountIn(1, 1, 7, city="999900"), AccountIn(2, 1, 7, city=HANGZHOU),
                AccountIn(3, 1, 7, city="")]  # fmt: skip
    plan = plan_visits(accounts, {1: 3}, MONDAY, 1, WEEKDAYS.is_working, travel)
    assert len(plan.visits) == 3 and plan.unknown_cities == ["", "999900"]
    days = {v.account: v.day for v in plan.visits}
    assert len(set(days.values())) == 3
    assert check_travel(plan, {1: 3}, travel, {1: HANGZHOU}) == []


NEAR_HANGZHOU = [HANGZHOU, SHAOXING, JIAXING, HUZHOU, JINHUA, "330200", "320500", "310100",
                 JINZHOU, "999900"]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from([3, 7, 14, 30]), st.sampled_from(NEAR_HANGZHOU),
                  st.integers(0, 2), st.integers(0, 20)),
        min_size=1, max_size=40,
    ),
    capacity=st.integers(1, 5),
    weeks=st.integers(1, 3),
    hop=st.sampled_from([0.0, 60.0, 90.0, 240.0]),
)  # fmt: skip
def test_every_day_can_be_driven_and_every_window_is_kept(
    rows: list[tuple[int, str, int, int]], capacity: int, weeks: int, hop: float
) -> None:
    accounts = [
        AccountIn(i, person, cadence_days=c, value=float(i % 7), city=city,
                  last_visit=MONDAY - datetime.timedelta(days=ago), priority=i % 11 == 0)
        for i, (c, city, person, ago) in enumerate(rows)
    ]  # fmt: skip
    caps = {0: capacity, 1: capacity, 2: max(1, capacity - 1)}
    travel = Travel(COORDS, base={0: HANGZHOU, 1: SHAOXING}, hop_minutes=hop)
    plan = plan_visits(accounts, caps, MONDAY, weeks, WEEKDAYS.is_working, travel)
    assert check_capacity(plan, caps)
    assert check_travel(plan, caps, travel, base_cities(accounts, travel)) == []
    assert len(plan.visits) + len(plan.unserved) == plan.due
    cadence = {a.id: a.cadence_days for a in accounts}
    for visit in plan.visits:
        assert WEEKDAYS.is_working(visit.day)
        assert visit.due <= visit.day < visit.due + datetime.timedelta(days=cadence[visit.account])
    assert plan.km == pytest.approx(sum(r.km for r in plan.routes))
