"""The configuration registry (`pipelines/config/variables.py`), the code, `.env.example` and
the README's configuration tables agree.

- The registry lists exactly the variables the code reads (found by reading the source:
  ``value`` / ``raw`` / ``os.environ`` / ``env.get`` / ... calls with a literal name, loops over
  literal names that call such a reader, dbt's ``env_var('...')`` and the deployed instance's
  ``env:``), and `.env.example` and the README's tables (first column ``variable``) list exactly
  the registry's variables; each registered default is the one the README shows.
- The product's Python code (pipelines/, assets/, scripts/) reads the environment only through
  ``pipelines/config/``: no other module reads ``os.environ`` (it may set a variable for a
  child process).
- `.env.example` loads to the same values in python-dotenv (what `dagster dev` and `make run`
  use) and in a POSIX shell (``set -a; . ./.env``), and has no inline comments.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from dotenv import dotenv_values

from pipelines.config import VARIABLES, value
from tests.support.paths import REPO_ROOT

NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]{4,}$")
#: Functions whose first argument is the name of an environment variable they read.
READERS = {"get", "getenv", "value", "raw", "required"}
PYTHON_ROOTS = ("pipelines", "assets", "scripts", "ordway_sandbox", "apps")
#: The product's code, which reads the environment only through CONFIG_PACKAGE.
PRODUCT_ROOTS = ("pipelines", "assets", "scripts", "apps")
CONFIG_PACKAGE = REPO_ROOT / "pipelines" / "config"
#: os.environ reads outside the configuration package: a value saved to be restored after a
#: block that sets it for child processes, never parsed.
SAVED_AND_RESTORED = {
    ("assets/warehouse.py", "DUCKDB_PATH"),
    ("scripts/snowflake_smoke.py", "SNOWFLAKE_DATABASE"),
}
DBT_GLOBS = ("models/**/*.yml", "models/**/*.sql", "macros/**/*.sql", "*.yml")
INSTANCE_ENV = re.compile(r"\benv:\s*([A-Z][A-Z0-9_]*)")
ENV_VAR = re.compile(r"env_var\(\s*['\"]([A-Z][A-Z0-9_]*)['\"]")
#: Read only by the benchmark (`make bench`), documented in benchmarks/README.md.
BENCHMARK_PREFIX = "BENCH_"
#: Python's own variables: the sandbox launcher extends PYTHONPATH for its child process.
INTERPRETER = {"PYTHONPATH"}


def _constants(node: ast.AST) -> set[str]:
    return {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and NAME.match(n.value)
    }


def _reader_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _reads(node: ast.AST, readers: set[str]) -> tuple[set[str], set[str]]:
    """(literal names read, local variable names passed to a reader) under ``node``."""
    literal, variables = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _reader_name(sub) in readers and sub.args:
            first = sub.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if NAME.match(first.value):
                    literal.add(first.value)
            elif isinstance(first, ast.Name):
                variables.add(first.id)
        elif (
            isinstance(sub, ast.Subscript)
            and isinstance(sub.ctx, ast.Load)
            and isinstance(sub.slice, ast.Constant)
        ):
            target = sub.value
            base = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if base in ("environ", "env") and isinstance(sub.slice.value, str):
                literal.add(sub.slice.value)
    return literal, variables


def _file_readers(tree: ast.AST) -> set[str]:
    """READERS plus the file's own helpers that pass a parameter on to a reader
    (``def collection_names(name): ... get(name)``), to a fixpoint."""
    readers = set(READERS)
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    while True:
        added = set()
        for function in functions:
            params = {a.arg for a in function.args.args}
            _, passed = _reads(function, readers)
            if function.name not in readers and params & passed:
                added.add(function.name)
        if not added:
            return readers
        readers |= added


def python_reads(source: str) -> set[str]:
    tree = ast.parse(source)
    readers = _file_readers(tree)
    module_values = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    names, _ = _reads(tree, readers)
    for loop in (n for n in ast.walk(tree) if isinstance(n, ast.For)):
        loop_vars = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
        _, passed = _reads(ast.Module(body=loop.body, type_ignores=[]), readers)
        if not loop_vars & passed:
            continue
        iterated = loop.iter
        if isinstance(iterated, ast.Call) and isinstance(iterated.func, ast.Attribute):
            iterated = iterated.func.value  # CONSTANT.items()
        if isinstance(iterated, ast.Name) and iterated.id in module_values:
            iterated = module_values[iterated.id]
        names |= _constants(iterated)
    return names


def variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for root in PYTHON_ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            names |= python_reads(path.read_text(encoding="utf-8"))
    dbt = REPO_ROOT / "dbt_project"
    for pattern in DBT_GLOBS:
        for path in dbt.glob(pattern):
            names |= set(ENV_VAR.findall(path.read_text(encoding="utf-8")))
    # the deployed Dagster instance reads its PostgreSQL settings with `env: NAME`
    names |= set(INSTANCE_ENV.findall((REPO_ROOT / "deploy/dagster.yaml").read_text("utf-8")))
    return names - INTERPRETER


def env_example_variables() -> set[str]:
    """Set and commented-out (``# NAME=value``) variables of .env.example."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")
    lines = (REPO_ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return {m.group(1) for line in lines if (m := pattern.match(line))}


def readme_table_variables() -> set[str]:
    """Backticked names in the first column of the README's tables headed ``variable``."""
    names: set[str] = set()
    in_table = False
    for line in (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        first = line.split("|")[1].strip()
        if first == "variable":
            in_table = True
            continue
        if in_table:
            names |= {n for n in re.findall(r"`([A-Z][A-Z0-9_]*)`", first) if NAME.match(n)}
    return names


def test_the_scan_follows_a_helper_that_passes_its_parameter_to_a_reader():
    source = (
        "import os\n"
        "def names(variable):\n"
        "    raw = os.environ.get(variable, '')\n"
        "    return raw.split(',')\n"
        "CHOSEN = names('ORDWAY_COLLECTIONS')\n"
        "LABEL = str('NOT_A_VARIABLE')\n"
    )
    assert python_reads(source) == {"ORDWAY_COLLECTIONS"}


def test_the_scan_finds_reads_of_every_kind():
    found = variables_read_by_the_code()
    # value(), a helper passing its parameter to raw() (Snowflake), a loop over literal names
    # (credentials), a dbt env_var(), the sandbox's module-level dict, the deployed instance
    assert {
        "WAREHOUSE_LOCK_TIMEOUT_SECONDS",
        "NIGHTLY_CRON",
        "FRESHNESS_HOURS",
        "ORDWAY_API_KEY",
        "DUCKDB_MEMORY_LIMIT",
        "SNOWFLAKE_ROLE",
        "DBT_THREADS",
        "SNOWFLAKE_SCHEMA",
        "DAGSTER_WEBSERVER_URL",
        "SLACK_BOT_TOKEN",
        "TIEOUT_TOLERANCE",
        "DAGSTER_POSTGRES_HOST",
    } <= found
    assert not any(name.startswith(BENCHMARK_PREFIX) for name in found)


def test_the_registry_lists_exactly_the_variables_the_code_reads():
    read = variables_read_by_the_code()
    assert sorted(read - set(VARIABLES)) == []
    assert sorted(set(VARIABLES) - read) == []


def test_env_example_and_the_readme_list_exactly_the_registered_variables():
    assert sorted(set(VARIABLES) - env_example_variables()) == []
    assert sorted(env_example_variables() - set(VARIABLES)) == []
    assert sorted(set(VARIABLES) - readme_table_variables()) == []
    assert sorted(readme_table_variables() - set(VARIABLES)) == []


def readme_defaults() -> dict[str, str]:
    """The default column of each README table row that documents one variable."""
    defaults: dict[str, str] = {}
    columns: list[str] = []
    for line in (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            columns = []
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == "variable":
            columns = cells
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        if columns and "default" in columns and len(names) == 1:
            defaults[names[0]] = cells[columns.index("default")]
    return defaults


def test_every_registered_default_parses_and_is_the_one_the_readme_shows():
    documented = readme_defaults()
    for name, variable in VARIABLES.items():
        if variable.default is None:
            continue
        assert value(name, {}) is not None, name  # the default itself passes the parser
        assert f"`{variable.default}`" in documented.get(name, ""), (name, variable.default)


def environment_reads(source: str) -> set[str]:
    """Names read from ``os.environ`` / ``os.getenv`` (not written) in one module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        name = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            func, first = node.func, node.args[0]
            on_environ = isinstance(func.value, ast.Attribute) and func.value.attr == "environ"
            if (on_environ and func.attr == "get") or func.attr == "getenv":
                name = first.value if isinstance(first, ast.Constant) else "<computed>"
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "environ"
        ):
            name = node.slice.value if isinstance(node.slice, ast.Constant) else "<computed>"
        if name is not None:
            names.add(str(name))
    return names


def test_the_scan_of_environment_reads_finds_gets_and_subscripts_but_not_writes():
    source = (
        "import os\n"
        "a = os.environ.get('A')\n"
        "b = os.environ['B']\n"
        "c = os.getenv('C')\n"
        "os.environ['D'] = 'x'\n"
        "os.environ.setdefault('E', 'x')\n"
        "env = {**os.environ, 'F': 'x'}\n"
    )
    assert environment_reads(source) == {"A", "B", "C"}


def test_only_the_configuration_package_reads_the_environment():
    for root in PRODUCT_ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            if CONFIG_PACKAGE in path.parents:
                continue
            where = str(path.relative_to(REPO_ROOT))
            reads = {
                name
                for name in environment_reads(path.read_text(encoding="utf-8"))
                if (where, name) not in SAVED_AND_RESTORED and name not in INTERPRETER
            }
            assert reads == set(), f"{where} reads {sorted(reads)}: use pipelines.config.value"


def shell_values(path: Path) -> dict[str, str]:
    """What a POSIX shell sets from the file (``set -a; . file``)."""
    script = f"set -a; . '{path}'; set +a; env -0"
    done = subprocess.run(["sh", "-c", script], env={}, capture_output=True, timeout=30, check=True)
    pairs = (item.decode().split("=", 1) for item in done.stdout.split(b"\0") if b"=" in item)
    return dict(pairs)


ASSIGNMENT = re.compile(r"^(# )?([A-Z][A-Z0-9_]*)=(.*)$")


def uncommented(tmp_path: Path) -> Path:
    """.env.example with every commented-out ``# NAME=value`` line switched on."""
    lines = (REPO_ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    switched = [
        f"{m.group(2)}={m.group(3)}" if (m := ASSIGNMENT.match(line)) else line for line in lines
    ]
    path = tmp_path / ".env"
    path.write_text("\n".join(switched) + "\n", encoding="utf-8")
    return path


def test_env_example_loads_to_the_same_values_in_dotenv_and_a_posix_shell(tmp_path):
    for path in (REPO_ROOT / ".env.example", uncommented(tmp_path)):
        dotenv = {k: v for k, v in dotenv_values(path).items() if v is not None}
        assert dotenv["ORDWAY_COMPANY"] == "Demo Company"  # the value with a space
        shell = shell_values(path)
        assert {name: shell.get(name) for name in dotenv} == dotenv, path
    assert dotenv["NIGHTLY_CRON"] == "0 2 * * *" and dotenv["SLACK_CHANNEL"] == "#finance-data"


def test_env_example_lines_are_plain_assignments_without_inline_comments():
    """Set or commented out, each assignment reads the same in every loader: an unquoted value
    has no space, quote or ``#``; a quoted one is double-quoted text without ``$`` ``\\`` or
    backquotes (which a shell would expand)."""
    lines = (REPO_ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        match = ASSIGNMENT.match(line)
        if match is None:
            assert not line.strip() or line.startswith("#"), f".env.example:{number}: {line!r}"
            continue
        value = match.group(3)
        where = f".env.example:{number}: {line!r}"
        if value.startswith('"'):
            assert re.fullmatch(r'"[^"$`\\]*"', value), where
        else:
            assert not re.search(r"[\s#'\"$`\\]", value), where
