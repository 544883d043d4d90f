"""Patches to fakesnow 0.12 that let dlt's own Snowflake load path and dbt's unit tests run on
the emulator. They run inside the emulator process only (tests/support/snowflake_emulator.py),
never in the product. Each is named after the failure it works around; README.md's Snowflake
section lists them and what they cannot prove.
"""

from __future__ import annotations

import contextvars
import gzip
import json
import os
from collections.abc import Callable
from typing import Any

from sqlglot import exp


def accept_query_tag() -> None:
    """`ALTER SESSION SET QUERY_TAG = '...'` (dlt tags its sessions for cost attribution)
    fails with `not implemented`. Accept it, and its UNSET, as a no-op."""
    import fakesnow.transforms as transforms

    original = transforms.alter_session

    def alter_session(expression: Any) -> Any:
        if (
            isinstance(expression, exp.Alter)
            and expression.kind == "SESSION"
            and (item := expression.find(exp.SetItem))
            and (name := item.find(exp.Identifier))
            and name.name.upper() == "QUERY_TAG"
        ):
            return transforms.SUCCESS_NOP
        return original(expression)

    transforms.alter_session = alter_session


def _unquoted_literal(text: str) -> str:
    """`'@"S"."%T"/x'` -> `@"S"."%T"/x` (a Snowflake string literal's contents)."""
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'").replace("\\\\", "\\")
    return text


def put_to_a_quoted_stage_location() -> None:
    """dlt PUTs into the table stage given as a string literal,
    `PUT 'file:///...' '@"SCHEMA"."%TABLE"/"<load_id>"'`, and fakesnow fails with `... does not
    start with @`: it reads the quotes as part of the location. Unquote the literal."""
    import fakesnow.transforms as transforms

    original = transforms.put_stage

    def put_stage(expression: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(expression, exp.Put):
            target = expression.args.get("target")
            if isinstance(target, exp.Var) and target.name.startswith("'"):
                expression = expression.copy()
                expression.set("target", exp.Var(this=_unquoted_literal(target.name)))
        return original(expression, *args, **kwargs)

    transforms.put_stage = put_stage


def comma_separated_file_format_options() -> None:
    """dlt writes `FILE_FORMAT = (TYPE = 'JSON', BINARY_FORMAT = 'BASE64')`; sqlglot parses the
    comma as an empty `SequenceProperties` and fakesnow asserts `... is not a Property` (an HTTP
    500, see `fail_fast_on_unhandled_exceptions`). Drop the empty property."""
    import fakesnow.copy_into as copy_into

    original = copy_into.parse_options

    def parse_options(properties: Any) -> dict[str, Any]:
        kept = [
            p
            for p in properties
            if not (isinstance(p, exp.SequenceProperties) and not p.expressions)
        ]
        return original(kept)

    copy_into.parse_options = parse_options


def match_by_column_name_as_a_literal() -> None:
    """dlt writes `MATCH_BY_COLUMN_NAME='CASE_INSENSITIVE'` (a string literal, which Snowflake
    accepts); fakesnow only knows the keyword and fails with `not implemented`. Treat the
    literal as the keyword."""
    import fakesnow.copy_into as copy_into

    original = copy_into._params

    def _params(expression: Any, *args: Any, **kwargs: Any) -> Any:
        for param in expression.args.get("params") or []:
            value = param.args.get("expression")
            if param.this.name.upper() == "MATCH_BY_COLUMN_NAME" and isinstance(value, exp.Literal):
                param.set("expression", exp.Var(this=value.name))
        return original(expression, *args, **kwargs)

    copy_into._params = _params


_copy_target: contextvars.ContextVar[tuple[Any, str | None, str | None]] = contextvars.ContextVar(
    "copy_target"
)


def copy_json_into_columns() -> None:
    """dlt loads Snowflake from JSON lines (its default file format for Snowflake):
    `COPY INTO t FROM @stage FILE_FORMAT = (TYPE = 'JSON') MATCH_BY_COLUMN_NAME = ...`. fakesnow
    loads JSON only into one VARIANT column. Load each target column from the file's key of the
    same name (case-insensitive, as asked), cast to the column's type; binary from base64 (dlt's
    `BINARY_FORMAT = 'BASE64'`); a missing key or JSON null is NULL. DuckDB's casts stand in for
    Snowflake's own VARIANT casts, which only a real account exercises (see the README)."""
    import fakesnow.copy_into as copy_into
    import fakesnow.cursor as cursor

    original_copy, original_inserts = copy_into.copy_into, copy_into._inserts

    def copy_into_with_target(duck_conn: Any, database: Any, schema: Any, *args: Any, **kw: Any):
        token = _copy_target.set((duck_conn, database, schema))
        try:
            return original_copy(duck_conn, database, schema, *args, **kw)
        finally:
            _copy_target.reset(token)

    def _inserts(expression: Any, params: Any, urls: list[str], *args: Any, **kw: Any):
        if not (
            isinstance(params.file_format, copy_into.ReadJSON)
            and params.match_by_column_name != copy_into.MatchByColumnName.NONE
            and not isinstance(expression.args["files"][0], exp.Subquery)
        ):
            return original_inserts(expression, params, urls, *args, **kw)
        duck_conn, database, schema = _copy_target.get()
        table = copy_into._extract_table(expression.this)
        columns = copy_into._describe_table(table, duck_conn, database, table.db or schema)
        sensitive = params.match_by_column_name == copy_into.MatchByColumnName.CASE_SENSITIVE
        return [_json_insert(expression.this, columns, url, duck_conn, sensitive) for url in urls]

    copy_into._inserts = _inserts
    cursor.copy_into = copy_into_with_target


def _json_insert(
    target: Any, columns: list[tuple[str, str]], url: str, duck_conn: Any, case_sensitive: bool
) -> Any:
    """`INSERT INTO target SELECT <each column from its JSON key, cast> FROM read_json_objects`."""
    import sqlglot

    source = exp.Literal.string(url).sql(dialect="duckdb")
    keys = [
        row[0]
        for row in duck_conn.execute(
            f"SELECT DISTINCT unnest(json_keys(json)) FROM read_json_objects({source})"
        ).fetchall()
    ]
    by_name = {key if case_sensitive else key.upper(): key for key in keys}
    selected = []
    for name, data_type in columns:
        key = by_name.get(name if case_sensitive else name.upper())
        if key is None:
            selected.append("NULL")
            continue
        path = exp.Literal.string(f'$."{key}"').sql(dialect="duckdb")
        if data_type.upper() == "JSON":
            value = (
                f"CASE WHEN json_type(json, {path}) IN ('NULL') OR json_extract(json, {path}) IS "
                f"NULL THEN NULL ELSE json_extract(json, {path}) END"
            )
        elif data_type.upper() == "BLOB":
            value = f"from_base64(json_extract_string(json, {path}))"
        else:
            value = f"CAST(json_extract_string(json, {path}) AS {data_type})"
        selected.append(value)
    sql = f"INSERT INTO {target.sql(dialect='duckdb')} SELECT {', '.join(selected)} FROM "
    sql += f"read_json_objects({source})"
    return sqlglot.parse_one(sql, read="duckdb")


def remove_staged_files() -> None:
    """dlt removes each staged file after its COPY (`keep_staged_files=False`):
    `REMOVE '@"SCHEMA"."%TABLE"/"<load_id>"/<file>'`. fakesnow hands REMOVE to DuckDB, which
    fails with `syntax error at or near "REMOVE"`. Delete the staged files under that path and
    answer with Snowflake's (name, result) rows."""
    import fakesnow.transforms as transforms
    import sqlglot
    from fakesnow.transforms import stage

    original = transforms.list_stage

    def list_stage(expression: Any, database: Any, schema: Any, table_stages: Any) -> Any:
        if not (isinstance(expression, exp.Command) and expression.name.upper() == "REMOVE"):
            return original(expression, database, schema, table_stages)
        location = _unquoted_literal(expression.expression.name.strip())
        if not location.startswith("@"):
            raise NotImplementedError(f"REMOVE {location}")
        var, _, path = location[1:].partition("/")
        catalog, schema_name, name = stage.parts_from_var(var, database, schema)
        lookup = stage.stage_lookup_sql(catalog, schema_name, name, table_stages)
        found = table_stages._duck_conn.execute(lookup).fetchone()
        if found is None:
            raise stage.not_found_error(f"{catalog}.{schema_name}.{name}")
        prefix = stage.internal_dir(found[0], path)
        root = stage.internal_dir(found[0])
        removed = []
        for directory, _, files in os.walk(root):
            for file in files:
                full = os.path.join(directory, file)
                if full.startswith(prefix):
                    os.remove(full)
                    removed.append(os.path.relpath(full, root))
        rows = ", ".join(
            f"({exp.Literal.string(n).sql(dialect='duckdb')}, 'removed')" for n in removed
        )
        sql = (
            f"SELECT * FROM (VALUES {rows}) AS t(name, result)"
            if rows
            else "SELECT NULL::VARCHAR AS name, NULL::VARCHAR AS result WHERE false"
        )
        return sqlglot.parse_one(sql, read="duckdb")

    transforms.list_stage = list_stage


def null_timestamps_read_as_null() -> None:
    """Over the server, a NULL `TIMESTAMP_*` value reaches the client as 1970-01-01: fakesnow
    builds Snowflake's (epoch, fraction[, timezone]) struct without a validity mask. Set the
    mask from the timestamp column's nulls."""
    import fakesnow.arrow as arrow
    import pyarrow as pa
    import pyarrow.compute as pc

    original = arrow.timestamp_to_sf_struct

    def timestamp_to_sf_struct(ts: Any) -> Any:
        if isinstance(ts, pa.ChunkedArray):
            ts = ts.combine_chunks()
        struct = original(ts)
        if ts.null_count == 0:
            return struct
        children = [pc.fill_null(struct.field(i), 0) for i in range(struct.type.num_fields)]
        return pa.StructArray.from_arrays(children, fields=list(struct.type), mask=ts.is_null())

    arrow.timestamp_to_sf_struct = timestamp_to_sf_struct


def qualified_temporary_tables() -> None:
    """dbt's unit tests on Snowflake create their fixtures as
    `create temporary table DB.SCHEMA.X as (...)`, which Snowflake allows; DuckDB underneath
    refuses (`TEMPORARY table names can *only* use the "temp" catalog`). Create a plain table
    instead (it outlives the session, which nothing here relies on)."""
    import fakesnow.transforms as transforms

    original = transforms.create_table_as

    def create_table_as(expression: Any, duck_conn: Any) -> Any:
        if (
            isinstance(expression, exp.Create)
            and expression.kind == "TABLE"
            and (table := expression.find(exp.Table)) is not None
            and (table.args.get("catalog") or table.args.get("db"))
            and (properties := expression.args.get("properties")) is not None
            and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)
        ):
            kept = [p for p in properties.expressions if not isinstance(p, exp.TemporaryProperty)]
            expression.set("properties", exp.Properties(expressions=kept) if kept else None)
        return original(expression, duck_conn)

    transforms.create_table_as = create_table_as


def drop_database() -> None:
    """`DROP DATABASE [IF EXISTS] X` (`make snowflake-smoke` drops its scratch database) is
    handed to DuckDB, which fails with `syntax error at or near "DATABASE"`: fakesnow creates a
    database with ATTACH. DETACH it instead, and answer as Snowflake does."""
    import fakesnow.cursor as cursor
    import sqlglot

    original = cursor.FakeSnowflakeCursor._execute

    def _execute(self: Any, transformed: Any, params: Any = None) -> None:
        if isinstance(transformed, exp.Drop) and str(transformed.args.get("kind")).upper() == (
            "DATABASE"
        ):
            table = transformed.find(exp.Table)
            assert table is not None
            name = table.name
            exists = "IF EXISTS " if transformed.args.get("exists") else ""
            self._duck_conn.execute(f'DETACH DATABASE {exists}"{name}"')
            if self._conn.database == name:
                self._conn.database, self._conn._schema = None, None
            status = exp.Literal.string(f"{name} successfully dropped.").sql(dialect="duckdb")
            transformed = sqlglot.parse_one(f"SELECT {status} AS status", read="duckdb")
        return original(self, transformed, params)

    cursor.FakeSnowflakeCursor._execute = _execute


def keep_numeric_aggregates_exact() -> None:
    """`SUM(NUMBER(38,10))` comes back as a float: fakesnow wraps every numeric aggregate's
    argument in `TRY_CAST(... AS DOUBLE)` to imitate Snowflake's implicit VARCHAR-to-number
    cast. Snowflake keeps NUMBER exact, and so does DuckDB underneath once the cast is gone.
    Cost: an aggregate over a VARCHAR column fails in the emulator (our models cast first)."""
    import fakesnow.transforms as transforms

    transforms.numeric_agg_implicit_cast = lambda expression: expression


# ------------------------------------------------------------------ the HTTP server's side


def split_statements(sql: str) -> list[str]:
    """The statements of a multi-statement request, split at the `;` tokens (so a `;` inside a
    string literal or a comment stays where it is)."""
    from sqlglot.dialects.snowflake import Snowflake
    from sqlglot.tokens import TokenType

    statements, start = [], 0
    for token in Snowflake().tokenize(sql):
        if token.token_type == TokenType.SEMICOLON:
            statements.append(sql[start : token.start])
            start = token.end + 1
    statements.append(sql[start:])
    return [s.strip() for s in statements if s.strip()]


def _request_with_body(request: Any, body: bytes) -> Any:
    """A copy of a Starlette request with another (uncompressed) body."""
    from starlette.requests import Request

    scope = dict(request.scope)
    scope["headers"] = [(k, v) for k, v in request.scope["headers"] if k != b"content-encoding"]
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def _succeeded(response: Any) -> bool:
    return response.status_code == 200 and bool(json.loads(response.body).get("success"))


def fail_fast_on_unhandled_exceptions(on_fatal: Callable[[str], None]) -> Callable[..., Any]:
    """An unhandled exception in fakesnow becomes HTTP 500, and the Snowflake connector retries
    a 500 until its network timeout (forever for dbt and dlt): the client hangs. Answer with a
    non-retryable error instead (sqlstate XX000, which no client takes for a missing relation)
    and report the statement through `on_fatal`, so the test fails at once naming it."""
    from starlette.responses import JSONResponse

    def answer(response: Any, sql: str) -> Any:
        if response.status_code != 500:
            return response
        message = json.loads(response.body).get("message") or sql
        on_fatal(message.replace("\n", " ")[:2000])
        return JSONResponse(
            {
                "data": {"errorCode": "999999", "sqlState": "XX000"},
                "code": "999999",
                "message": f"emulator: unhandled exception (HTTP 500 in fakesnow): {sql[:500]}",
                "success": False,
            }
        )

    return answer


def split_multi_statement_requests(query_request: Callable[..., Any], answer: Callable[..., Any]):
    """dlt sends DDL batches and merge jobs as one multi-statement request (`num_statements=0`);
    fakesnow's server parses the text as one statement (sqlglot makes it a `Block`) and fails.
    Run the statements one by one on the same session, stop at the first failure (as Snowflake
    does) and answer with the last statement's result. The client never sees Snowflake's real
    multi-statement protocol (child result ids), see the README."""

    async def endpoint(request: Any) -> Any:
        body = await request.body()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        payload = json.loads(body)
        sql = payload.get("sqlText") or ""
        statements = split_statements(sql)
        if len(statements) <= 1:
            return answer(await query_request(_request_with_body(request, body)), sql)
        response = None
        for statement in statements:
            part = json.dumps({**payload, "sqlText": statement}).encode()
            response = answer(await query_request(_request_with_body(request, part)), statement)
            if not _succeeded(response):
                return response
        return response

    return endpoint


def patched_server_app(on_fatal: Callable[[str], None]) -> Any:
    """fakesnow's Starlette app with the query endpoint wrapped by the two patches above."""
    import fakesnow.server as server
    from starlette.applications import Starlette
    from starlette.routing import Route

    answer = fail_fast_on_unhandled_exceptions(on_fatal)
    routes = []
    for route in server.routes:
        if route.path == "/queries/v1/query-request":
            endpoint = split_multi_statement_requests(server.query_request, answer)
            route = Route(route.path, endpoint, methods=["POST"])
        routes.append(route)
    return Starlette(routes=routes)


def patched_app(on_fatal: Callable[[str], None]) -> Any:
    """Applies every patch (in the emulator process, before it serves) and returns the server's
    Starlette app."""
    accept_query_tag()
    put_to_a_quoted_stage_location()
    comma_separated_file_format_options()
    match_by_column_name_as_a_literal()
    copy_json_into_columns()
    remove_staged_files()
    null_timestamps_read_as_null()
    qualified_temporary_tables()
    drop_database()
    keep_numeric_aggregates_exact()
    return patched_server_app(on_fatal)
