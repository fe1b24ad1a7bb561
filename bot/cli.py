"""`growthbot` on the command line: console, serve, socket, worker, db upgrade, export, and features' verbs."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from bot import org_commands
from bot.app import build, configure_logging
from bot.settings import Settings
from handlers.export import as_csv, as_json
from handlers.features import CliEnv, ExportRefused, Feature
from handlers.router import Bot


def _parser(features: list[Feature] | None = None) -> argparse.ArgumentParser:
    """The command line, with the export tables and verbs the registered features declare."""
    features = Bot.catalogue(Settings()) if features is None else features
    parser = argparse.ArgumentParser(prog="growthbot", description="Coaching and evaluation chat bot for schools.")
    commands = parser.add_subparsers(dest="command", required=True)

    console = commands.add_parser("console", help="chat with the bot in this terminal (SQLite, no credentials)")
    console.add_argument("--user", default=None, help="who you are in the conversation (default: your login)")

    serve = commands.add_parser("serve", help="serve Slack and/or Teams over HTTP (whichever is configured)")
    serve.add_argument("--host", default=None, help="interface to listen on (default: HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default: PORT or 3000)")

    commands.add_parser("socket", help="connect to Slack over Socket Mode (for development)")

    worker = commands.add_parser("worker", help="drain the inbox, tick and deliver, without HTTP (for scale-out)")
    worker.add_argument("--once", action="store_true", help="tick once and exit")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="create or migrate the schema to the latest version")

    export = commands.add_parser("export", help="write records as JSON or CSV")
    exports = [e for f in features for e in f.exports]
    tables = export.add_subparsers(dest="what", required=True, metavar="{" + ",".join(e.name for e in exports) + "}",
                                   help="what to export")  # fmt: skip
    for table in exports:  # each export may add its own arguments, such as `responses --survey N`
        one = tables.add_parser(table.name, help=f"every {table.noun}, one record each")
        one.add_argument("--format", choices=["json", "csv"], default="json")
        one.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
        if table.configure is not None:
            table.configure(one)

    manifest = commands.add_parser("slack-manifest", help="print the Slack app manifest for your server's URL")
    manifest.add_argument("--url", required=True, help="public base URL, e.g. https://growthbot.example.org")
    package = commands.add_parser("teams-package", help="build the Teams app package (manifest and icons) to upload")
    package.add_argument("--app-id", required=True, help="the Azure Bot's Microsoft App ID")
    package.add_argument("--url", default="https://growthbot.example.org", help="your server's public base URL")
    package.add_argument("--out", type=Path, default=Path("growthbot-teams.zip"), help="the zip to write")

    org_commands.add_parsers(commands)
    for verb in (v for f in features for v in f.cli):
        verb.configure(commands.add_parser(verb.name, help=verb.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    features = Bot.catalogue(settings)
    args = _parser(features).parse_args(argv)
    if args.command == "slack-manifest":
        from bot.manifests import slack_manifest

        sys.stdout.write(slack_manifest(features, args.url))
        return 0
    if args.command == "teams-package":
        from bot.teams_package import build_package

        commands_ = [(c.name, c.summary) for f in features for c in f.commands]
        path = build_package(args.app_id, commands_, args.out, args.url)
        print(f"Wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app).", file=sys.stderr)
        return 0
    verbs = {v.name: v for f in features for v in f.cli}
    quiet = args.command in ("console", *org_commands.COMMANDS, *verbs)  # their output is for a person to read
    configure_logging("WARNING" if quiet else settings.log_level)

    if args.command == "db":
        build(settings)
        print("Database is up to date.")
        return 0
    runtime = build(settings)
    if args.command in org_commands.COMMANDS:
        return org_commands.run(args, runtime)
    if args.command == "console":
        from bot.adapters.console import PLATFORM, ConsoleSender, run_console

        user = args.user or getpass.getuser() or "teacher"
        interactive = sys.stdin.isatty()
        senders = {PLATFORM: ConsoleSender(sys.stdout, settings.files_dir, user)}
        background = runtime.start_ticking(senders) if interactive else None
        try:
            run_console(runtime.bot, user, sys.stdin, sys.stdout, interactive, runtime.ticker(senders))
        finally:
            if background is not None:
                background.shutdown(wait=False)
        return 0
    if args.command in verbs:
        env = CliEnv(runtime.db, runtime.clock.now(), settings.default_timezone, sys.stdout, sys.stderr)
        return verbs[args.command].run(args, env)
    if args.command == "export":
        export = runtime.bot.exports[args.what]
        try:
            selection = export.run(runtime.db, args)
        except ExportRefused as refused:
            print(f"growthbot export {args.what}: {refused}", file=sys.stderr)
            return 1
        for note in selection.notes:
            print(note, file=sys.stderr)
        rows = selection.rows
        text = as_json(rows) if args.format == "json" else as_csv(rows, export.columns)
        noun = export.noun
        if args.out:
            args.out.write_text(text, encoding="utf-8")
            print(f"Wrote {len(rows)} {noun}{'' if len(rows) == 1 else 's'} to {args.out}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    from bot import serve

    if args.command == "worker":
        return serve.worker(runtime, once=args.once)
    if args.command == "serve":
        host = args.host or settings.host
        port = args.port if args.port is not None else settings.port
        return serve.serve(runtime, host, port)
    return serve.socket_mode(runtime)


if __name__ == "__main__":
    sys.exit(main())
