"""The access matrix: every page and API operation, for every role, with own, foreign and
missing ids — in paths, queries, forms and JSON bodies (see ``matrix.py``).

One world is built per module (``world.py``) inside a transaction that is rolled back at
the end; each request runs in a savepoint that is rolled back too, so a delete with an
own id changes nothing for the next request.
"""

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from kam.core import twofactor

from . import matrix as m
from .world import (
    NO_OWN_ID,
    PERSONAS,
    World,
    build_world,
    reset_sequences,
    settings_for_world,
    unbuilt_models,
)

# The marker makes pytest-django set up the test database; each test then runs in a
# savepoint of the module's transaction.
pytestmark = pytest.mark.django_db

PAGE_ROUTES = [r for r in m.page_routes() if r.pattern not in m.UNEXERCISED]
API_ROUTES = m.api_routes()

#: Counts printed at the end of the run (tests/access/conftest.py).
COUNTS: Counter[str] = Counter()


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock(), override_settings(**settings_for_world()):
        try:
            with transaction.atomic():
                built = build_world()
                yield built
                transaction.set_rollback(True)
        finally:
            reset_sequences()


@pytest.fixture(scope="module")
def clients(world: World) -> dict[str, Client]:
    out = {}
    for name, user in world.personas.items():
        # A view's exception becomes the 500 a user would get (reported, not raised).
        client = Client(headers={"Accept-Language": "zh-hans"}, raise_request_exception=False)
        client.force_login(user)
        if twofactor.asks_second_factor(user):
            # Logged in with both factors, as django-otp marks a verified session.
            device = TOTPDevice.objects.create(user=user, name=twofactor.TOTP_NAME,
                                               confirmed=True)  # fmt: skip
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        out[name] = client
    return out


@pytest.fixture(scope="module")
def crawl(world: World, clients: dict[str, Client]) -> dict[str, Any]:
    """Every page opened by every persona with own ids: the answers, and the POST forms and
    links found on them (the bodies and queries the matrix sends later)."""
    answers: dict[tuple[str, str], m.Answer] = {}
    forms: dict[tuple[str, str], list[m.Form]] = {}
    links: dict[tuple[str, str], list[dict[str, str]]] = {}
    fragments: dict[tuple[str, str], set[m.Fragment]] = {}
    for persona, client in clients.items():
        for route in PAGE_ROUTES:
            values = _own_values(world, persona, route)
            if values is None:
                continue
            path = m.fill(route.template, values)
            answer = m.call(client, "GET", path)
            answers[(persona, route.pattern)] = answer
            if answer.status != 200 or "<form" not in answer.text and "href" not in answer.text:
                continue
            page_forms, page_fragments = m.parse_page(path, answer.text)
            for form in page_forms:
                target = m.route_of(form.action)
                if not target:
                    continue
                if form.method == "post":
                    forms.setdefault((persona, target), []).append(form)
                else:  # a filter: its fields are the route's query
                    query = {n: v for n, v in form.fields if v}
                    if query:
                        links.setdefault((persona, target), []).append(query)
            for fragment in page_fragments:
                target = m.route_of(fragment.url)
                if target:
                    fragments.setdefault((persona, target), set()).add(fragment)
            for href in _hrefs(answer.text):
                target = m.route_of(href)
                query = m.query_of(href)
                if target and query:
                    links.setdefault((persona, target), []).append(query)
    return {"answers": answers, "forms": forms, "links": links, "fragments": fragments}


def _hrefs(html: str) -> list[str]:
    import re

    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"#]*\?[^"#]*)"', html)]


def _own_values(world: World, persona: str, route: m.Route) -> dict[str, Any] | None:
    values = {}
    for p in route.params:
        if p.where != "path":
            continue
        if p.noun is None:
            return None
        kinds = m.ids_for(world, persona, p.noun)
        values[p.name] = kinds.get("own", NO_OWN_ID if p.noun.attr == "pk" else "NOOWN0001")
    return values


# --- the generator's own completeness -----------------------------------------------------


def test_every_route_is_placed_or_listed_with_a_reason() -> None:
    unplaced = {r.pattern: r.unplaced for r in [*PAGE_ROUTES, *API_ROUTES] if r.unplaced}
    assert not unplaced, (
        "These routes carry ids the access matrix cannot place: add the word before the id "
        f"to matrix.NOUNS, or list the route in matrix.UNEXERCISED with a reason: {unplaced}"
    )


def test_every_listed_exception_still_exists() -> None:
    patterns = {r.pattern for r in m.page_routes()}
    stale = [p for p in m.UNEXERCISED if p not in patterns]
    assert not stale, f"matrix.UNEXERCISED names routes that no longer exist: {stale}"


def test_the_world_holds_every_account_scoped_kind_on_both_sides(world: World) -> None:
    missing = unbuilt_models(world)
    assert not missing, (
        "Account-scoped models without a row on both sides of tests/access/world.py: build "
        f"them there, so that the matrix can catch their leaks: {missing}"
    )


# --- the matrix ----------------------------------------------------------------------------


class Report:
    def __init__(self, route: m.Route) -> None:
        self.route = route
        self.problems: list[str] = []

    def leaks(self, persona: str, what: str, answer: m.Answer, world: World,
              sent: set[str]) -> None:  # fmt: skip
        found = m.find_leaks(answer.text, m.canaries_for(world, persona), sent)
        COUNTS["calls"] += 1
        if answer.status >= 500 or answer.error:
            self.problems.append(f"[{persona}] {what} -> {answer.status} {answer.error}")
        if found:
            self.problems.append(f"[{persona}] {what} -> {answer.status} carries {found}")

    def differ(self, persona: str, what: str, foreign: m.Answer, fv: Any, missing: m.Answer,
               mv: Any) -> None:  # fmt: skip
        COUNTS["comparisons"] += 1
        a, b = m.normalised(foreign, fv), m.normalised(missing, mv)
        if a != b:
            detail = (f"status {a[0]} vs {b[0]}" if a[0] != b[0]
                      else f"location {a[2]!r} vs {b[2]!r}" if a[2] != b[2]
                      else m.first_difference(a[1], b[1]))  # fmt: skip
            self.problems.append(
                f"[{persona}] {what}: a foreign id answers unlike a missing one ({detail})"
            )

    def check(self) -> None:
        assert not self.problems, f"{self.route.pattern}:\n" + "\n".join(self.problems)


def _variants(world: World, persona: str, route: m.Route) -> Iterator[tuple[str, dict[str, Any],
                                                                          str, Any]]:  # fmt: skip
    """(param, values, kind, value): own values everywhere but one param of another kind."""
    own = _own_values(world, persona, route)
    if own is None:
        return
    for p in route.params:
        if p.where != "path" or p.noun is None:
            continue
        kinds = m.ids_for(world, persona, p.noun)
        for kind in ("foreign", "missing"):
            if kind in kinds:
                yield p.name, {**own, p.name: kinds[kind]}, kind, kinds[kind]


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=[r.pattern for r in PAGE_ROUTES])
def test_page(route: m.Route, world: World, clients: dict[str, Client],
              crawl: dict[str, Any]) -> None:  # fmt: skip
    report = Report(route)
    COUNTS["page routes"] += 1
    for persona, client in clients.items():
        own = _own_values(world, persona, route)
        if own is None:
            continue
        sent_own = {str(v) for v in own.values()}
        answer = crawl["answers"][(persona, route.pattern)]
        COUNTS["kind own"] += 1
        report.leaks(persona, f"GET {m.fill(route.template, own)}", answer, world, sent_own)
        forms = crawl["forms"].get((persona, route.pattern), [])
        body = list(forms[0].fields) if forms else []
        own_path = m.fill(route.template, own)
        posted = m.call(client, "POST", own_path, data=_form_data(body))
        report.leaks(persona, f"POST {own_path}", posted, world, sent_own)

        # Ids in the path.
        by_param: dict[str, dict[str, tuple[Any, m.Answer, m.Answer]]] = {}
        for param, values, kind, value in _variants(world, persona, route):
            path = m.fill(route.template, values)
            got = m.call(client, "GET", path)
            post = m.call(client, "POST", path, data=_form_data(body))
            COUNTS[f"kind {kind}"] += 1
            sent = {str(v) for v in values.values()}
            report.leaks(persona, f"GET {path}", got, world, sent)
            report.leaks(persona, f"POST {path}", post, world, sent)
            by_param.setdefault(param, {})[kind] = (value, got, post)
        for param, kinds in by_param.items():
            if "foreign" in kinds and "missing" in kinds:
                (fv, fg, fp), (mv, mg, mp) = kinds["foreign"], kinds["missing"]
                report.differ(persona, f"GET with {param}", fg, fv, mg, mv)
                report.differ(persona, f"POST with {param}", fp, fv, mp, mv)

        # HTMX fragments of the page (partial templates).
        for fragment in sorted(crawl["fragments"].get((persona, route.pattern), set()),
                               key=lambda f: (f.url, f.target))[:3]:  # fmt: skip
            headers = {"HX-Request": "true", "HX-Target": fragment.target}
            partial = m.call(client, "GET", fragment.url, headers=headers)
            COUNTS["kind own"] += 1
            report.leaks(persona, f"GET {fragment.url} (HTMX #{fragment.target})", partial,
                         world, sent_own)  # fmt: skip

        # Ids in the query (links and filters found on the persona's pages) and in forms.
        queries = crawl["links"].get((persona, route.pattern), [])
        with_ids = [q for q in queries if any(m.noun(k) for k in q)]
        for query in (with_ids or queries)[:2]:
            _vary_fields(report, world, client, persona, "GET", own_path, list(query.items()))
        for form in forms[:2]:
            _vary_fields(report, world, client, persona, "POST", own_path, form.fields)
    report.check()


def _form_data(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


def _vary_fields(report: Report, world: World, client: Client, persona: str, method: str,
                 path: str, fields: list[tuple[str, str]]) -> None:  # fmt: skip
    """Swap a foreign and a missing id into each id-bearing field (mixed in with the own
    values where the field takes several)."""
    names = {n for n, _ in fields}
    for name in sorted(names):
        noun = m.noun(name)
        if noun is None:
            continue
        kinds = m.ids_for(world, persona, noun)
        answers = {}
        for kind in ("foreign", "missing"):
            if kind not in kinds:
                continue
            value = str(kinds[kind])
            keep = [(n, v) for n, v in fields if n != name]
            mine = [(n, v) for n, v in fields if n == name and v]
            several = len(mine) > 1 or name.endswith("s")
            varied = keep + (mine if several else []) + [(name, value)]
            data = _form_data(varied)
            if method == "GET":
                answer = m.call(client, "GET", path, data=data)
            else:
                answer = m.call(client, "POST", path, data=data)
            COUNTS[f"kind {kind}"] += 1
            report.leaks(persona, f"{method} {path} {name}={value}", answer, world,
                         {str(v) for _, v in varied})  # fmt: skip
            answers[kind] = (value, answer)
        if len(answers) == 2 and name not in UNIQUE_VALUES:
            (fv, fa), (mv, ma) = answers["foreign"], answers["missing"]
            report.differ(persona, f"{method} {path} with {name}", fa, fv, ma, mv)


#: Fields whose value must be unique (a billing code): a taken one is refused where a new
#: one is accepted, so foreign and missing necessarily answer differently; the refusal must
#: still name nothing (the leak check holds).
UNIQUE_VALUES = {"code", "billing_code"}


@pytest.mark.parametrize("route", API_ROUTES, ids=[r.pattern for r in API_ROUTES])
def test_api(route: m.Route, world: World, clients: dict[str, Client]) -> None:
    report = Report(route)
    COUNTS["API operations"] += 1
    for persona, client in clients.items():
        own = _own_values(world, persona, route)
        if own is None:
            continue
        body = _body(world, persona, route.body_schema) if route.body_schema else None
        query = _query(world, persona, route)
        path = m.with_query(m.fill(route.template, own), query)
        sent_own = {str(v) for v in [*own.values(), *query.values()]}
        answer = m.call(client, route.method, path, json_body=body)
        COUNTS["kind own"] += 1
        report.leaks(persona, f"{route.method} {path}", answer, world,
                     sent_own | _sent(body))  # fmt: skip
        by_param: dict[str, dict[str, tuple[Any, m.Answer]]] = {}
        for param, values, kind, value in _variants(world, persona, route):
            p = m.with_query(m.fill(route.template, values), query)
            got = m.call(client, route.method, p, json_body=body)
            COUNTS[f"kind {kind}"] += 1
            report.leaks(persona, f"{route.method} {p}", got, world,
                         {str(v) for v in values.values()} | _sent(body))  # fmt: skip
            by_param.setdefault(param, {})[kind] = (value, got)
        for p in route.params:
            if p.where != "query" or p.noun is None:
                continue
            kinds = m.ids_for(world, persona, p.noun)
            for kind in ("foreign", "missing"):
                if kind in kinds:
                    q = {**query, p.name: kinds[kind]}
                    url = m.with_query(m.fill(route.template, own), q)
                    got = m.call(client, route.method, url, json_body=body)
                    COUNTS[f"kind {kind}"] += 1
                    report.leaks(persona, f"{route.method} {url}", got, world,
                                 {str(v) for v in q.values()} | _sent(body))  # fmt: skip
                    by_param.setdefault(f"?{p.name}", {})[kind] = (kinds[kind], got)
        if body is not None:
            for name in m._id_fields(route.body_schema) + [
                n for n in (route.body_schema or {}).get("properties", {}) if n in UNIQUE_VALUES
            ]:
                noun = m.noun(name)
                if noun is None:
                    continue
                kinds = m.ids_for(world, persona, noun)
                for kind in ("foreign", "missing"):
                    if kind not in kinds:
                        continue
                    varied = dict(body)
                    if isinstance(body.get(name), list):
                        varied[name] = [*body[name], kinds[kind]]
                    else:
                        varied[name] = kinds[kind]
                    own_path = m.with_query(m.fill(route.template, own), query)
                    got = m.call(client, route.method, own_path, json_body=varied)
                    COUNTS[f"kind {kind}"] += 1
                    report.leaks(persona, f"{route.method} {own_path} {name}={kinds[kind]}",
                                 got, world, sent_own | _sent(varied))  # fmt: skip
                    if name not in UNIQUE_VALUES:
                        by_param.setdefault(f"body.{name}", {})[kind] = (kinds[kind], got)
        for param, kinds in by_param.items():
            if "foreign" in kinds and "missing" in kinds:
                (fv, fa), (mv, ma) = kinds["foreign"], kinds["missing"]
                report.differ(persona, f"{route.method} with {param}", fa, fv, ma, mv)
    report.check()


def _sent(body: Any) -> set[str]:
    if body is None:
        return set()
    out: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif v is not None:
            out.add(str(v))

    walk(body)
    return out


def _query(world: World, persona: str, route: m.Route) -> dict[str, Any]:
    """Required query parameters, with plausible values."""
    out: dict[str, Any] = {}
    for p in route.query_schema:
        if p.get("required"):
            out[p["name"]] = _gen(world, persona, p["name"], p["schema"])
    return out


def _body(world: World, persona: str, schema: dict[str, Any]) -> Any:
    return _gen(world, persona, "", schema)


def _gen(world: World, persona: str, name: str, schema: dict[str, Any]) -> Any:
    """A plausible value for a JSON schema: own ids where ids go, the first choice of an
    enum, a date in range, text within its length."""
    import datetime

    from django.utils import timezone

    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"] or [schema]
    schema = {**options[0], **{k: v for k, v in schema.items() if k != "anyOf"}}
    noun = m.noun(name)
    if noun is not None and (m._is_id(schema) or name in UNIQUE_VALUES):
        kinds = m.ids_for(world, persona, noun)
        return kinds.get("own", NO_OWN_ID if noun.attr == "pk" else "NOOWN0001")
    if schema.get("type") == "array" and m._is_id(schema.get("items", {})):
        if noun is None:
            return []
        kinds = m.ids_for(world, persona, noun)
        return [kinds["own"]] if "own" in kinds else []
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        props = schema.get("properties", {})
        ids = set(m._id_fields(schema))
        return {k: _gen(world, persona, k, v) for k, v in props.items() if k in required | ids}
    if kind == "array":
        n = schema.get("minItems", 0)
        return [_gen(world, persona, name, schema.get("items", {})) for _ in range(n)]
    if kind == "integer":
        return schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
    if kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return timezone.localdate().isoformat()
        if fmt == "date-time":
            return (timezone.now() + datetime.timedelta(days=2)).isoformat()
        if fmt == "email":
            return "matrix@carrier.example"
        text = "矩阵测试"
        low = schema.get("minLength", 1)
        return (text * (low // len(text) + 1))[
            : max(low, min(len(text), schema.get("maxLength", 4)))
        ]
    return None


def test_personas_cover_every_role() -> None:
    from kam.core.models import Role

    assert set(PERSONAS.values()) == set(Role.values)
