"""Row-by-row validation of a staged source, as one DuckDB query (no Django).

:func:`create_parsed_view` defines the view ``parsed``: for every contract column ``c`` the
file maps, ``raw_c`` (the cell as read, made text for reject reports), ``v_c`` (the typed, normalised
value) and ``e_c`` (an error code, NULL when the cell is good). The codes are turned into
sentences in the user's language by ``kam.ledger.messages``. Every row is checked; no
error stops the others.

Times: a value without a UTC offset is Beijing time. ``v_ship_time`` and the other times
are stored in UTC; ``v_ship_date`` and ``v_month`` are the Beijing calendar's.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import duckdb

from .contract import (
    BY_NAME,
    COLUMNS,
    CONSIGNEE_TYPES,
    FLAGS,
    PRODUCTS,
    STATUSES,
    TIME_FORMATS,
    TIME_FORMATS_WITH_OFFSET,
    Column,
    value_table,
)

# Lake column types (also the order of the lake's columns).
LAKE_TYPES: dict[str, str] = {
    "waybill_no": "VARCHAR",
    "billing_code": "VARCHAR",
    "ship_time": "TIMESTAMP",
    "ship_date": "DATE",
    "origin": "VARCHAR",
    "destination": "VARCHAR",
    "product": "VARCHAR",
    "pieces": "INTEGER",
    "weight_kg": "DECIMAL(12,3)",
    "freight": "DECIMAL(18,2)",
    "surcharges": "DECIMAL(18,2)",
    "cost": "DECIMAL(18,2)",
    "cod_amount": "DECIMAL(18,2)",
    "declared_value": "DECIMAL(18,2)",
    "goods_category": "VARCHAR",
    "consignee_type": "VARCHAR",
    "status": "VARCHAR",
    "delivered_time": "TIMESTAMP",
    "promised_time": "TIMESTAMP",
    "is_return": "BOOLEAN",
}
# Columns compared to decide "the same waybill" (duplicate) versus "a changed one" (conflict).
CONTENT_COLUMNS = [c for c in LAKE_TYPES if c != "ship_date"]

_FULLWIDTH_FROM = "０１２３４５６７８９．，－＋：／　"
_FULLWIDTH_TO = "0123456789.,-+:/ "
_BEIJING_OFFSET = "INTERVAL 8 HOUR"
EARLIEST = "2000-01-01"
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "DECIMAL", "DOUBLE", "FLOAT", "REAL")  # fmt: skip


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_numeric(source_type: str) -> bool:
    return source_type.upper().startswith(_NUMERIC)


def _is_float(source_type: str) -> bool:
    return source_type.upper() in ("DOUBLE", "FLOAT", "REAL")


def _source_scale(source_type: str) -> int:
    """Decimal places a numeric source type can hold (0 for integers; floats: 99)."""
    upper = source_type.upper()
    if upper.startswith("DECIMAL"):
        match = re.search(r"\(\s*\d+\s*,\s*(\d+)\s*\)", upper)
        return int(match.group(1)) if match else 3  # DuckDB's bare DECIMAL is (18,3)
    return 99 if _is_float(upper) else 0


def _case(
    expr: str, choices: Mapping[Any, tuple[str, ...]], sql_value: Callable[[Any], str]
) -> str:
    """The canonical value of ``expr``'s spelling, NULL when unknown (one MAP lookup per row)."""
    pairs = ", ".join(f"{_lit(k)}: {sql_value(v)}" for k, v in value_table(choices))
    return f"(MAP {{{pairs}}})[lower({expr})]"


def _list(formats: Iterable[str]) -> str:
    return "[" + ", ".join(_lit(f) for f in formats) + "]"


def _clean(expr: str, normalized: bool) -> str:
    """The cell as text, NULL when empty. Staged sources are NFKC-normalised and trimmed
    already (:mod:`sources`); for Parquet text, full-width characters are folded here, and
    only in cells that hold one (``translate`` is the costliest function here)."""
    text = f"CAST({expr} AS VARCHAR)"
    if normalized:
        return f"NULLIF({text}, '')"
    folded = f"translate({text}, {_lit(_FULLWIDTH_FROM)}, {_lit(_FULLWIDTH_TO)})"
    # A regular-expression test is six times cheaper than translate() on Chinese text.
    needs = f"regexp_matches({text}, '[{_FULLWIDTH_FROM}]')"
    return f"NULLIF(trim(CASE WHEN {needs} THEN {folded} ELSE {text} END), '')"


def _number_text(s: str) -> str:
    """Money and weights as people type them: '1,234.50', '¥12', '12元' -> '1234.50', '12'."""
    return f"trim(regexp_replace({s}, '[,¥￥元\\s]|CNY|RMB|kg|KG|公斤', '', 'g'))"


def _decimal_parts(col: Column, src: str, source_type: str, scale: int) -> tuple[str, str]:
    """(value, error) for money, weight and counts. The error reads the value as ``v_<name>``
    (computed once, a stage earlier): DuckDB would evaluate a repeated expression again."""
    v = f"v_{col.name}"
    precision = {2: "DECIMAL(18,2)", 3: "DECIMAL(12,3)", 0: "INTEGER"}[scale]
    required = "'required'" if col.required else "NULL"
    if source_type and _is_numeric(source_type):
        raw = src
        value = f"TRY_CAST({raw} AS {precision})"
        inexact = ""  # whole numbers, or decimals with no more places than we keep
        if _is_float(source_type):
            inexact = f"abs(CAST({raw} AS DOUBLE) - round(CAST({raw} AS DOUBLE), {scale})) > 1e-9"
        elif _source_scale(source_type) > scale:
            inexact = (
                f"CAST({raw} AS DECIMAL(38,10)) <> round(CAST({raw} AS DECIMAL(38,10)), {scale})"
            )
        reason = "not_whole" if scale == 0 else "too_many_decimals"
        error = (
            f"CASE WHEN {raw} IS NULL THEN {required} "
            f"WHEN {raw} < 0 THEN 'negative' "
            + (f"WHEN {inexact} THEN '{reason}' " if inexact else "")
            + f"WHEN {v} IS NULL THEN 'too_large' "
            + (f"WHEN {raw} < 1 THEN 'below_one' " if scale == 0 else "")
            + "END"
        )
        return value, error
    text = f"t_{col.name}"
    value = f"TRY_CAST({text} AS {precision})"
    pattern = r"\d+" if scale == 0 else r"\d+(\.\d+)?|\.\d+"
    error = (
        f"CASE WHEN s_{col.name} IS NULL THEN {required} "
        f"WHEN regexp_full_match({text}, '-\\s*({pattern})') THEN "
        f"(CASE WHEN TRY_CAST(replace({text}, ' ', '') AS DOUBLE) = 0 THEN NULL ELSE 'negative' END) "
        f"WHEN NOT regexp_full_match({text}, '{pattern}') THEN "
        f"(CASE WHEN regexp_full_match({text}, '\\d+\\.\\d+') THEN 'not_whole' ELSE 'not_a_number' END) "
        + (
            f"WHEN regexp_full_match({text}, '\\d*\\.\\d{{{scale + 1},}}') THEN 'too_many_decimals' "
            if scale
            else ""
        )
        + f"WHEN {v} IS NULL THEN 'too_large' "
        + (f"WHEN {v} < 1 THEN 'below_one' " if scale == 0 else "")
        + "END"
    )
    # A negative zero ('-0') is zero.
    value = f"CASE WHEN regexp_full_match({text}, '-\\s*0*(\\.0*)?') THEN CAST(0 AS {precision}) ELSE {value} END"
    return value, error


def _time_parts(col: Column, src: str, source_type: str, now_local: str) -> tuple[str, str]:
    """(local time, error). The caller turns local time into UTC."""
    required = "'required'" if col.required else "NULL"
    upper = source_type.upper()
    if upper in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        # timezone('UTC', ...) gives UTC wall time whatever the session's zone (a CAST would
        # use the machine's zone: 8 hours off on a server set to Asia/Shanghai).
        local = f"timezone('UTC', {src}) + {_BEIJING_OFFSET}"
    elif upper.startswith(("TIMESTAMP", "DATE")):
        local = f"CAST({src} AS TIMESTAMP)"
    else:
        s = f"s_{col.name}"
        local = (
            f"COALESCE(try_strptime({s}, {_list(TIME_FORMATS)}), "
            # DuckDB's %z does not read 'Z' (UTC, as JavaScript's toISOString() writes it).
            f"timezone('UTC', try_strptime(regexp_replace({s}, '(\\d)[Zz]$', '\\1+00:00'), "
            f"{_list(TIME_FORMATS_WITH_OFFSET)})) + {_BEIJING_OFFSET})"
        )
    # A typed cell is present when it is not NULL (its text is never needed).
    present = src if upper.startswith(("TIMESTAMP", "DATE")) else f"s_{col.name}"
    v = f"v_{col.name}"
    error = (
        f"CASE WHEN {present} IS NULL THEN {required} "
        f"WHEN {v} IS NULL THEN 'bad_time' "
        f"WHEN {v} < TIMESTAMP '{EARLIEST}' OR {v} > TIMESTAMP '{now_local}' + INTERVAL 1 DAY "
        f"THEN 'time_out_of_range' END"
    )
    return local, error


def _choice_parts(
    col: Column, choices: Mapping[Any, tuple[str, ...]], code: str
) -> tuple[str, str]:
    s = f"s_{col.name}"
    value = _case(s, choices, lambda v: _lit(str(v)))
    required = "'required'" if col.required else "NULL"
    error = f"CASE WHEN {s} IS NULL THEN {required} WHEN v_{col.name} IS NULL THEN '{code}' END"
    return value, error


# Kinds whose check depends on the cell alone and whose cells repeat (codes, places, choices,
# free text): checked once per distinct value and joined back. DuckDB runs a regular
# expression once per row even over a Parquet dictionary, so this is what makes the check of
# a large file cheap (bench/ledger). The waybill number is unique per row: checked inline.
_CODE = "[A-Za-z0-9][A-Za-z0-9_\\-]*"  # a waybill number or billing account code
_BY_DISTINCT_VALUE = ("code", "text", "region", "product", "status", "consignee", "flag")


def _by_value(name: str) -> bool:
    return BY_NAME[name].kind in _BY_DISTINCT_VALUE and name != "waybill_no"


def _column_parts(
    name: str, src: str, stype: str, normalized: bool, now_local: str
) -> tuple[list[str], str, str]:
    """(stage-1 expressions, value, error) of one contract column read from ``src``.

    Stage 1 holds ``raw_<name>``, the cleaned text ``s_<name>`` and helpers; the value and
    the error read those (the error also reads ``v_<name>``). A region's value is "" here:
    it comes from a join with ``region_alias`` on ``k_<name>``.
    """
    col = BY_NAME[name]
    # The cell as read; made text only in the problems of a bad row (casting every cell of
    # a typed Parquet file to text cost a third of the check).
    typed = (
        (col.kind in ("money", "weight", "count") and _is_numeric(stype))
        or (col.kind == "time" and stype.upper().startswith(("TIMESTAMP", "DATE")))
        or (col.kind == "flag" and stype.upper() == "BOOLEAN")
    )
    stage1 = [f"{src} AS raw_{name}"]
    if col.kind == "code" and not normalized:
        # Most codes are plain ASCII already: one test, and the costly clean-up only if not.
        text = f"CAST({src} AS VARCHAR)"
        plain = f"regexp_full_match({text}, '{_CODE}')"
        # The same test twice in one projection runs once (DuckDB's common subexpressions);
        # ok_<name> spares the error check from testing the cleaned text again.
        stage1.append(f"{plain} AS ok_{name}")
        stage1.append(
            f"CASE WHEN {plain} THEN {text} ELSE {_clean(src, normalized)} END AS s_{name}"
        )
    elif not typed:  # a typed cell needs no text (and making it text costs)
        stage1.append(f"{_clean(src, normalized)} AS s_{name}")
    if col.kind in ("money", "weight", "count"):
        scale = {"money": 2, "weight": 3, "count": 0}[col.kind]
        if _is_numeric(stype):
            stage1.append(f"{src} AS n_{name}")
            value, error = _decimal_parts(col, f"n_{name}", stype, scale)
        else:
            stage1.append(f"{_number_text(f's_{name}')} AS t_{name}")
            value, error = _decimal_parts(col, "", "", scale)
    elif col.kind == "time":
        if stype.upper().startswith(("TIMESTAMP", "DATE")):
            stage1.append(f"{src} AS n_{name}")
            value, error = _time_parts(col, f"n_{name}", stype, now_local)
        else:
            value, error = _time_parts(col, "", "VARCHAR", now_local)
    elif col.kind == "code":
        s = f"s_{name}"
        value = f"upper({s})"  # billing codes are kept in capitals in the archive too
        passed = "" if normalized else f"WHEN ok_{name} THEN NULL "  # matched as read
        error = (
            f"CASE WHEN {s} IS NULL THEN 'required' "
            f"WHEN length({s}) > {col.max_length} THEN 'too_long' "
            + passed
            + f"WHEN NOT regexp_full_match({s}, '{_CODE}') THEN 'bad_code' END"
        )
    elif col.kind == "text":
        value = f"s_{name}"
        error = f"CASE WHEN length(s_{name}) > {col.max_length} THEN 'too_long' END"
    elif col.kind == "region":
        stage1.append(f"lower(regexp_replace(s_{name}, '[\\s/\\-,，·|>]+', '', 'g')) AS k_{name}")
        value = ""
        error = (
            f"CASE WHEN s_{name} IS NULL THEN 'required' "
            f"WHEN v_{name} IS NULL THEN 'unknown_region' END"
        )
    elif col.kind == "product":
        value, error = _choice_parts(col, PRODUCTS, "unknown_product")
    elif col.kind == "status":
        value, error = _choice_parts(col, STATUSES, "unknown_status")
    elif col.kind == "consignee":
        value, error = _choice_parts(col, CONSIGNEE_TYPES, "unknown_consignee")
    elif col.kind == "flag":
        if stype.upper() == "BOOLEAN":
            stage1.append(f"{src} AS n_{name}")
            value = f"COALESCE(n_{name}, false)"
            error = "CAST(NULL AS VARCHAR)"
        else:
            case = _case(f"s_{name}", FLAGS, lambda v: "true" if v else "false")
            value = f"CASE WHEN s_{name} IS NULL THEN false ELSE {case} END"
            error = f"CASE WHEN s_{name} IS NOT NULL AND v_{name} IS NULL THEN 'unknown_flag' END"
    else:  # pragma: no cover - the contract has no other kinds
        raise AssertionError(col.kind)
    return stage1, value, error


def _value_sql(name: str, value: str, source: str) -> tuple[str, str]:
    """(value expression, FROM clause): a region's value is its code in ``region_alias``."""
    if BY_NAME[name].kind == "region":
        return (
            f"r.code AS v_{name}",
            f"{source} LEFT JOIN region_alias r ON r.alias = k_{name}",
        )
    return f"{value} AS v_{name}", source


def create_parsed_view(
    con: duckdb.DuckDBPyConnection,
    source_sql: str,
    mapping: dict[str, str],
    source_types: dict[str, str],
    now_utc: datetime,
    normalized: bool = False,
) -> list[str]:
    """Define ``parsed`` over ``source_sql``. Returns the contract columns present.

    ``mapping`` is contract column -> source heading; ``source_types`` the DuckDB type of
    each source heading (VARCHAR for staged text). ``normalized``: the text is NFKC-folded and
    trimmed already (staged sources). The table ``region_alias(alias, code)`` must exist.
    Columns checked by distinct value get a view ``d_<name>`` (raw -> value, error).
    """
    now_local = (now_utc.replace(tzinfo=None) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    present = [c.name for c in COLUMNS if c.name in mapping]
    stage1 = ["_row"]  # raw cells and cleaned strings
    stage2 = ["*"]  # typed values
    stage3 = ["*"]  # errors
    joined = ["q.*"]  # values and errors of the columns checked by distinct value
    joins = []
    for name in present:
        src = _ident(mapping[name])
        stype = source_types.get(mapping[name], "VARCHAR")
        if _by_value(name):
            parts, value, error = _column_parts(name, "d_raw", stype, normalized, now_local)
            value_sql, from_sql = _value_sql(name, value, "c")
            con.execute(
                f"""CREATE OR REPLACE TEMP VIEW d_{name} AS
                    WITH c AS (SELECT d_raw, {", ".join(parts)}
                               FROM (SELECT DISTINCT {src} AS d_raw FROM {source_sql})),
                    p AS (SELECT c.*, {value_sql} FROM {from_sql})
                    SELECT d_raw, v_{name}, {error} AS e_{name} FROM p"""
            )
            stage1.append(f"{src} AS raw_{name}")
            joined += [f"d_{name}.v_{name}", f"d_{name}.e_{name}"]
            joins.append(f"LEFT JOIN d_{name} ON q.raw_{name} IS NOT DISTINCT FROM d_{name}.d_raw")
            continue
        parts, value, error = _column_parts(name, src, stype, normalized, now_local)
        stage1 += parts
        stage2.append(f"{value} AS v_{name}")
        stage3.append(f"{error} AS e_{name}")
        if name == "waybill_no":
            # The waybill numbers alone (for finding repeats before the one full pass).
            con.execute(
                f"""CREATE OR REPLACE TEMP VIEW parsed_keys AS
                    SELECT _row, {value} AS v_waybill_no
                    FROM (SELECT _row, {", ".join(parts)} FROM {source_sql})"""
            )

    # Row-level checks: a delivery or a promise before the shipment is impossible.
    stage3.extend(
        f"CASE WHEN v_{name} IS NOT NULL AND v_ship_time IS NOT NULL AND v_{name} < v_ship_time "
        f"THEN 'before_ship' END AS x_{name}"
        for name in ("delivered_time", "promised_time")
        if name in present
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW parsed_1 AS
        WITH c AS (SELECT {", ".join(stage1)} FROM {source_sql}),
        p AS (SELECT {", ".join(stage2)} FROM c),
        q AS (SELECT {", ".join(stage3)} FROM p)
        SELECT {", ".join(joined)} FROM q {" ".join(joins)}
        """
    )
    # Merge the row-level checks into the column's error and express times in UTC.
    merged = []
    for name in present:
        if name in ("delivered_time", "promised_time"):
            merged.append(f"COALESCE(e_{name}, x_{name}) AS e_{name}")
        else:
            merged.append(f"e_{name}")
    utc = [f"v_{n} - {_BEIJING_OFFSET} AS u_{n}" for n in present if BY_NAME[n].kind == "time"]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW parsed AS
        SELECT _row, {", ".join(f"raw_{n}" for n in present)},
               {", ".join(f"v_{n}" for n in present)}, {", ".join(utc)},
               {", ".join(merged)}
        FROM parsed_1
        """
    )
    return present


# An ENUM column's Parquet dictionary holds all its values in every row group, used or not:
# beyond this many values (a national carrier's billing codes) it would cost more than the
# hashing it saves, and such a column is written as plain text.
ENUM_MAX_VALUES = 65_536


def freeze_distinct_values(con: duckdb.DuckDBPyConnection, present: list[str]) -> None:
    """Check the columns checked by distinct value now, once: each ``d_<name>`` becomes a
    view of a table. The lake's text columns among them get an ENUM type of the values found,
    which DuckDB writes to Parquet as the dictionary it already holds instead of hashing every
    cell (the lake reads them as text), up to ``ENUM_MAX_VALUES`` values. Once per connection,
    before the import's write."""
    for name in present:
        if not _by_value(name):
            continue
        table, value = f"d_{name}_values", f"v_{name}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM d_{name}")
        found = con.execute(f"SELECT count(DISTINCT {value}) FROM {table}").fetchone()
        if LAKE_TYPES[name] == "VARCHAR" and found and 0 < found[0] <= ENUM_MAX_VALUES:
            con.execute(
                f"CREATE TYPE kam_{name} AS ENUM "
                f"(SELECT DISTINCT {value} FROM {table} WHERE {value} IS NOT NULL)"
            )
            value = f"CAST({value} AS kam_{name}) AS {value}"
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW d_{name} AS SELECT d_raw, {value}, e_{name} FROM {table}"
        )


def error_condition(present: list[str], any_error: bool = True) -> str:
    joiner = " OR " if any_error else " AND "
    test = "IS NOT NULL" if any_error else "IS NULL"
    return "(" + joiner.join(f"e_{n} {test}" for n in present) + ")"


def _problems(present: list[str]) -> str:
    items = ", ".join(
        f"{{'column': '{n}', 'value': CAST(raw_{n} AS VARCHAR), 'reason': e_{n}}}" for n in present
    )
    return f"list_filter([{items}], lambda x: x.reason IS NOT NULL)"


def rejects_sql(present: list[str]) -> str:
    """One row per bad cell: (row, column, value, reason)."""
    return f"""
        SELECT _row AS row, r.column AS "column", r.value AS value, r.reason AS reason, '' AS detail
        FROM (SELECT _row, unnest({_problems(present)}) AS r FROM parsed WHERE {error_condition(present)})
    """


def _lake_columns(present: list[str]) -> list[str]:
    out = []
    for name, sql_type in LAKE_TYPES.items():
        if name == "ship_date":
            out.append("CAST(v_ship_time AS DATE) AS ship_date")
        elif name in present and BY_NAME[name].kind == "time":
            out.append(f"u_{name} AS {name}")
        elif name == "surcharges" and name in present:
            # An empty surcharge is zero: revenue is freight + surcharges, and NULL would drop
            # the waybill's freight from every sum.
            out.append(f"COALESCE(CAST(v_{name} AS {sql_type}), 0) AS {name}")
        elif name in present and _by_value(name) and sql_type == "VARCHAR":
            out.append(f"v_{name} AS {name}")  # text, or an ENUM once frozen: no cast
        elif name in present:
            out.append(f"CAST(v_{name} AS {sql_type}) AS {name}")
        elif name == "surcharges":
            out.append(f"CAST(0 AS {sql_type}) AS surcharges")
        elif name == "is_return":
            out.append("false AS is_return")
        else:
            out.append(f"CAST(NULL AS {sql_type}) AS {name}")
    out.append("strftime(v_ship_time, '%Y-%m') AS month")
    return out


def lake_select_sql(present: list[str]) -> str:
    """The typed lake row of every good row, in the lake's column order, plus _row and month."""
    return f"SELECT _row, {', '.join(_lake_columns(present))} FROM parsed WHERE {error_condition(present, any_error=False)}"


def checked_sql(present: list[str], suspects: str = "") -> str:
    """Every row once: ``_row``, its lake columns, ``problems`` (NULL for a good row, else the
    list of (column, value, reason) of its bad cells) and ``part``: the month (Beijing
    calendar) of a good row, ``rejected`` for a bad one, and ``suspect`` for a good row whose
    waybill number's hash is in the table ``suspects`` (when named). One pass does it all."""
    bad = error_condition(present)
    suspect = (
        f"WHEN hash(v_waybill_no) IN (SELECT h FROM {suspects}) THEN 'suspect' " if suspects else ""
    )
    columns = [c for c in _lake_columns(present) if not c.endswith(" AS month")]
    return (
        f"SELECT _row, {', '.join(columns)}, "
        f"CASE WHEN {bad} THEN {_problems(present)} END AS problems, "
        f"CASE WHEN {bad} THEN 'rejected' {suspect}"
        f"ELSE strftime(v_ship_time, '%Y-%m') END AS part FROM parsed"
    )
