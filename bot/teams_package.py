"""The Teams app package: manifest.json (from the template and the bot's command list) plus the two icons.

Teams installs a bot from a zip holding exactly these three files at its root. The template in
`manifests/teams/` keeps the wording and the schema version; this module fills in only what differs per
install (app id, URLs, domains, version) and the command list, which comes from the feature registry so
Teams suggests exactly the commands the bot answers.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "manifests" / "teams"
TEMPLATE = "manifest.template.json"
ICONS = ("color.png", "outline.png")
SCOPES = ("personal", "team", "groupChat")
MAX_COMMANDS = 12  # per command list, the schema's limit
MAX_TITLE = 32  # Teams shows no more; older schemas allowed only this many
MAX_DESCRIPTION = 128
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the same inputs always give the same zip


def teams_manifest(
    app_id: str,
    commands: Sequence[tuple[str, str]],
    base_url: str,
    *,
    valid_domains: Sequence[str] | None = None,
    version: str = "1.0.0",
    manifest_id: str | None = None,
    privacy_url: str | None = None,
    terms_url: str | None = None,
    supports_files: bool = False,
    template_dir: Path = TEMPLATE_DIR,
) -> dict[str, Any]:
    """The manifest as a dict. `app_id` is the Azure bot's app id (also the Teams app id unless
    `manifest_id` is given); `base_url` is the public https site whose /privacy and /terms pages the
    manifest links (override with `privacy_url`, `terms_url`); `valid_domains` defaults to its host.
    `commands` are (name, description) pairs; a leading "/" is dropped, since Teams users type the bare word.
    """
    manifest_id = manifest_id or app_id
    for label, value in (("app id", app_id), ("manifest id", manifest_id)):
        if not _GUID.match(value):
            raise ValueError(f"the Teams {label} must be a GUID like 00000000-0000-0000-0000-000000000000")
    if not _SEMVER.match(version):
        raise ValueError("the package version must look like 1.0.0")
    base = _https(base_url, "base URL").rstrip("/")
    domains = list(valid_domains) if valid_domains is not None else [urlsplit(base).hostname or ""]

    manifest = json.loads((template_dir / TEMPLATE).read_text(encoding="utf-8"))
    manifest["id"] = manifest_id
    manifest["version"] = version
    manifest["developer"]["websiteUrl"] = base
    manifest["developer"]["privacyUrl"] = _https(privacy_url or f"{base}/privacy", "privacy URL")
    manifest["developer"]["termsOfUseUrl"] = _https(terms_url or f"{base}/terms", "terms of use URL")
    manifest["validDomains"] = domains
    bot = manifest["bots"][0]
    bot["botId"] = app_id
    bot["supportsFiles"] = supports_files
    listed = command_list(commands)
    bot["commandLists"] = [{"scopes": [scope], "commands": listed} for scope in SCOPES] if listed else []

    left = sorted(set(re.findall(r"\$\{\{(\w+)\}\}", json.dumps(manifest))))
    if left:
        raise ValueError(f"the Teams manifest template has placeholders this code does not fill: {', '.join(left)}")
    return manifest


def command_list(commands: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """Registry commands as Teams `commands` entries, checked against what Teams accepts and shows."""
    listed: list[dict[str, str]] = []
    seen: set[str] = set()
    for name, description in commands:
        title = name.strip().lstrip("/").strip()
        if not title or len(title) > MAX_TITLE or any(c.isspace() for c in title):
            raise ValueError(f"Teams command {name!r} must be one word of at most {MAX_TITLE} characters")
        if title.lower() in seen:
            raise ValueError(f"Teams command {title!r} is listed twice")
        seen.add(title.lower())
        text = " ".join(description.split())
        if len(text) > MAX_DESCRIPTION:
            text = text[: MAX_DESCRIPTION - 1].rstrip() + "…"
        listed.append({"title": title, "description": text})
    if len(listed) > MAX_COMMANDS:
        raise ValueError(f"Teams lists at most {MAX_COMMANDS} bot commands; the registry has {len(listed)}")
    return listed


def build_package(
    app_id: str,
    commands: Sequence[tuple[str, str]],
    out: Path,
    base_url: str,
    *,
    template_dir: Path = TEMPLATE_DIR,
    **options: Any,
) -> Path:
    """Write the upload package (manifest.json, color.png, outline.png at the zip's root) to `out`.

    `options` are `teams_manifest`'s keyword arguments (version, manifest_id, privacy_url, ...).
    """
    manifest = teams_manifest(app_id, commands, base_url, template_dir=template_dir, **options)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        entries = [("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n")]
        entries += [(icon, (template_dir / icon).read_bytes()) for icon in ICONS]
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            package.writestr(info, data)
    return out


def _https(url: str, label: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"the {label} must be an https:// address, got {url!r}")
    return url
