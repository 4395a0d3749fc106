"""The seeded generator behind ``kam demo`` (see :mod:`kam.accounts.demo`).

It builds unsaved model instances that refer to each other as objects; nothing here
writes to the database (it reads the industries). Only values the models accept are
produced, because the bulk inserts that follow skip ``full_clean()``.
"""

import datetime
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from faker import Faker
from pypinyin import lazy_pinyin

from kam.core import creditcode, regions
from kam.core.errors import ApplicationError
from kam.core.models import Role, User

from . import demo_data as data
from .demo_data import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, DEMO_USERS
from .models import (
    Account,
    AccountStatus,
    Attitude,
    BillingCode,
    BuyingRole,
    ConsentRecord,
    Contact,
    ContactTie,
    CorporateGroup,
    CoverageModel,
    Industry,
    LawfulBasis,
    ProfitStatus,
    StaffTie,
    Stage,
    TeamMembership,
    TeamRole,
    TieKind,
)
from .services import _pinyin_key

T = TypeVar("T")

_ORG_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # the credit code's alphabet
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code(body8: str) -> str:
    """The 9-character organisation code (GB 11714): eight characters and a check character."""
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - 55) * w
        for ch, w in zip(body8, _ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def _districts() -> dict[str, list[str]]:
    """Real county-level districts (GB/T 2260) by city code, for addresses; empty if absent."""
    try:
        rows = json.loads((settings.REGION_DATA_DIR / "areas.json").read_text(encoding="utf-8"))
    except OSError:
        return {}
    districts: dict[str, list[str]] = {}
    for row in rows:
        if row["name"].endswith(("区", "县", "市")) and not row["name"].endswith("市辖区"):
            districts.setdefault(row["cityCode"].ljust(6, "0"), []).append(row["name"])
    return districts


def _public_head(name: str) -> tuple[str, str]:
    """The titles of the head of a public body and their deputy, from the body's name."""
    for ending, head in (
        ("局", "局长"),
        ("院", "院长"),
        ("中心", "主任"),
        ("海关", "关长"),
        ("馆", "馆长"),
        ("支队", "支队长"),
    ):
        if name.endswith(ending):
            return head, "副" + head
    return "主要负责人", "分管副职"


#: Shares of accounts in tiers 1, 1-2, 1-3 and 1-4 (the rest: tier 5).
TIER_SHARES_CUMULATIVE = (0.025, 0.10, 0.28, 0.55)


def _apportion(total: int, sizes: list[int]) -> list[int]:
    """``total`` places shared in proportion to ``sizes`` (largest remainders; never more
    than a size)."""
    whole = sum(sizes) or 1
    exact = [total * s / whole for s in sizes]
    out = [min(s, math.floor(e)) for s, e in zip(sizes, exact, strict=True)]
    order = sorted(range(len(sizes)), key=lambda i: (out[i] - exact[i], i))
    for i in order:
        if sum(out) >= total:
            break
        if out[i] < sizes[i]:
            out[i] += 1
    return out


# --- the generated archive ----------------------------------------------------------------


@dataclass
class DemoArchive:
    """Unsaved model instances that refer to each other as objects, in insertion order."""

    users: list[User]
    groups: list[list[CorporateGroup]]  # by nesting depth: parents first
    accounts: list[Account]
    billing_codes: list[BillingCode]
    memberships: list[TeamMembership]
    contacts: list[list[Contact]]  # by org-chart depth: managers first
    contact_ties: list[ContactTie]
    staff_ties: list[StaffTie]
    consent_records: list[ConsentRecord] = field(default_factory=list)


@dataclass
class _Company:
    account: Account
    brand: str
    city: regions.Region
    industry: str
    output: float
    is_gov: bool = False
    group: "_Group | None" = None
    rank: int = 0  # by size, 0 the largest
    owner: str = ""  # the username of the key-account manager whose territory it is in
    revenue: float = 0.0  # our revenue in the last twelve months (CNY), the waybills follow
    people: list["_Person"] = field(default_factory=list)


@dataclass
class _Group:
    group: CorporateGroup
    brand: str
    depth: int
    industry: str | None
    size: int


@dataclass
class _Person:
    contact: Contact
    company: _Company
    depth: int
    department: str


class _Generator:
    def __init__(self, *, seed: int, companies: int, as_of: datetime.date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - seeded demo data, not cryptography
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.n = companies
        self.as_of = as_of
        self.consents: list[ConsentRecord] = []
        self.people_made = 0
        known = {i.code: i for i in Industry.objects.filter(code__in=data.INDUSTRIES)}
        if not known:
            raise ApplicationError("No industries found: run `kam migrate` first.")
        self.industries = known
        self.industry_codes = [c for c in data.INDUSTRIES if c in known]
        self.industry_weights = [data.INDUSTRIES[c].weight for c in self.industry_codes]
        self.commercial = [c for c in self.industry_codes if data.INDUSTRIES[c].words]
        self.commercial_weights = [data.INDUSTRIES[c].weight for c in self.commercial]
        if not self.commercial:
            raise ApplicationError("No company industries found: run `kam migrate` first.")
        self.cities, self.city_weights = self._city_table()
        self.districts = _districts()
        self._pinyin: dict[str, list[str]] = {}
        self.names: set[str] = set()
        self.brands_used: set[str] = set()
        self.codes: set[str] = set()
        self.billing: set[str] = set()
        self.by_city: dict[str, str] = {}  # cities a manager lists, to the manager
        self.by_province: dict[str, list[str]] = {}  # provinces to their managers
        for t in data.TERRITORIES:
            for code in t.cities:
                self.by_city[code] = t.username
            for province in t.provinces:
                self.by_province.setdefault(province, []).append(t.username)

    # helpers

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.rng.randrange(len(seq))]

    def weighted(self, seq: Sequence[T], weights: Sequence[float]) -> T:
        return self.rng.choices(seq, weights)[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def days_before(self, low: int, high: int) -> datetime.date:
        return self.as_of - datetime.timedelta(days=self.rng.randint(low, high))

    @staticmethod
    def _city_table() -> tuple[list[regions.Region], list[float]]:
        cities: list[regions.Region] = []
        weights: list[float] = []
        for province in regions.provinces():
            usable = [
                c
                for c in regions.cities(province.code)
                if c.name_zh.endswith("市") and "（" not in c.name_zh and "直辖" not in c.name_zh
            ]
            raw = [
                data.CITY_WEIGHTS.get(c.code, 3.0 if i == 0 else 1.0) for i, c in enumerate(usable)
            ]
            share = data.PROVINCE_WEIGHTS.get(province.code[:2], 0.1) / (sum(raw) or 1)
            cities += usable
            weights += [w * share for w in raw]
        return cities, weights

    @staticmethod
    def short(city: regions.Region) -> str:
        return city.name_zh.removesuffix("市")

    def new_brand(self) -> str:
        while True:
            brand = self.pick(data.BRAND_FIRST) + self.pick(data.BRAND_SECOND)
            if brand[0] != brand[1] and brand not in data.BRAND_BLOCKLIST:
                return brand

    def credit_code(self, city_code: str, kind: str) -> str:
        while True:
            if self.chance(0.6):  # codes issued since 2015 start with MA
                body = "MA" + "".join(self.pick(_ORG_CODE_CHARS) for _ in range(6))
            else:
                body = "".join(self.pick("0123456789") for _ in range(8))
            first17 = kind + city_code + organisation_code(body)
            code = first17 + creditcode.check_character(first17)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def billing_code(self) -> str:
        while True:
            code = "YJ" + "".join(self.pick("0123456789") for _ in range(10))
            if code not in self.billing:
                self.billing.add(code)
                return code

    def mobile(self) -> str:
        return self.pick(data.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def wechat(self, py: list[str]) -> str:
        kind = self.rng.randrange(3)
        if kind == 0:
            return f"{''.join(py)}{self.rng.randint(1965, 1999)}"
        if kind == 1:
            return f"{''.join(py)}_{self.rng.randint(1, 99)}"
        return "wxid_" + "".join(self.pick("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(14))

    def office_phone(self, city: regions.Region) -> str:
        area = data.AREA_CODES.get(city.code) or f"0{self.rng.randint(310, 939)}"
        return f"{area}-{self.rng.randint(2, 8)}{self.rng.randrange(10**7):07d}"

    # the archive

    def run(self) -> DemoArchive:
        users = self.users()
        groups = self.groups()
        companies = self.companies(groups)
        self.territories(companies)
        self.tiers(companies)
        self.revenues(companies)
        for company in companies:
            self.describe(company)
        accounts = [c.account for c in companies]
        billing = self.billing_codes(companies)
        memberships = self.teams(companies, users)
        levels = self.people(companies)
        contact_ties = self.contact_ties(companies)
        staff_ties = self.staff_ties(companies, memberships, users)
        by_depth: dict[int, list[CorporateGroup]] = {}
        for g in groups:
            by_depth.setdefault(g.depth, []).append(g.group)
        return DemoArchive(
            users=list(users.values()),
            groups=[by_depth[d] for d in sorted(by_depth)],
            accounts=accounts,
            billing_codes=billing,
            memberships=memberships,
            contacts=levels,
            contact_ties=contact_ties,
            staff_ties=staff_ties,
            consent_records=self.consents,
        )

    def users(self) -> dict[str, User]:
        password = make_password(DEMO_PASSWORD)  # one hash: argon2 is slow on purpose
        users = {
            name: User(
                username=name,
                role=role,
                display_name=display,
                email=f"{name}@{DEMO_EMAIL_DOMAIN}",
                password=password,
                is_staff=role == Role.ADMIN,
                is_superuser=role == Role.ADMIN,
            )
            for name, role, display in DEMO_USERS
        }
        bases = {t.username: t.base for t in data.TERRITORIES}
        for user in users.values():
            if user.role != Role.ADMIN:
                user.base_city_code = bases.get(user.username, data.HEAD_OFFICE_CITY)
            if user.role in {Role.DEPARTMENT, Role.MANAGER}:
                user.manager = users["director"]
            elif user.role == Role.SERVICE:
                user.manager = users["dept1"]
        return users

    def groups(self) -> list[_Group]:
        count = max(2, round(self.n / 50))
        groups: list[_Group] = []
        for i in range(count):
            parent = None
            tops = [g for g in groups if g.depth < 2]
            # About one group in six is a subgroup (an industry arm) of an earlier group.
            if i >= 3 and tops and self.chance(0.17):
                parent = self.pick(tops)
            if parent is None:
                brand = self.new_brand()
                while brand in self.brands_used:
                    brand = self.new_brand()
                self.brands_used.add(brand)
                kind_zh, kind_en = self.pick(data.GROUP_KINDS)
                industry = None
                name, name_en = brand + kind_zh, f"{self.pinyin(brand)} {kind_en}"
            else:
                brand = parent.brand
                industry = self.weighted(self.commercial, self.commercial_weights)
                word_zh, word_en = self.pick(data.INDUSTRIES[industry].words)
                name = f"{brand}{word_zh}集团有限公司"
                name_en = f"{self.pinyin(brand)} {word_en} Group Co., Ltd."
                if name in self.names:
                    continue
            self.names.add(name)
            group = CorporateGroup(
                name=name, name_en=name_en, parent=parent.group if parent else None
            )
            groups.append(
                _Group(
                    group,
                    brand,
                    parent.depth + 1 if parent else 0,
                    industry,
                    self.rng.randint(2, 8),
                )
            )
        return groups

    def companies(self, groups: list[_Group]) -> list[_Company]:
        companies: list[_Company] = []
        for _ in range(self.n):
            industry = self.weighted(self.industry_codes, self.industry_weights)
            city = self.weighted(self.cities, self.city_weights)
            output = max(1e6, self.rng.lognormvariate(math.log(4e7), 1.4))
            status = self.weighted(list(AccountStatus), [85, 10, 5])
            account = Account(status=status, industry=self.industries[industry])
            is_gov = industry == "government"
            companies.append(_Company(account, "", city, industry, output, is_gov))
        # Subsidiaries: larger companies are likelier to belong to a group.
        candidates = [c for c in companies if not c.is_gov]
        keyed = sorted(
            candidates, key=lambda c: self.rng.random() ** (1 / math.sqrt(c.output)), reverse=True
        )
        pool = iter(keyed[: max(0, len(keyed) // 3)])
        for g in groups:
            for _ in range(g.size):
                company = next(pool, None)
                if company is None:
                    break
                company.group = g
                company.account.group = g.group
                company.brand = g.brand
                if g.industry:
                    company.industry = g.industry
                    company.account.industry = self.industries[g.industry]
        return companies

    def tiers(self, companies: list[_Company]) -> None:
        def score(c: _Company) -> float:
            base = math.log(c.output) if not c.is_gov else self.rng.uniform(17.5, 20.5)
            return base + self.rng.gauss(0, 0.35) + (0.4 if c.group else 0.0)

        ranked = sorted(companies, key=score, reverse=True)
        books: dict[str, list[_Company]] = {}
        for rank, company in enumerate(ranked):
            company.rank = rank
            books.setdefault(company.owner, []).append(company)
        # The pyramid's places (tiers 1-3 about three accounts in ten) are shared out among
        # the managers' books by size, and each book fills them with its largest accounts:
        # every territory has its big accounts, a few tens of tier 1-3 per manager.
        n, names = len(ranked), list(books)
        sizes = [len(books[b]) for b in names]
        bounds = [
            _apportion(round(n * share), sizes) for share in TIER_SHARES_CUMULATIVE
        ]  # bounds[k][b]: how many of book b are in tiers 1..k+1
        placed: list[tuple[int, _Company]] = []
        for b, name in enumerate(names):
            cuts = list(accumulate((bounds[k][b] for k in range(4)), max))
            placed += [(1 + sum(i >= cut for cut in cuts), c) for i, c in enumerate(books[name])]
        for tier, company in sorted(placed, key=lambda p: p[1].rank):
            if company.account.status == AccountStatus.PROSPECT and tier >= 4 and self.chance(0.5):
                company.account.tier = None
            else:
                company.account.tier = tier
        # The leader of each industry (by output) is an important account.
        leaders: dict[str, _Company] = {}
        for c in companies:
            best = leaders.get(c.industry)
            if not c.is_gov and (best is None or c.output > best.output):
                leaders[c.industry] = c
        for c in leaders.values():
            c.account.is_important = True

    def territories(self, companies: list[_Company]) -> None:
        """Give every account to the manager whose territory holds its city (a city a
        manager lists first, else its province; a shared province goes to whichever of its
        managers has fewer accounts so far, larger companies first)."""
        load: dict[str, int] = {}
        for c in sorted(companies, key=lambda c: -c.output):
            owner = self.by_city.get(c.city.code)
            if owner is None:
                options = self.by_province.get(c.city.province_code[:2]) or [
                    data.TERRITORIES[0].username
                ]
                owner = min(options, key=lambda u: (load.get(u, 0), options.index(u)))
            c.owner = owner
            load[owner] = load.get(owner, 0) + 1

    def owner_of(self, city: regions.Region) -> str:
        """The manager of a city (the first of a shared province's managers)."""
        if city.code in self.by_city:
            return self.by_city[city.code]
        options = self.by_province.get(city.province_code[:2]) or [data.TERRITORIES[0].username]
        return options[0]

    def revenues(self, companies: list[_Company]) -> None:
        """Our revenue in the last twelve months, by tier and, within a tier, by size: the
        larger the company, the more it ships with us. Prospects ship nothing yet; a lost
        account's figure is what it shipped before it left."""
        rng = self.rng
        for tier in range(1, 6):
            members = sorted(
                (c for c in companies if (c.account.tier or 5) == tier
                 and c.account.status != AccountStatus.PROSPECT),
                key=lambda c: c.rank,
            )  # fmt: skip
            for c in members:
                band = data.REVENUE_BY_TIER[tier]
                if tier == 1 and (c.is_gov or self.chance(0.15)):
                    band = data.REVENUE_TIER1_NOT_ECONOMIC
                median, sigma, low, high = band
                c.revenue = min(high, max(low, median * rng.lognormvariate(0.0, sigma)))
                if c.is_gov:
                    c.revenue *= data.PUBLIC_BODY_REVENUE
            # Larger companies first: the draws of a band, sorted, follow the size ranking
            # (within a band, so an economic account keeps an economic figure).
            for band_members in (
                [c for c in members if c.revenue >= data.ECONOMIC_THRESHOLD],
                [c for c in members if c.revenue < data.ECONOMIC_THRESHOLD and not c.is_gov],
                [c for c in members if c.is_gov],
            ):
                figures = sorted((c.revenue for c in band_members), reverse=True)
                for c, figure in zip(band_members, figures, strict=True):
                    c.revenue = figure

    def describe(self, company: _Company) -> None:
        a, rng = company.account, self.rng
        a.stage = self.stage(a)
        if company.is_gov:
            self.describe_public_body(company)
            spend = rng.uniform(3e5, 8e6)
        else:
            self.name_company(company)
            a.credit_code = self.credit_code(company.city.code, "91")
            low, high = data.INDUSTRIES[company.industry].spend_share
            spend_share = rng.uniform(low, high)
            if company.revenue:  # the output that such a logistics spend goes with
                spend = company.revenue / data.share_of_wallet(a.stage, a.credit_code)
                company.output = max(1e6, spend / spend_share)
            else:
                spend = company.output * spend_share
            a.annual_output_value = Decimal(round(company.output, -4)).quantize(Decimal("0.01"))
            per_head = rng.lognormvariate(math.log(5e5), 0.5)
            a.employees = int(min(200_000, max(5, company.output / per_head)))
            a.main_products = "、".join(
                rng.sample(data.INDUSTRIES[company.industry].products, rng.randint(2, 4))
            )
            a.profit_status = self.weighted(list(ProfitStatus), [65, 12, 13, 10])
        if company.is_gov and company.revenue:
            spend = company.revenue / data.share_of_wallet(a.stage, a.credit_code)
        a.legal_representative = self.fake.name()
        a.province_code = company.city.province_code
        a.city_code = company.city.code
        district = self.pick(self.districts.get(company.city.code) or [""])
        a.address = (
            f"{company.city.name_zh}{district}{self.fake.street_name()}{rng.randint(1, 999)}号"
        )
        tier = a.tier or 5
        # Big companies run more of their own logistics (自有物流资源).
        inhouse = min(85.0, rng.uniform(0, 40) + (15 if tier <= 2 else 0))
        if self.chance(0.1):
            inhouse = None
        # Our revenue is our share of this spend (demo_data.share_of_wallet), so the
        # estimate and the waybills agree.
        a.logistics_spend_estimate = Decimal(round(spend, -3)).quantize(Decimal("0.01"))
        a.inhouse_logistics_share = (
            None if inhouse is None else Decimal(f"{inhouse:.1f}").quantize(Decimal("0.01"))
        )
        # Categories follow size and position; several may hold at once. Economic: our
        # revenue in the last twelve months reaches the source's CNY 5,000,000.
        a.is_economic = (
            a.status == AccountStatus.ACTIVE and company.revenue >= data.ECONOMIC_THRESHOLD
        )
        a.is_group = company.group is not None
        a.is_important = a.is_important or company.is_gov
        a.is_strategic = self.chance({1: 0.35, 2: 0.35, 3: 0.12}.get(tier, 0.04))
        if a.status == AccountStatus.PROSPECT:
            a.is_potential = not a.is_economic and self.chance(0.4)
        else:
            a.is_potential = not a.is_economic and tier >= 3 and self.chance(0.1)
        public = company.is_gov and a.tier != 1  # a tier-1 public body gets a resident too
        a.coverage_model = CoverageModel.REPRESENTATIVE if public else self.coverage(a.tier)
        if self.chance(0.3):
            a.notes = self.pick(data.ACCOUNT_NOTES)
        a.search_pinyin = _pinyin_key(a.name, a.name_en)

    def syllables(self, text: str) -> list[str]:
        if text not in self._pinyin:
            self._pinyin[text] = lazy_pinyin(text)
        return self._pinyin[text]

    def pinyin(self, text: str) -> str:
        return "".join(self.syllables(text)).capitalize()

    def name_company(self, company: _Company) -> None:
        a, profile = company.account, data.INDUSTRIES[company.industry]
        city_zh, city_en = self.short(company.city), company.city.name_en
        big = (a.tier or 5) <= 2
        for attempt in range(50):
            brand = company.brand if company.group and attempt < 10 else self.new_brand()
            word_zh, word_en = self.pick(profile.words)
            joint = big and self.chance(0.5)
            suffix_zh = "股份有限公司" if joint else "有限公司"
            suffix_en = "Corporation Limited" if joint else "Co., Ltd."
            brand_en = self.pinyin(brand)
            pattern = self.weighted([0, 1, 2], [70, 20, 10])
            if pattern == 0:
                name = f"{city_zh}{brand}{word_zh}{suffix_zh}"
                name_en = f"{city_en} {brand_en} {word_en} {suffix_en}"
            elif pattern == 1:
                name = f"{brand}{word_zh}（{city_zh}）{suffix_zh}"
                name_en = f"{brand_en} {word_en} ({city_en}) {suffix_en}"
            else:
                name = f"{brand}{word_zh}{suffix_zh}"
                name_en = f"{brand_en} {word_en} {suffix_en}"
            if name not in self.names:
                break
        self.names.add(name)
        company.brand = brand
        a.name = name
        a.name_en = name_en if self.chance(0.85) else ""

    def describe_public_body(self, company: _Company) -> None:
        a, rng = company.account, self.rng
        city = company.city
        for _ in range(50):
            zh, en, kind, products = self.pick(data.AGENCIES)
            name = zh.format(full=city.name_zh, short=self.short(city))
            if name not in self.names:
                break
            # Another city of the same territory (the owner stays the same).
            city = self.weighted(self.cities, self.city_weights)
            if self.owner_of(city) != self.owner_of(company.city):
                city = company.city
        company.city = city
        self.names.add(name)
        company.brand = self.short(city)
        a.name = name
        a.name_en = en.format(en=city.name_en) if self.chance(0.6) else ""
        a.credit_code = self.credit_code(city.code, "1" + kind)
        a.employees = rng.randint(150, 3000)
        a.main_products = products
        a.profit_status = ProfitStatus.UNKNOWN

    def stage(self, a: Account) -> str:
        if a.status == AccountStatus.PROSPECT:
            return Stage.EXPLORATORY
        if a.status == AccountStatus.LOST:
            return self.weighted([Stage.BASIC, Stage.EXPLORATORY], [60, 40])
        stages = list(Stage)
        weights = {
            1: [0, 0, 25, 45, 30],
            2: [0, 10, 50, 35, 5],
            3: [0, 35, 50, 15, 0],
            4: [15, 50, 35, 0, 0],
            5: [30, 55, 15, 0, 0],
        }.get(a.tier or 5)
        return self.weighted(stages, weights)

    def coverage(self, tier: int | None) -> str:
        c = CoverageModel
        options = {
            1: ([c.RESIDENT], [1]),
            2: ([c.REPRESENTATIVE, c.RESIDENT], [80, 20]),
            3: ([c.REPRESENTATIVE, c.INDUSTRY], [50, 50]),
            4: ([c.INDUSTRY, c.TERRITORY], [40, 60]),
        }.get(tier or 5, ([c.TERRITORY, c.INDUSTRY], [75, 25]))
        return self.weighted(*options)

    def billing_codes(self, companies: list[_Company]) -> list[BillingCode]:
        rows = []
        for c in companies:
            if c.account.status == AccountStatus.PROSPECT:
                continue  # no monthly billing before the first contract
            tier = c.account.tier or 5
            count = self.weighted([1, 2, 3], [20, 40, 40] if tier <= 2 else [70, 22, 8])
            rows += [BillingCode(account=c.account, code=self.billing_code()) for _ in range(count)]
        return rows

    def teams(self, companies: list[_Company], users: dict[str, User]) -> list[TeamMembership]:
        """The owner is the manager of the account's territory (see :meth:`territories`); a
        colleague of the same or a neighbouring territory co-owns some big accounts; two
        managers double as industry managers of their industry's accounts."""
        managers = {u.username: u for u in users.values() if u.role == Role.MANAGER}
        services = [u for u in users.values() if u.role == Role.SERVICE]
        industry_managers = {code: managers[name] for name, code in data.INDUSTRY_MANAGERS
                             if name in managers}  # fmt: skip
        shared: dict[str, list[User]] = {}  # managers who share a province
        for t in data.TERRITORIES:
            for province in {*t.provinces, *(c[:2] for c in t.cities)}:
                shared.setdefault(province, []).append(managers[t.username])
        rows: list[TeamMembership] = []
        order = sorted(companies, key=lambda c: (c.account.tier or 6, c.rank))
        for c in order:
            a, tier = c.account, c.account.tier or 6
            owner = managers[c.owner]
            members: list[tuple[User, str]] = [(owner, TeamRole.OWNER)]
            colleagues = [u for u in shared.get(c.city.province_code[:2], []) if u is not owner]
            if tier <= 2 and colleagues and self.chance(0.25):
                members.append((self.pick(colleagues), TeamRole.CO_OWNER))
            if tier <= 3 or self.chance(0.3):
                members.append((self.pick(services), TeamRole.SERVICE_REP))
            if tier == 1:
                members.append((users["director"], TeamRole.EXECUTIVE_SPONSOR))
            specialist = industry_managers.get(c.industry)
            if a.coverage_model == CoverageModel.INDUSTRY and specialist and tier <= 4:
                members.append((specialist, TeamRole.INDUSTRY_MANAGER))
            if a.coverage_model == CoverageModel.TERRITORY:
                members.append((owner, TeamRole.TERRITORY_MANAGER))
            seen: list[User] = []
            for user, role in members:
                if all(user is not s for s in seen):
                    seen.append(user)
                    rows.append(TeamMembership(account=a, user=user, role=role))
        return rows

    def people(self, companies: list[_Company]) -> list[list[Contact]]:
        levels: list[list[Contact]] = []
        for c in companies:
            big = (c.account.tier or 5) <= 2
            if big:
                count = self.rng.randint(8, 15)
            else:
                count = self.weighted([1, 2, 3, 4], [30, 35, 25, 10])
                if c.account.status == AccountStatus.PROSPECT:
                    count = min(count, 3)
            chart = data.GOV_CHART if c.is_gov else data.BIG_CHART if big else data.SMALL_CHART
            chosen = self.chart_subset(chart, min(count, len(chart)))
            made: dict[int, _Person] = {}
            for node in chosen:
                title, dept, parent, role, influence = chart[node]
                manager = made.get(parent) if parent is not None else None
                if c.is_gov and node in (0, 1):
                    head, deputy = _public_head(c.account.name)
                    title = head if node == 0 else deputy
                elif node == 0 and c.account.tier == 1 and self.chance(0.5):
                    title = "总裁"
                person = self.person(c, title, dept, role, influence, manager, big)
                made[node] = person
                c.people.append(person)
                while len(levels) <= person.depth:
                    levels.append([])
                levels[person.depth].append(person.contact)
            mids = [
                p
                for p in c.people
                if p.depth >= 1 and p.contact.buying_role != BuyingRole.ECONOMIC_BUYER
            ]
            if big and mids and self.chance(0.6):
                coach = self.pick(mids).contact
                coach.buying_role, coach.attitude = BuyingRole.COACH, Attitude.CHAMPION
                coach.closeness = coach.trust = max(coach.trust, 4)
        return levels

    def chart_subset(self, chart: list[Any], count: int) -> list[int]:
        if count == 1 and len(chart) > 1 and self.chance(0.6):
            return [1]  # small accounts: often the logistics manager is the only contact
        chosen = [0]
        while len(chosen) < count:
            options = [i for i, row in enumerate(chart) if i not in chosen and row[2] in chosen]
            weights = [1 / (1 + 0.15 * i) for i in options]
            chosen.append(self.weighted(options, weights))
        return sorted(chosen)

    def person(
        self,
        c: _Company,
        title: str,
        dept: str,
        role: str,
        influence: str,
        manager: _Person | None,
        big: bool,
    ) -> _Person:
        rng, fake = self.rng, self.fake
        name = fake.name()
        attitude = self.weighted(list(Attitude), [10, 35, 40, 15])
        warmth = {Attitude.CHAMPION: 4, Attitude.SUPPORTER: 3, Attitude.NEUTRAL: 2}.get(attitude, 1)

        def score() -> int:
            return max(1, min(5, warmth + rng.choice((-1, 0, 0, 1))))

        full = big or c.is_gov
        py = self.syllables(name)
        domain = "".join(self.syllables(c.brand)) + ".example"
        local = self.pick([f"{py[0]}.{''.join(py[1:])}", "".join(py), f"{''.join(py[1:])}.{py[0]}"])
        if c.account.status == AccountStatus.LOST:
            last = self.days_before(120, 540)
        else:
            last = self.days_before(0, 60 if big else 365)
        consent = self.pick(data.CONSENT)
        obtained = self.days_before(200, 1500)
        contact = Contact(
            account=c.account,
            name=name,
            title=title,
            department=dept,
            reports_to=manager.contact if manager else None,
            buying_role=role,
            attitude=attitude,
            influence=influence,
            closeness=score(),
            trust=score(),
            favour=score(),
            last_contacted=last if self.chance(0.9) else None,
            phone_mobile=self.mobile(),
            phone_office=self.office_phone(c.city) if self.chance(0.6 if full else 0.3) else "",
            email=f"{local}@{domain}" if self.chance(0.85) else "",
            wechat=self.wechat(py) if self.chance(0.8) else "",
            birthday=(
                datetime.date(rng.randint(1962, 1998), rng.randint(1, 12), rng.randint(1, 28))
                if self.chance(0.85 if full else 0.3)
                else None
            ),
            family=self.pick(data.FAMILY) if self.chance(0.6 if full else 0.15) else "",
            hobbies="、".join(rng.sample(data.HOBBIES, rng.randint(1, 3)))
            if self.chance(0.75 if full else 0.3)
            else "",
            habits=self.pick(data.HABITS) if self.chance(0.5 if full else 0.1) else "",
            social_ties=self.pick(data.SOCIAL).format(
                city=self.short(c.city), province=regions.label(c.city.province_code)
            )
            if self.chance(0.4 if full else 0.1)
            else "",
            work_duties=data.DUTIES.get(dept, "") if self.chance(0.9 if full else 0.6) else "",
            performance=self.pick(data.PERFORMANCE) if self.chance(0.5 if full else 0.1) else "",
            goals="；".join(rng.sample(data.GOALS, rng.randint(1, 2)))
            if big and self.chance(0.7)
            else "",
        )
        # Every 40th person has no lawful basis on record, so that the flag shows in the demo
        # (a counter, not the random generator: the rest of the archive stays as it was).
        self.people_made += 1
        if self.people_made % 40:
            self.consents.append(
                ConsentRecord(
                    contact=contact,
                    basis=LawfulBasis.CONTRACT if "合同" in consent else LawfulBasis.CONSENT,
                    purpose=data.CONSENT_PURPOSE,
                    obtained_on=obtained,
                    evidence=consent.format(d=obtained.isoformat()),
                )
            )
        return _Person(contact, c, manager.depth + 1 if manager else 0, dept)

    def contact_ties(self, companies: list[_Company]) -> list[ContactTie]:
        rng = self.rng
        ties: list[ContactTie] = []
        seen: set[tuple[int, int, str]] = set()
        everyone = [p for c in companies for p in c.people]
        index = {id(p.contact): i for i, p in enumerate(everyone)}
        cum = list(accumulate(5.0 if (p.company.account.tier or 5) <= 2 else 1.0 for p in everyone))

        def someone() -> _Person:  # people at big accounts are likelier to know others
            return rng.choices(everyone, cum_weights=cum)[0]

        by_industry: dict[str, list[_Person]] = {}
        for p in everyone:
            by_industry.setdefault(p.company.industry, []).append(p)

        def add(a: _Person, b: _Person, kind: str, note: str, years: tuple[int, int]) -> None:
            key = (index[id(a.contact)], index[id(b.contact)], kind)
            if a is b or key in seen:
                return
            seen.add(key)
            since = self.days_before(365 * years[0], 365 * years[1])
            ties.append(
                ContactTie(
                    from_contact=a.contact, to_contact=b.contact, kind=kind, note=note, since=since
                )
            )

        for c in companies:  # peers at big accounts who work together outside the chart
            peers = [p for p in c.people if p.depth == 1]
            if (c.account.tier or 5) <= 2 and len(peers) >= 2:
                for _ in range(rng.randint(1, 3)):
                    a, b = rng.sample(peers, 2)
                    add(
                        a,
                        b,
                        TieKind.COLLEAGUE,
                        self.pick(data.TIE_NOTES[TieKind.COLLEAGUE]),
                        (1, 8),
                    )
        if len(everyone) < 2:
            return ties
        for _ in range(round(self.n * 0.15)):  # former colleagues in the same industry
            a = someone()
            b = self.pick(by_industry[a.company.industry])
            if b.company is not a.company:
                add(
                    a,
                    b,
                    TieKind.FORMER_COLLEAGUE,
                    f"曾同在{self.pick([a, b]).company.account.name}任职",
                    (3, 15),
                )
        for _ in range(round(self.n * 0.12)):
            a, b = someone(), someone()
            if b.company is not a.company:
                add(a, b, TieKind.FRIEND, self.pick(data.TIE_NOTES[TieKind.FRIEND]), (2, 25))
        for _ in range(max(1, round(self.n * 0.01))):
            a, b = self.pick(everyone), someone()
            if b.company is not a.company:
                add(a, b, TieKind.FAMILY, self.pick(data.TIE_NOTES[TieKind.FAMILY]), (5, 30))
        for _ in range(round(self.n * 0.1)):
            a = someone()
            customers = [
                p
                for code in data.SUPPLIES.get(a.company.industry, ())
                for p in by_industry.get(code, [])[:400]
                if p.contact.buying_role == BuyingRole.TECHNICAL_BUYER
            ]
            if customers:
                b = self.pick(customers)
                add(
                    a,
                    b,
                    TieKind.SUPPLIER,
                    f"{a.company.account.name}为{b.company.account.name}供货",
                    (1, 10),
                )
        return ties

    def staff_ties(
        self,
        companies: list[_Company],
        memberships: list[TeamMembership],
        users: dict[str, User],
    ) -> list[StaffTie]:
        teams: dict[int, list[TeamMembership]] = {}
        for m in memberships:
            teams.setdefault(id(m.account), []).append(m)
        rows: list[StaffTie] = []
        for c in companies:
            if not c.people:
                continue
            team = teams[id(c.account)]
            tier = c.account.tier or 5
            known: list[tuple[Contact, User, int]] = []
            owner = next(m.user for m in team if m.role == TeamRole.OWNER)
            first = c.people[0].contact
            strength = self.rng.randint(3, 5) if tier <= 2 else self.rng.randint(2, 4)
            known.append((first, owner, strength))
            others = self.rng.sample(c.people[1:], min(len(c.people) - 1, self.rng.randint(0, 2)))
            known += [(p.contact, owner, self.rng.randint(2, 4)) for p in others]
            if tier == 1 and first.buying_role == BuyingRole.ECONOMIC_BUYER:
                known.append((first, users["director"], self.rng.randint(3, 4)))
            reps = [m.user for m in team if m.role == TeamRole.SERVICE_REP]
            users_side = [
                p.contact for p in c.people if p.contact.buying_role == BuyingRole.USER_BUYER
            ]
            if reps and users_side:
                known.append((self.pick(users_side), reps[0], 3))
            seen: list[tuple[Contact, User]] = []
            for contact, user, strength in known:
                if any(contact is k and user is u for k, u in seen):
                    continue
                seen.append((contact, user))
                rows.append(
                    StaffTie(
                        contact=contact,
                        user=user,
                        strength=strength,
                        note=self.pick(data.STAFF_NOTES),
                        since=self.days_before(60, 2500),
                    )
                )
        return rows


def generate(*, seed: int, companies: int, as_of: datetime.date) -> DemoArchive:
    """Build the demo archive in memory."""
    return _Generator(seed=seed, companies=companies, as_of=as_of).run()
