"""The feature registry is the one list: help, the CLI, the Slack manifest and the scheduler are built from it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import prompts
from bot.cli import _parser
from bot.manifests import slack_manifest
from bot.settings import Settings
from handlers.features import Command, Feature, FeatureFactory, Setup
from handlers.messages import Reply
from handlers.registry import FEATURES
from handlers.router import Bot
from tests.conftest import test_settings
from tests.harness import Chat

MANIFEST = Path(__file__).resolve().parent.parent / "manifests" / "slack" / "manifest.yaml"
EXAMPLE_URL = "https://growthbot.example.org"


def catalogue() -> list[Feature]:
    return Bot.catalogue(Settings(_env_file=None))


def registered_commands() -> list[str]:
    return [command.name for feature in catalogue() for command in feature.commands]


def test_the_committed_slack_manifest_is_the_generated_one() -> None:
    """`growthbot slack-manifest --url URL` writes it; a feature's new command cannot be forgotten there."""
    assert MANIFEST.read_text(encoding="utf-8") == slack_manifest(catalogue(), EXAMPLE_URL)
    declared = [c["command"] for c in yaml.safe_load(MANIFEST.read_text())["features"]["slash_commands"]]
    assert declared == [f"/{name}" for name in registered_commands()]


def test_help_lists_every_command_with_its_usage(chat: Chat) -> None:
    text = chat.say("help")
    for feature in catalogue():
        for command in feature.commands:
            assert f"/{command.name}: {command.summary}" in text


def test_every_export_is_a_cli_choice_and_writes_its_columns(chat: Chat, capsys: pytest.CaptureFixture[str]) -> None:
    exports = {e.name: e for feature in catalogue() for e in feature.exports}
    assert set(exports) >= {"goals", "observations"}
    parser = _parser(catalogue())
    for name, export in exports.items():
        args = parser.parse_args(["export", name, "--format", "csv"])
        assert args.what == name
        assert export.rows(chat.bot.db) == []
    with pytest.raises(SystemExit):
        parser.parse_args(["export", "nonsense"])
    assert "nonsense" in capsys.readouterr().err


def test_two_features_cannot_claim_one_command(db, clock) -> None:  # type: ignore[no-untyped-def]
    def twin(_setup: Setup) -> Feature:
        return Feature(name="twin", commands=(Command("goal", "again", "", lambda _inv: Reply()),))

    with pytest.raises(ValueError, match="command goal"):
        Bot(db, clock, test_settings(), (*FEATURES, twin))


ARCHITECTURE = MANIFEST.parent.parent.parent / "docs" / "ARCHITECTURE.md"


@pytest.fixture
def hello(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeatureFactory]:
    """The ten-line feature docs/ARCHITECTURE.md shows a newcomer, run exactly as printed there."""
    doc = ARCHITECTURE.read_text(encoding="utf-8")
    code = re.search(r"A whole feature, ready to copy.*?```python\n(.*?)```", doc, re.S)
    words = re.search(r"`prompts/templates/hello/hi.j2`.*?```jinja\n(.*?)```", doc, re.S)
    assert code and words, "docs/ARCHITECTURE.md lost its example feature"
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "hi.j2").write_text(words.group(1), encoding="utf-8")
    monkeypatch.setattr(prompts, "TEMPLATES", [prompts.TEMPLATES, tmp_path])
    prompts.environment.cache_clear()
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "ARCHITECTURE.md", "exec"), namespace)
    yield namespace["feature"]  # type: ignore[misc]
    monkeypatch.undo()
    prompts.environment.cache_clear()


def test_a_new_feature_is_its_package_plus_one_registry_line(db, clock, hello) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(Bot(db, clock, test_settings(), (*FEATURES, hello)))
    assert "America/New_York" in chat.say("/hello")
    assert "/hello: say hello" in chat.say("help")
    assert "/hello" in slack_manifest(Bot.catalogue(test_settings(), (*FEATURES, hello)), EXAMPLE_URL)
