"""The Teams upload package: a manifest valid against the official schema (shipped in tests/data, so this runs
offline), the registry's commands, and icons that follow Teams' rules."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from bot.teams_package import TEMPLATE_DIR, build_package, command_list, teams_manifest

SCHEMA = Path(__file__).resolve().parent.parent / "data" / "teams" / "MicrosoftTeams.schema.json"
APP_ID = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
BASE = "https://growthbot.district.example"
COMMANDS = [
    ("/goal", "Draft a S.M.A.R.T. goal with the coach, or list, show and edit your goals"),
    ("/observe", "Schedule, move or cancel an observation; record evidence and share feedback"),
    ("/away", "Pause your reminders until a date"),
    ("/settings", "Your time zone and working hours"),
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # No format checks on the schema itself: a few of its patterns use \p{L}, which JavaScript knows and
    # Python's re does not. They sit under Office add-in extensions, which this manifest has none of.
    jsonschema.Draft4Validator.check_schema(schema, format_checker=None)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def errors(validator: jsonschema.Draft4Validator, manifest: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]


def test_the_manifest_validates_against_the_official_schema(validator):
    manifest = teams_manifest(APP_ID, COMMANDS, BASE)

    assert errors(validator, manifest) == []
    assert manifest["manifestVersion"] == json.loads(SCHEMA.read_text())["properties"]["manifestVersion"]["const"]


def test_the_manifest_without_commands_is_valid_too(validator):
    manifest = teams_manifest(APP_ID, [], BASE)

    assert errors(validator, manifest) == []
    assert manifest["bots"][0]["commandLists"] == []


def test_the_schema_check_is_real(validator):
    manifest = teams_manifest(APP_ID, COMMANDS, BASE)
    manifest["bots"][0]["scopes"] = ["everyone"]
    del manifest["developer"]["privacyUrl"]

    assert len(errors(validator, manifest)) == 2


def test_the_bot_is_ours_in_personal_team_and_group_chats(validator):
    manifest = teams_manifest(APP_ID, COMMANDS, BASE, version="1.2.3")

    assert manifest["id"] == APP_ID
    assert manifest["version"] == "1.2.3"
    bot = manifest["bots"][0]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["isNotificationOnly"] is False
    assert manifest["developer"]["privacyUrl"] == f"{BASE}/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == f"{BASE}/terms"
    assert manifest["validDomains"] == ["growthbot.district.example"]
    assert "${{" not in json.dumps(manifest)


def test_each_scope_lists_the_registry_commands_as_bare_words():
    manifest = teams_manifest(APP_ID, COMMANDS, BASE)

    lists = manifest["bots"][0]["commandLists"]
    assert [entry["scopes"] for entry in lists] == [["personal"], ["team"], ["groupChat"]]
    for entry in lists:
        assert [c["title"] for c in entry["commands"]] == ["goal", "observe", "away", "settings"]
        assert entry["commands"][2]["description"] == "Pause your reminders until a date"


def test_a_separate_teams_app_id_and_custom_links_are_kept(validator):
    other = "11111111-2222-4333-8444-555555555555"
    manifest = teams_manifest(
        APP_ID,
        COMMANDS,
        BASE,
        manifest_id=other,
        privacy_url="https://district.example/privacy-policy",
        terms_url="https://district.example/terms",
        valid_domains=["growthbot.district.example", "*.district.example"],
        supports_files=True,
    )

    assert (manifest["id"], manifest["bots"][0]["botId"]) == (other, APP_ID)
    assert manifest["developer"]["privacyUrl"] == "https://district.example/privacy-policy"
    assert manifest["validDomains"] == ["growthbot.district.example", "*.district.example"]
    assert manifest["bots"][0]["supportsFiles"] is True
    assert errors(validator, manifest) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"app_id": "not-a-guid"}, "GUID"),
        ({"base_url": "http://growthbot.district.example"}, "https://"),
        ({"version": "1.0"}, "1.0.0"),
        ({"privacy_url": "ftp://x/privacy"}, "https://"),
    ],
)
def test_bad_package_settings_are_refused_with_what_to_use_instead(kwargs, message):
    arguments = {"app_id": APP_ID, "commands": COMMANDS, "base_url": BASE, **kwargs}
    with pytest.raises(ValueError, match=message):
        teams_manifest(**arguments)


def test_commands_teams_would_not_take_are_refused():
    with pytest.raises(ValueError, match="one word"):
        command_list([("goal list", "two words")])
    with pytest.raises(ValueError, match="one word"):
        command_list([("/", "nothing")])
    with pytest.raises(ValueError, match="listed twice"):
        command_list([("goal", "a"), ("/Goal", "b")])
    with pytest.raises(ValueError, match="at most 12"):
        command_list([(f"c{n}", "x") for n in range(13)])


def test_long_descriptions_are_shortened_to_what_teams_shows():
    (command,) = command_list([("goal", "word " * 60)])

    assert len(command["description"]) == 128
    assert command["description"].endswith("…")


def test_the_package_holds_the_manifest_and_both_icons_at_its_root(tmp_path, validator):
    out = build_package(APP_ID, COMMANDS, tmp_path / "dist" / "growthbot-teams.zip", BASE)

    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert package.read("color.png") == (TEMPLATE_DIR / "color.png").read_bytes()
        assert package.read("outline.png") == (TEMPLATE_DIR / "outline.png").read_bytes()
    assert manifest == teams_manifest(APP_ID, COMMANDS, BASE)
    assert {manifest["icons"]["color"], manifest["icons"]["outline"]} == {"color.png", "outline.png"}
    assert errors(validator, manifest) == []


def test_the_same_inputs_build_the_same_bytes(tmp_path):
    first = build_package(APP_ID, COMMANDS, tmp_path / "a.zip", BASE).read_bytes()
    second = build_package(APP_ID, COMMANDS, tmp_path / "b.zip", BASE).read_bytes()

    assert first == second


# -- icons ----------------------------------------------------------------------------------------------------


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Width, height and RGBA pixels of an 8-bit RGB or RGBA PNG (no Pillow needed)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color_type in (2, 6) and interlace == 0, "only 8-bit RGB(A), non-interlaced"
    channels = 4 if color_type == 6 else 3
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(line)
        previous = line
    pixels = [
        tuple(row[x * channels : (x + 1) * channels]) + (() if channels == 4 else (255,))
        for row in rows
        for x in range(width)
    ]
    return width, height, pixels


def test_the_color_icon_is_192_pixels_square():
    width, height, pixels = read_png((TEMPLATE_DIR / "color.png").read_bytes())

    assert (width, height) == (192, 192)
    assert len(set(pixels)) > 2  # a picture, not a blank square


def test_the_outline_icon_is_32_pixels_of_white_on_transparent():
    width, height, pixels = read_png((TEMPLATE_DIR / "outline.png").read_bytes())

    assert (width, height) == (32, 32)
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)
    assert pixels[0][3] == 0 and pixels[-1][3] == 0  # transparent background
    assert sum(a == 255 for *_, a in pixels) > 50  # and a visible white shape


def test_the_png_reader_undoes_filters(tmp_path):
    # The icons are stored unfiltered; a redrawn icon (Pillow, an editor) will use PNG's filters.
    width, height = 3, 2
    rows = [bytes([4, 10, 20, 30, 40, 5, 5, 5, 5, 1, 2, 3, 4]), bytes([2, 1, 1, 1, 1, 0, 0, 0, 0, 9, 9, 9, 9])]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )
    _, _, pixels = read_png(data)

    assert pixels[:3] == [(10, 20, 30, 40), (15, 25, 35, 45), (16, 27, 38, 49)]
    assert pixels[3:] == [(11, 21, 31, 41), (15, 25, 35, 45), (25, 36, 47, 58)]


def test_growthbot_teams_package_builds_a_valid_zip_with_the_registry_commands(
    tmp_path: Path, capsys, validator
) -> None:  # type: ignore[no-untyped-def]
    """The command a district admin runs: every registered slash command is in the bot's command list."""
    from bot.cli import main
    from bot.settings import Settings
    from handlers.router import Bot

    out = tmp_path / "growthbot-teams.zip"
    assert main(["teams-package", "--app-id", "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "--out", str(out),
                 "--url", "https://growthbot.example.org"]) == 0  # fmt: skip
    with zipfile.ZipFile(out) as package:
        assert {"manifest.json", "color.png", "outline.png"} <= set(package.namelist())
        manifest = json.loads(package.read("manifest.json"))
    assert errors(validator, manifest) == []
    listed = {c["title"] for scope in manifest["bots"][0]["commandLists"] for c in scope["commands"]}
    registered = {c.name for f in Bot.catalogue(Settings(_env_file=None)) for c in f.commands}
    assert listed == registered
    assert "Upload an app" in capsys.readouterr().err
