"""The access matrix's machinery: every route, every persona, own / foreign / missing ids.

Routes come from the URL conf (pages) and from the OpenAPI schema (API operations), never
from a list: a route added tomorrow is exercised tomorrow. Each id in a route (path,
query, form field or JSON body) is told apart by the word before it (``accounts/<pk>``,
``{"contacts": [...]}``) through :data:`NOUNS`; a route whose id the generator cannot
place fails the matrix until its noun is added here or the route is listed in
:data:`UNEXERCISED` with a reason.

For each persona a route is called with an id they may see (*own*), one they may not
(*foreign*) and one that names nothing (*missing*). A response fails when

- it carries a canary the persona may not see: a foreign account's or contact's text, a
  foreign figure, or the id of a foreign row (in the body, a header, or the page a
  redirect leads to, where flash messages are shown); or
- the foreign call and the missing call answer differently (status, body or redirect,
  after the id itself is replaced by a placeholder): the difference tells the caller
  the record exists.

Forms are found by crawling: every page the persona opens with own ids is parsed, and its
POST forms (fields, defaults, choices) become the bodies the matrix posts, with foreign
and missing ids swapped into the id fields.
"""

import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from .world import (
    COLLEAGUE_ADDRESS,
    COLLEAGUE_AGENT,
    LATER_BASE,
    MISSING_ID,
    SIGHT,
    World,
)

# --- nouns: what an id in a route names ---------------------------------------------------


@dataclass(frozen=True)
class Noun:
    """What an id names: a model (by label) and the attribute the route carries."""

    label: str
    attr: str = "pk"


#: The word before an id in a path (``accounts/<pk>``), a query or form field name, or a
#: JSON property: what it names. ``None`` marks a word that names a user (staff are a
#: company directory, no foreign side) or a value that is no record.
NOUNS: dict[str, Noun | None] = {
    "accounts": Noun("accounts.Account"),
    "account": Noun("accounts.Account"),
    "account_pk": Noun("accounts.Account"),
    "account_id": Noun("accounts.Account"),
    "billing-codes": Noun("accounts.BillingCode"),
    "billing-codes:str": Noun("accounts.BillingCode", "code"),
    "code": Noun("accounts.BillingCode", "code"),
    "billing_code": Noun("accounts.BillingCode", "code"),
    "team": Noun("accounts.TeamMembership"),
    "member_id": Noun("accounts.TeamMembership"),
    "contacts": Noun("accounts.Contact"),
    "contact": Noun("accounts.Contact"),
    "contact_id": Noun("accounts.Contact"),
    "from_contact": Noun("accounts.Contact"),
    "to_contact": Noun("accounts.Contact"),
    "reports_to": Noun("accounts.Contact"),
    "ties": Noun("accounts.ContactTie"),
    "staff-ties": Noun("accounts.StaffTie"),
    "groups": Noun("accounts.CorporateGroup"),
    "group": Noun("accounts.CorporateGroup"),
    "group_id": Noun("accounts.CorporateGroup"),
    "parent": Noun("accounts.CorporateGroup"),
    "imports": Noun("ledger.ImportBatch"),
    "unlinked": Noun("ledger.unlinked", "code"),
    "unlinked-codes": Noun("ledger.unlinked", "code"),
    "runs": Noun("segmentation.Run"),
    "run": Noun("segmentation.Run"),
    "compare": Noun("segmentation.Run"),
    "proposals": Noun("segmentation.TierProposal"),
    "alerts": Noun("segmentation.Alert"),
    "visits": Noun("coverage.Visit"),
    "visit": Noun("coverage.Visit"),
    "reports": Noun("coverage.VisitReport"),
    "follow-ups": Noun("coverage.FollowUp"),
    "ical": Noun("coverage.feed", "token"),
    "cases": Noun("service.Case"),
    "case": Noun("service.Case"),
    "claims": Noun("service.Claim"),
    "policies": Noun("service.SlaPolicy"),
    "surveys": Noun("service.Campaign"),
    "campaign": Noun("service.Campaign"),
    "plans": Noun("planning.AccountPlan"),
    "items": Noun("planning.PlanItem"),
    "objectives": Noun("planning.Objective"),
    "actions": Noun("planning.Action"),
    "opportunities": Noun("planning.Opportunity"),
    "stage-proposals": Noun("planning.StageProposal"),
    "quotes": Noun("pricing.Quote"),
    "quote": Noun("pricing.Quote"),
    "cards": Noun("pricing.RateCard"),
    "card": Noun("pricing.RateCard"),
    # Competitors, and the industries (the wallet benchmarks, the whitespace grid's filter):
    # company-wide lists, no foreign side.
    "competitor": None, "competitors": None, "industry": None,
    # The solutions catalogue: the company's, no foreign side.
    "solution": None, "solutions": None,
    # The plan page's item form: the visit-report finding or case an item came from.
    "item-finding": Noun("coverage.Finding"),
    "item-case": Noun("service.Case"),
    "finding": Noun("coverage.Finding"),
    "notifications": Noun("core.Notification"),
    "sessions": Noun("core.UserSession"),
    "bases": Noun("accounts.ConsentRecord"),
    "record_id": Noun("accounts.ConsentRecord"),
    "consents": Noun("accounts.ConsentRecord"),
    "retention": Noun("accounts.RetentionRun"),
    # A user in a path (an administrator's page about one user's logins).
    "users": Noun("core.User"),
    # Users in forms and bodies: the company's staff directory (owners, assignees,
    # attendees), no foreign side.
    "user": None, "owner": None, "owners": None, "person": None, "staff": None,
    "assignee": None, "reviewer": None, "team_members": None,
}  # fmt: skip

_ABSENT = object()


def noun_for(word: str) -> Noun | None | object:
    """The noun of a word (``contact_ids`` is ``contacts``), or ``_ABSENT``."""
    for w in (word, word.removesuffix("_id"), word.removesuffix("_ids") + "s"):
        if w in NOUNS:
            return NOUNS[w]
    return _ABSENT


def known(word: str) -> bool:
    return noun_for(word) is not _ABSENT


def noun(word: str) -> Noun | None:
    found = noun_for(word)
    return None if found is _ABSENT else found  # type: ignore[return-value]


#: Routes the generator cannot exercise, each with the reason (reviewed with the code).
UNEXERCISED: dict[str, str] = {
    "service/s/<str:token>/": "a survey's public single-use link: the token is the "
    "credential and shows only its own invitation (tests/service/test_surveys.py)",
    "login/": "logging in is tested in tests/core (lockout, two factors)",
    "logout/": "ends the session the matrix is using",
    "i18n/setlang/": "sets the language cookie; carries no record",
    "api/openapi.json": "the schema; carries no record",
    "api/docs": "the schema's page; carries no record",
    "api/": "the API root; every operation is exercised from the schema",
}

#: Paths of pages that are no route of the product (Django's admin has its own tests).
SKIP_PREFIXES = ("admin/", "api/v1/", "static/")


# --- routes ---------------------------------------------------------------------------------

PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


@dataclass
class Param:
    name: str
    where: str  # "path" or "query"
    noun: Noun | None
    is_int: bool


@dataclass
class Route:
    kind: str  # "page" or "api"
    pattern: str  # "accounts/<int:pk>/edit/" or "POST /api/v1/accounts/{account_id}"
    template: str  # the path with {name} placeholders
    params: list[Param]
    method: str = "GET"
    body_schema: dict[str, Any] | None = None
    query_schema: list[dict[str, Any]] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.pattern


def _noun_before(template: str, name: str, is_int: bool) -> tuple[Noun | None, bool]:
    """The noun of a path parameter: the literal segment just before it (or its name)."""
    before = template.split("{" + name + "}")[0].rstrip("/").split("/")[-1]
    for word in ([f"{before}:str"] if not is_int else []) + [before, name]:
        if known(word):
            return noun(word), True
    return None, False


def page_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                pattern = prefix + str(p.pattern)
                if pattern.startswith(SKIP_PREFIXES) or pattern.startswith("^"):
                    continue
                template = PARAM.sub(lambda m: "{" + m.group("name") + "}", pattern)
                route = Route("page", pattern, "/" + template, [])
                for m in PARAM.finditer(pattern):
                    is_int = m.group("conv") == "int"
                    found, placed = _noun_before(template, m.group("name"), is_int)
                    route.params.append(Param(m.group("name"), "path", found, is_int))
                    if not placed:
                        route.unplaced.append(m.group("name"))
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    return routes


def _resolve_ref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = root["components"]["schemas"][name]
    return schema


def api_routes() -> list[Route]:
    from kam.api import api

    root = api.get_openapi_schema()
    routes: list[Route] = []
    for path, operations in root["paths"].items():
        for method, op in operations.items():
            template = path
            route = Route("api", f"{method.upper()} {path}", template, [], method.upper())
            for p in op.get("parameters", []):
                schema = _resolve_ref(p.get("schema", {}), root)
                is_int = _is_id(schema)
                if p["in"] == "path":
                    found, placed = _noun_before(template, p["name"], is_int)
                    route.params.append(Param(p["name"], "path", found, is_int))
                    if not placed:
                        route.unplaced.append(p["name"])
                elif p["in"] == "query":
                    route.query_schema.append({**p, "schema": schema})
                    if is_int:
                        word = p["name"]
                        if not known(word):
                            route.unplaced.append(word)
                        route.params.append(Param(word, "query", noun(word), True))
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                route.body_schema = _inline(content["application/json"]["schema"], root)
                for word in _id_fields(route.body_schema):
                    if not known(word):
                        route.unplaced.append(f"body.{word}")
            routes.append(route)
    return routes


def _inline(schema: dict[str, Any], root: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """The schema with every $ref replaced by what it names (schemas here are trees)."""
    schema = _resolve_ref(schema, root)
    if depth > 8:
        return schema
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {k: _inline(v, root, depth + 1) for k, v in out["properties"].items()}
    if "items" in out:
        out["items"] = _inline(out["items"], root, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in out:
            out[key] = [_inline(s, root, depth + 1) for s in out[key]]
    return out


def _is_id(schema: dict[str, Any]) -> bool:
    """``kam.core.api.Id``: an integer from 1 to 2**63 - 1."""
    for s in [schema, *schema.get("anyOf", [])]:
        if s.get("type") == "integer" and s.get("maximum") == 2**63 - 1:
            return True
    return False


def _id_fields(schema: dict[str, Any] | None) -> list[str]:
    """Names of the id-bearing properties of an object schema (ids or lists of ids)."""
    if not schema:
        return []
    names = []
    for name, prop in (schema.get("properties") or {}).items():
        options = [prop, *prop.get("anyOf", [])]
        if any(_is_id(o) or (o.get("type") == "array" and _is_id(o.get("items", {})))
               for o in options):  # fmt: skip
            names.append(name)
    return names


# --- ids per persona ------------------------------------------------------------------------


CONTACT_SCOPED = {"accounts.Contact", "accounts.ContactTie", "accounts.StaffTie",
                  "accounts.ConsentRecord"}  # fmt: skip


def visible(world: World, persona: str, label: str, side: str) -> bool:
    sight = SIGHT[persona]
    if label == "core.Notification":
        return False  # the side records are the colleague's
    if label == "accounts.CorporateGroup":
        return sight.groups
    if label in CONTACT_SCOPED:
        return side in sight.contacts
    return side in sight.accounts


@dataclass(frozen=True)
class IdKind:
    kind: str  # own, foreign, missing
    value: Any


def manages_logins(user: Any) -> bool:
    from kam.core import access

    return access.may_manage_logins(user)


def _value(obj: Any, attr: str) -> Any:
    return getattr(obj, attr)


def ids_for(world: World, persona: str, noun: Noun) -> dict[str, Any]:
    """``{"own": v, "foreign": v, "missing": v}`` for this persona (kinds that exist)."""
    user = world.personas[persona]
    out: dict[str, Any] = {}
    if noun.label == "coverage.feed":
        # A capability: the token is the credential (a phone subscribes without a session),
        # so the colleague's token is no "foreign id". The persona's own feed must still
        # hold nothing foreign, and an unknown token must answer like any missing page.
        out["own"] = world.feed_tokens[persona]
        out["missing"] = "x" * len(world.feed_tokens[persona])
        return out
    if noun.label == "ledger.unlinked":
        out["own"] = world.unlinked_code
        hidden = [s for s in world.sides() if "ab".find(s.name) >= 0
                  and not visible(world, persona, "accounts.BillingCode", s.name)]  # fmt: skip
        if hidden:
            out["foreign"] = hidden[-1].first("accounts.BillingCode").code  # type: ignore[union-attr]
        out["missing"] = "YJNOSUCH0001"
        return out
    if noun.label in ("core.Notification", "core.UserSession"):
        own = [n for n in world.globals[noun.label] if n.user_id == user.pk]
        out["own"] = own[0].pk
        if noun.label == "core.Notification":
            out["foreign"] = world.b.first("core.Notification").pk  # type: ignore[union-attr]
        elif not manages_logins(user):
            out["foreign"] = world.colleague_session.pk
        out["missing"] = MISSING_ID
        return out
    if noun.label == "core.User":
        out["own"] = user.pk
        if not manages_logins(user):
            out["foreign"] = world.colleague.pk
        out["missing"] = MISSING_ID
        return out
    if noun.label in world.globals:
        out["own"] = _value(world.globals[noun.label][0], noun.attr)
        out["missing"] = MISSING_ID if noun.attr == "pk" else "NOSUCH0001"
        return out
    own = foreign = None
    for side in world.sides():
        obj = side.first(noun.label)
        if obj is None:
            continue
        if visible(world, persona, noun.label, side.name):
            own = own or obj
        else:
            foreign = obj  # B's when both are hidden
    if own is not None:
        out["own"] = _value(own, noun.attr)
    if foreign is not None:
        out["foreign"] = _value(foreign, noun.attr)
    out["missing"] = MISSING_ID if noun.attr == "pk" else "YJNOSUCH0002"
    return out


# --- canaries ---------------------------------------------------------------------------------


NUMBER = re.compile(r"(?<![\d.])(9[67]\d{6})(?![\d])")
DIGITS = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _id_index(world: World) -> dict[int, tuple[str, str]]:
    index: dict[int, tuple[str, str]] = {}
    for side in world.sides():
        for label, rows in side.records.items():
            for obj in rows:
                if isinstance(obj.pk, int) and obj.pk < LATER_BASE:
                    index[obj.pk] = (label, side.name)
    return index


@dataclass
class Canaries:
    texts: dict[str, str]  # text -> what it is ("B's contact name")
    digits: dict[str, str]
    ids: dict[int, str]


def canaries_for(world: World, persona: str) -> Canaries:
    sight = SIGHT[persona]
    texts: dict[str, str] = {}
    digits: dict[str, str] = {}

    def add(values: set[str], what: str) -> None:
        for v in values:
            texts[v] = what

    for side in world.sides():
        s = side.name.upper()
        if side.name not in sight.accounts:
            add(side.account_texts, f"{s}'s account data")
            for d in side.figure_digits:
                digits[d] = f"{s}'s revenue"
        if side.name not in sight.contacts:
            add(side.contact_texts, f"{s}'s contact")
        if side.name not in sight.details:
            add(side.detail_texts, f"{s}'s contact details")
        if side.name not in sight.personal:
            add(side.personal_texts, f"{s}'s personal information")
        if not sight.groups:
            group = side.account.group
            add({group.name, group.name_en}, f"{s}'s group")  # type: ignore[union-attr]
    notice = world.b.first("core.Notification")
    texts[notice.subject] = "the colleague's notification"  # type: ignore[union-attr]
    if not manages_logins(world.personas[persona]):
        texts[COLLEAGUE_AGENT] = "the colleague's browser"
        texts[COLLEAGUE_ADDRESS] = "the colleague's address"
    ids = {
        pk: f"{label} of {side.upper()}"
        for pk, (label, side) in _id_index(world).items()
        if not visible(world, persona, label, side)
    }
    return Canaries(texts, digits, ids)


def response_text(response: Any) -> str:
    """What a user or program could read in the response: body (unzipped for XLSX,
    JSON un-escaped), the headers that carry text, and the messages queued for a flash."""
    parts = [f"{k}: {v}" for k, v in response.items()]
    content = b"" if getattr(response, "streaming", False) else response.content
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    ctype = response.get("Content-Type", "")
    if content[:2] == b"PK":
        with zipfile.ZipFile(BytesIO(content)) as z:
            parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    elif "json" in ctype:
        try:
            parts.append(json.dumps(json.loads(content), ensure_ascii=False))
        except ValueError:
            parts.append(content.decode("utf-8", "replace"))
    else:
        parts.append(content.decode("utf-8", "replace"))
    request = getattr(response, "wsgi_request", None)
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", [])
    parts += [str(m) for m in queued]
    return "\n".join(parts)


def find_leaks(text: str, canaries: Canaries, sent: set[str]) -> list[str]:
    """Canaries in ``text``, except those the request itself sent (an echo of the caller's
    own input tells them nothing; whether it answers like a missing one is compared)."""
    found = [f"{what}: {t!r}" for t, what in canaries.texts.items()
             if t and t in text and t not in sent]  # fmt: skip
    plain = text.replace(",", "")
    found += [f"{what}: digits {d}" for d, what in canaries.digits.items() if d in plain]
    for m in NUMBER.finditer(text):
        if m.group(1) in sent:
            continue
        what = canaries.ids.get(int(m.group(1)))
        if what:
            found.append(f"id of {what}: {m.group(1)}")
    return sorted(set(found))


# --- forms found by crawling ------------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]]  # the submission a user would send by default
    choices: dict[str, list[str]]  # select / checkbox options by name
    method: str = "post"


@dataclass(frozen=True)
class Fragment:
    """An HTMX request the page makes: the view answers it with a partial template."""

    url: str
    target: str


class FormParser(HTMLParser):
    """Forms of a page with their default submission and their choices, and the HTMX
    fragments its elements load."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.fragments: list[Fragment] = []
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None
        self._selected: list[str] = []
        self._first: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("hx-get", "").startswith("/"):
            self.fragments.append(Fragment(a["hx-get"], a.get("hx-target", "").lstrip("#")))
        if tag == "form":
            method = a.get("method", "get").lower()
            self._form = Form(a.get("action") or self.page, [], {}, method)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                form.choices.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "reset", "image"):
                form.fields.append((name, a.get("value") or _filler(name, kind, a)))
        elif tag == "select" and name:
            self._select, self._selected, self._first = (name, "multiple" in a), [], None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            form.choices.setdefault(self._select[0], []).append(value)
            if "selected" in a:
                self._selected.append(value)
            if self._first is None and value:
                self._first = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if form is None:
            return
        if tag == "select" and self._select:
            name, multiple = self._select
            chosen = self._selected or ([self._first] if self._first and not multiple else [])
            form.fields += [(name, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea:
            form.fields.append((self._textarea, self._text.strip() or "矩阵测试"))
            self._textarea = None
        elif tag == "form":
            self.forms.append(form)
            self._form = None


def _filler(name: str, kind: str, attrs: dict[str, str]) -> str:
    """A plausible value for an empty input, so that a form gets past its own checks."""
    if kind == "hidden" or name == "csrfmiddlewaretoken":
        return ""
    if kind == "date" or name.endswith(("_on", "date", "day", "start", "end")):
        return timezone.localdate().isoformat()
    if kind == "datetime-local":
        return (timezone.localtime() + timezone.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    if kind == "number":
        return attrs.get("min") or "1"
    if kind == "email":
        return "matrix@carrier.example"
    return "矩阵测试" if attrs.get("required") is not None or kind == "text" else ""


def parse_page(page: str, html: str) -> tuple[list[Form], list[Fragment]]:
    parser = FormParser(page)
    parser.feed(html)
    return parser.forms, parser.fragments


def route_of(path: str) -> str | None:
    """The URL pattern (as :func:`page_routes` spells it) a path resolves to."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return str(match.route)


# --- calling ---------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    text: str  # everything readable, redirect target included
    location: str
    error: str = ""  # the exception behind a 500


def call(client: Client, method: str, path: str, *, data: Any = None,
         json_body: Any = None, headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
    """One request in a transaction that is rolled back, with its redirect followed once
    (the page shows the flash messages the request queued)."""
    with transaction.atomic():
        if method == "GET":
            response = client.get(path, data, headers=headers)
        elif json_body is not None:
            response = client.generic(method, path, json.dumps(json_body),
                                      content_type="application/json")  # fmt: skip
        elif method == "POST":
            response = client.post(path, data or {})
        else:
            response = client.generic(method, path)
        text = response_text(response)
        location = response.get("Location", "")
        error = _error(response)
        if 300 <= response.status_code < 400 and location.startswith("/"):
            follow = client.get(location)
            text += "\n" + response_text(follow)
            error = error or _error(follow)
        transaction.set_rollback(True)
    return Answer(response.status_code, text, location, error)


def _error(response: Any) -> str:
    exc = getattr(response, "exc_info", None)
    return f"{exc[0].__name__}: {exc[1]}" if exc else ""


TOKEN = re.compile(r"[A-Za-z0-9]{64}")


def normalised(answer: Answer, value: Any) -> tuple[int, str, str]:
    v = str(value)
    text = TOKEN.sub("<token>", answer.text.replace(v, "<ID>"))
    text = re.sub(r"(?im)^(date|expires|set-cookie|content-length):[^\n]*", r"\1", text)
    return answer.status, text, answer.location.replace(v, "<ID>")


def first_difference(a: str, b: str, width: int = 120) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"…{a[max(0, i - 40) : i + width]!r}\n   vs …{b[max(0, i - 40) : i + width]!r}"
    return f"lengths {len(a)} vs {len(b)}"


def fill(template: str, values: dict[str, Any]) -> str:
    return template.format(**{k: str(v) for k, v in values.items()})


def iter_kinds(kinds: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for kind in ("own", "foreign", "missing"):
        if kind in kinds:
            yield kind, kinds[kind]


def with_query(path: str, params: dict[str, Any]) -> str:
    return path + ("?" + urlencode(params, doseq=True) if params else "")


def query_of(href: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(href).query))


Caller = Callable[..., Answer]
