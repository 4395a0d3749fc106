"""factory_boy factories for the archive.

Factories write rows directly (no service, no audit); tests that are about a service's
behaviour call the service. Values are sequences, so every run builds the same data.
"""

import datetime

import factory
from factory.django import DjangoModelFactory

from kam.accounts.models import (
    Account,
    BillingCode,
    Contact,
    ContactTie,
    CorporateGroup,
    Industry,
    StaffTie,
    TeamMembership,
    TeamRole,
    TieKind,
)
from kam.accounts.services import _pinyin_key
from kam.core.creditcode import check_character
from kam.core.models import Role, User

TEST_PASSWORD = "correct horse battery staple"


def credit_code(n: int) -> str:
    """A valid unified social credit code, different for every ``n``."""
    first17 = f"91350100{n:09d}"
    return first17 + check_character(first17)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"员工{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@carrier.example")
    role = Role.MANAGER
    password = factory.django.Password(TEST_PASSWORD)


class IndustryFactory(DjangoModelFactory):
    class Meta:
        model = Industry
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"industry-{n}")
    name_zh = factory.Sequence(lambda n: f"行业{n}")
    name_en = factory.Sequence(lambda n: f"Industry {n}")


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = CorporateGroup

    name = factory.Sequence(lambda n: f"测试集团{n}")
    name_en = factory.Sequence(lambda n: f"Test Group {n}")


class AccountFactory(DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"测试客户{n}有限公司")
    name_en = factory.Sequence(lambda n: f"Test Customer {n} Ltd")
    credit_code = factory.Sequence(credit_code)
    province_code = "350000"
    city_code = "350100"
    tier = 3
    # What account_create would store, so that pinyin search finds factory accounts too.
    search_pinyin = factory.LazyAttribute(lambda a: _pinyin_key(a.name, a.name_en))


class BillingCodeFactory(DjangoModelFactory):
    class Meta:
        model = BillingCode

    account = factory.SubFactory(AccountFactory)
    code = factory.Sequence(lambda n: f"YJ{n:08d}")


class TeamMembershipFactory(DjangoModelFactory):
    class Meta:
        model = TeamMembership

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    role = TeamRole.CO_OWNER


class ContactFactory(DjangoModelFactory):
    """A contact with every protected field filled, each value unique to the contact."""

    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
    title = "物流总监"
    department = "供应链部"
    phone_mobile = factory.Sequence(lambda n: f"1380013{n:04d}")
    phone_office = factory.Sequence(lambda n: f"0591-8765{n:04d}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")
    wechat = factory.Sequence(lambda n: f"wx_contact_{n}")
    birthday = datetime.date(1980, 5, 17)
    family = factory.Sequence(lambda n: f"已婚，一个女儿在读初中-{n}")
    hobbies = factory.Sequence(lambda n: f"周末打高尔夫和钓鱼-{n}")
    habits = factory.Sequence(lambda n: f"早上七点前到办公室-{n}")
    social_ties = factory.Sequence(lambda n: f"与省商会会长是同学-{n}")
    work_duties = "负责全国仓配招标"
    performance = "年度降本目标完成率 92%"
    goals = "三年内把物流成本降到营收的 6%"


class ContactTieFactory(DjangoModelFactory):
    class Meta:
        model = ContactTie

    from_contact = factory.SubFactory(ContactFactory)
    to_contact = factory.SubFactory(ContactFactory)
    kind = TieKind.COLLEAGUE


class StaffTieFactory(DjangoModelFactory):
    class Meta:
        model = StaffTie

    contact = factory.SubFactory(ContactFactory)
    user = factory.SubFactory(UserFactory)
    strength = 4
