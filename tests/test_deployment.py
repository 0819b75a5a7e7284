"""The container image and the compose file, checked by reading them (no Docker engine here):
every variable they set is a real setting, every setting reaches the replicas by name, the
image runs `onboard-bot run` as a non-root user with a health check on /healthz."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {name.upper() for name in Settings.model_fields}
_DEFAULT = re.compile(r"\$\{(?P<name>\w+)(?::?(?P<op>[-?])(?P<word>[^}]*))?\}")


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))  # fmt: skip
    out = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            out.append((keyword.upper(), args.strip()))
    return out


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :]


def env_of(args: str) -> dict[str, str]:
    """``ENV A=1 B="x y"`` (and the old ``ENV A 1``)."""
    parts = shlex.split(args)
    if parts and "=" not in parts[0]:
        return {parts[0]: " ".join(parts[1:])}
    return dict(part.split("=", 1) for part in parts)


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"use the exec form (a JSON array), not {args!r}"
    return [str(v) for v in value]


def interpolate(value: Any) -> str:
    """What compose makes of ``${NAME:-default}`` with nothing set: the default."""
    return _DEFAULT.sub(lambda m: m["word"] if m["op"] == "-" else "secret", str(value))


@pytest.fixture(scope="module")
def image() -> list[tuple[str, str]]:
    return final_stage(dockerfile_instructions((ROOT / "Dockerfile").read_text()))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return parsed


def _bots(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the bot: built from this Dockerfile, with the image's command."""
    return {name: s for name, s in compose["services"].items()
            if s.get("build") == "." and "command" not in s}  # fmt: skip


def test_the_image_runs_onboard_bot_run_as_a_non_root_user(
    image: list[tuple[str, str]],
) -> None:
    keywords = dict(image)
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", keywords["FROM"].split()[0])
    assert exec_form(keywords["ENTRYPOINT"]) + exec_form(keywords["CMD"]) == ["onboard-bot", "run"]
    user = keywords["USER"]
    assert user not in ("root", "0") and any(
        k == "RUN" and "useradd" in a and user in a for k, a in image
    )
    assert any(
        k == "RUN" and "pip install" in a and a.rstrip().endswith(" .")
        for k, a in dockerfile_instructions((ROOT / "Dockerfile").read_text())
    )  # the package itself, not a source tree


def test_the_images_health_check_asks_healthz_on_the_configured_port(
    image: list[tuple[str, str]],
) -> None:
    check = dict(image)["HEALTHCHECK"]
    command = exec_form(check[check.index("CMD") + 3 :].strip())
    assert "/healthz" in " ".join(command) and "PORT" in " ".join(command)
    port = env_of(dict(image)["ENV"])["PORT"]
    assert dict(image)["EXPOSE"] == port


def test_every_variable_the_image_sets_is_a_setting(image: list[tuple[str, str]]) -> None:
    for keyword, args in image:
        if keyword == "ENV":
            assert set(env_of(args)) <= SETTINGS, env_of(args)


def test_two_replicas_get_every_setting_by_name_and_nothing_else(compose: dict[str, Any]) -> None:
    bots = _bots(compose)
    assert len(bots) >= 2
    for name, service in bots.items():
        environment = service["environment"]
        assert isinstance(environment, dict), f"{name}: pass settings by name (a mapping)"
        assert set(environment) - SETTINGS == set(), f"{name}: not settings"
        assert SETTINGS - set(environment) == set(), f"{name}: settings not passed"
        assert "env_file" not in service  # nothing reaches a replica unnamed


def test_the_replicas_settings_are_valid_and_distinct(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each replica reads from its environment when .env sets only POSTGRES_PASSWORD."""
    built: list[Settings] = []
    for service in _bots(compose).values():
        with monkeypatch.context() as env:
            for key, value in service["environment"].items():
                env.setenv(key, interpolate(value))
            settings = Settings(_env_file=None)
        grace = str(service["stop_grace_period"])
        assert float(grace.removesuffix("s")) > settings.shutdown_timeout  # no kill mid-drain
        built.append(settings)
    assert all(s.database_url.startswith("postgresql+psycopg://") for s in built)
    assert len({s.database_url for s in built}) == 1  # one database for all
    assert len({s.replica for s in built}) == len(built)  # each names itself in logs and leases
    assert all(s.log_format == "json" for s in built)


def test_every_variable_any_service_of_ours_sets_is_a_setting(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if service.get("build") == ".":
            assert set(service.get("environment") or {}) <= SETTINGS, name


def test_the_proxy_sends_to_every_replica_on_its_port_and_retries_a_draining_one(
    compose: dict[str, Any],
) -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = set(re.findall(r"^\s*server\s+([\w-]+):(\d+);", conf, re.MULTILINE))
    bots = _bots(compose)
    assert upstream == {(name, str(s["environment"]["PORT"])) for name, s in bots.items()}
    assert re.search(r"proxy_next_upstream\s[^;]*http_503[^;]*non_idempotent", conf)
    proxy = compose["services"]["proxy"]
    assert "./deploy/nginx.conf:" in " ".join(proxy["volumes"])
    assert set(proxy["depends_on"]) == set(bots)
