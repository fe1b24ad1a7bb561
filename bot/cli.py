"""`growthbot` on the command line: console, serve, socket, worker, db upgrade, export."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from bot import org_commands
from bot.app import build, configure_logging
from bot.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="growthbot", description="Coaching and evaluation chat bot for schools.")
    commands = parser.add_subparsers(dest="command", required=True)

    console = commands.add_parser("console", help="chat with the bot in this terminal (SQLite, no credentials)")
    console.add_argument("--user", default=None, help="who you are in the conversation (default: your login)")

    serve = commands.add_parser("serve", help="serve Slack events, commands and clicks over HTTP")
    serve.add_argument("--host", default=None, help="interface to listen on (default: HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default: PORT or 3000)")

    commands.add_parser("socket", help="connect to Slack over Socket Mode (for development)")

    worker = commands.add_parser("worker", help="run only the scheduler's tick and deliveries (for scale-out)")
    worker.add_argument("--once", action="store_true", help="tick once and exit")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="create or migrate the schema to the latest version")

    export = commands.add_parser("export", help="write records as JSON or CSV")
    export.add_argument("what", choices=["goals", "observations"], help="what to export")
    export.add_argument("--format", choices=["json", "csv"], default="json")
    export.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")

    org_commands.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    quiet = args.command in ("console", *org_commands.COMMANDS)  # their output is for a person to read
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
    if args.command == "export":
        from handlers.export import GOAL_COLUMNS, OBSERVATION_COLUMNS, as_csv, as_json, goal_rows, observation_rows

        goals = args.what == "goals"
        rows = goal_rows(runtime.db) if goals else observation_rows(runtime.db)
        columns = GOAL_COLUMNS if goals else OBSERVATION_COLUMNS
        text = as_json(rows) if args.format == "json" else as_csv(rows, columns)
        noun = "goal" if goals else "observation"
        if args.out:
            args.out.write_text(text, encoding="utf-8")
            print(f"Wrote {len(rows)} {noun}{'' if len(rows) == 1 else 's'} to {args.out}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    from bot.adapters import slack

    if args.command == "worker":
        return slack.worker(runtime, once=args.once)
    if args.command == "serve":
        host = args.host or settings.host
        port = args.port if args.port is not None else settings.port
        return slack.serve(runtime, host, port)
    return slack.socket_mode(runtime)


if __name__ == "__main__":
    sys.exit(main())
