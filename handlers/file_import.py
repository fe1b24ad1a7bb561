"""`growthbot <feature> import… FILE`: read a UTF-8 CSV, load it in one transaction, all or nothing.

Features give the loading step; this module owns what every import does the same way: the workspace
arguments, reading the file (a BOM from Excel's "CSV UTF-8" is dropped), printing each problem under the
file's name, and rolling back everything when any row is wrong.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from handlers.features import CliEnv
from storage.unit_of_work import Repos, unit_of_work


class Refused(Exception):
    """Problems found in a file: raised inside the transaction so nothing of it is kept."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def workspace_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--platform", default="console", help="the workspace's platform (default: console)")
    parser.add_argument("--workspace", default="local", help="the workspace's id on it (default: local)")


Load = Callable[[Repos, int, str], str]
"""(repos, workspace id, file text) -> the line saying what was imported; raises Refused to keep nothing."""


def import_file(args: argparse.Namespace, env: CliEnv, load: Load) -> int:
    """Run `load` on `args.file` in the workspace of `args`; the exit code, 1 when nothing was imported."""
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        print(f"growthbot: can't read {args.file}: {error}", file=env.err)
        return 1
    try:
        with unit_of_work(env.db) as repos:
            workspace = repos.workspaces.ensure(args.platform, args.workspace, env.now)
            said = load(repos, workspace.id, text)
    except Refused as refused:
        for problem in refused.problems:
            print(f"{args.file.name}: {problem}", file=env.err)
        print("Nothing was imported.", file=env.err)
        return 1
    print(said, file=env.out)
    return 0
