"""The deployment files (deploy/) parse and agree with each other and with the project.

No container daemon, compose plugin or hadolint runs on these machines, so nothing here builds an
image: the Dockerfile is read instruction by instruction, the YAML files with PyYAML, and the
invariants a deployment depends on are checked (deploy/README.md lists what only a real build
and cluster show). deploy/dagster.yaml itself is loaded by Dagster against a real PostgreSQL in
tests/reliability/test_postgres_deployment.py.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
SECRET_NAME = re.compile(r"PASSWORD|PASSPHRASE|SECRET|TOKEN|PRIVATE_KEY|API_KEY|WEBHOOK")
LOCATION = "ordway_revenue"
MODULE = "assets.definitions"


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile: comments dropped, continuations joined."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.removesuffix("\\").strip() if current else stripped
        if stripped.endswith("\\"):
            continue
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, "a continuation line runs off the end of the Dockerfile"
    return instructions


def load(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text())


def env_example() -> dict[str, str]:
    pairs = [
        line.split("=", 1)
        for line in (DEPLOY / "deploy.env.example").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return {name: value for name, value in pairs}


def env_references(value: Any) -> set[str]:
    """Every `{env: NAME}` in a dagster.yaml-style document."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            return {value["env"]}
        return set().union(*(env_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(env_references(v) for v in value)) if value else set()
    return set()


# ------------------------------------------------------------------------------ Dockerfile


def test_the_dockerfile_builds_from_a_pinned_python_matching_the_project() -> None:
    instructions = dockerfile()
    assert instructions[0][0] == "FROM"
    image = instructions[0][1]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image), image
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert requires["requires-python"] == ">=3.11,<3.12"
    assert sum(1 for keyword, _ in instructions if keyword == "FROM") == 1


def test_the_image_installs_only_pinned_runtime_dependencies() -> None:
    runs = [args for keyword, args in dockerfile() if keyword == "RUN"]
    install = next(r for r in runs if "pip install" in r)
    assert "-c requirements.txt" in install and "--no-cache-dir" in install
    assert "optional-dependencies']['deploy']" in install and "'dependencies'" in install
    pins = [
        line
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", p) for p in pins)
    pinned = {p.split("==")[0].lower() for p in pins}
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    deploy = project["optional-dependencies"]["deploy"]
    assert any(d.startswith("dagster-postgres") for d in deploy)
    for requirement in project["dependencies"] + deploy:
        name = re.split(r"[\[<>=,; ]", requirement, maxsplit=1)[0].lower()
        assert name in pinned, f"{name} has no pin in requirements.txt"
    assert {"dagster-postgres", "psycopg2-binary"} <= pinned


def test_the_image_runs_as_a_non_root_user_after_its_last_build_step() -> None:
    instructions = dockerfile()
    users = [i for i, (keyword, _) in enumerate(instructions) if keyword == "USER"]
    assert users, "no USER instruction: the code location would run as root"
    user = instructions[users[-1]][1]
    assert user not in ("root", "0") and not user.startswith("0:")
    last_run = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "RUN")
    assert users[-1] > last_run


def test_the_dbt_manifest_is_prepared_at_build_time_for_the_snowflake_target() -> None:
    runs = [args for keyword, args in dockerfile() if keyword == "RUN"]
    parse = next(r for r in runs if "dbt parse" in r)
    assert "--target snowflake" in parse and "--project-dir dbt_project" in parse
    steps = [arguments for _, arguments in dockerfile()]
    assert steps.index("dbt_project/ dbt_project/") < steps.index(parse)  # COPY, then parse


def test_no_secret_is_baked_into_the_image() -> None:
    for keyword, arguments in dockerfile():
        if keyword in ("ENV", "ARG"):
            names = re.findall(r"([A-Z][A-Z0-9_]*)=", arguments) or [arguments.split("=")[0]]
            assert not [n for n in names if SECRET_NAME.search(n)], arguments
        if keyword == "COPY":
            assert ".env" not in arguments.split()[0], arguments
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "**" in ignore  # everything is excluded unless listed
    assert "**/.env" in ignore and "dbt_project/target/" in ignore


def test_every_file_the_dockerfile_copies_exists_and_is_not_ignored() -> None:
    ignore = [
        line
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    allowed = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    for keyword, arguments in dockerfile():
        if keyword != "COPY":
            continue
        *sources, _ = shlex.split(arguments)
        for source in sources:
            source = source.rstrip("/")
            assert (REPO_ROOT / source).exists(), source
            assert any(source == a or source.startswith(a + "/") for a in allowed), source


def test_the_image_serves_the_code_location_as_compose_and_the_workspace_expect() -> None:
    instructions = dict(dockerfile())
    cmd = yaml.safe_load(instructions["CMD"])  # a JSON array
    compose = load("docker-compose.yml")["services"]["code-location"]["command"]
    assert cmd == compose
    (entry,) = load("workspace.yaml")["load_from"]
    server = entry["grpc_server"]
    assert instructions["EXPOSE"] == str(server["port"])
    assert cmd[:3] == ["dagster", "code-server", "start"]
    assert cmd[cmd.index("--port") + 1] == str(server["port"])
    assert cmd[cmd.index("--module-name") + 1] == MODULE
    assert cmd[cmd.index("--location-name") + 1] == server["location_name"] == LOCATION
    assert (
        "--port" in instructions["HEALTHCHECK"]
        and str(server["port"]) in instructions["HEALTHCHECK"]
    )


# ---------------------------------------------------------------------------- compose file


def test_compose_runs_postgres_the_code_location_the_webserver_and_the_daemon() -> None:
    services = load("docker-compose.yml")["services"]
    assert set(services) == {"postgres", "code-location", "webserver", "daemon"}
    for name in ("code-location", "webserver", "daemon"):
        service = services[name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert service["image"] == services["code-location"]["image"]
        assert service["env_file"] == [".env"]
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in ("webserver", "daemon"):
        command = services[name]["command"]
        assert command[command.index("--workspace") + 1] == "/opt/dagster/workspace.yaml"
        assert services[name]["depends_on"]["code-location"] == {"condition": "service_healthy"}
        assert "healthcheck" in services[name]  # not the image's gRPC one
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    # the workspace's host is the code location's service name
    (entry,) = load("workspace.yaml")["load_from"]
    assert entry["grpc_server"]["host"] == "code-location"
    assert any(v.startswith("dagster-postgres:") for v in services["postgres"]["volumes"])
    # run logs are written by the code location's run workers and read by the webserver
    storage = "dagster-storage:/opt/dagster/home/storage"
    assert storage in services["code-location"]["volumes"]
    assert storage in services["webserver"]["volumes"]
    assert services["postgres"]["healthcheck"]


def test_compose_takes_every_secret_from_the_env_file_never_inline() -> None:
    services = load("docker-compose.yml")["services"]
    for name, service in services.items():
        for variable, value in (service.get("environment") or {}).items():
            assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", str(value)), (name, variable)
    text = (DEPLOY / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert referenced <= set(env_example())
    # deploy.env.example holds no secret value
    assert not [k for k, v in env_example().items() if SECRET_NAME.search(k) and v]


# --------------------------------------------------------------------------- instance yaml


def test_the_production_instance_uses_postgres_from_the_environment() -> None:
    instance = load("dagster.yaml")
    database = instance["storage"]["postgres"]["postgres_db"]
    for field in ("hostname", "port", "username", "password", "db_name"):
        assert set(database[field]) == {"env"}, field
    assert env_references(instance) <= set(env_example())
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert instance["run_launcher"]["class"] == "DefaultRunLauncher"


def test_every_deployment_has_the_same_queue_and_pool_limits_as_the_local_instance() -> None:
    local = yaml.safe_load((REPO_ROOT / "dagster_home" / "dagster.yaml").read_text())
    production = load("dagster.yaml")
    assert production["concurrency"] == local["concurrency"]
    assert production["run_coordinator"] == local["run_coordinator"]
    runs, pools = local["concurrency"]["runs"], local["concurrency"]["pools"]
    assert runs["tag_concurrency_limits"] == [{"key": "ordway/warehouse", "limit": 1}]

    helm = load("helm/values.yaml")["concurrency"]
    assert helm["enabled"] is True
    assert helm["pools"] == {
        "defaultLimit": pools["default_limit"],
        "granularity": pools["granularity"],
    }
    assert helm["runs"] == {
        "maxConcurrentRuns": runs["max_concurrent_runs"],
        "tagConcurrencyLimits": runs["tag_concurrency_limits"],
    }
    plus = load("dagster-plus/deployment_settings.yaml")["concurrency"]
    assert plus == local["concurrency"]


def test_the_helm_values_and_dagster_plus_serve_the_same_code_location() -> None:
    values = load("helm/values.yaml")
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    args = deployment["codeServerArgs"]
    assert args[args.index("--module-name") + 1] == MODULE
    assert args[args.index("--location-name") + 1] == LOCATION
    assert (
        deployment["envSecrets"] == values["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]
    )
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert deployment["image"]["tag"] != "latest"
    assert values["postgresql"]["enabled"] is False
    assert "postgresqlPassword" not in values["postgresql"]
    (location,) = load("dagster-plus/dagster_cloud.yaml")["locations"]
    assert location["location_name"] == LOCATION
    assert location["code_source"] == {"module_name": MODULE}


@pytest.mark.parametrize(
    "name",
    [
        "dagster.yaml",
        "workspace.yaml",
        "docker-compose.yml",
        "helm/values.yaml",
        "dagster-plus/dagster_cloud.yaml",
        "dagster-plus/deployment_settings.yaml",
    ],
)
def test_every_yaml_file_parses_without_duplicate_keys_or_tabs(name: str) -> None:
    class UniqueKeys(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        merge = "tag:yaml.org,2002:merge"
        keys = [loader.construct_object(k) for k, _ in node.value if k.tag != merge]
        duplicates = {k for k in keys if keys.count(k) > 1}
        assert not duplicates, f"{name}: duplicate keys {duplicates}"
        loader.flatten_mapping(node)  # `<<: *anchor` merges, explicit keys winning
        return loader.construct_mapping(node)

    UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    text = (DEPLOY / name).read_text()
    assert "\t" not in text
    assert yaml.load(text, Loader=UniqueKeys)
