"""Roster import at district scale: a 100,000-row staff CSV imported fresh, again unchanged, and again with every
name changed, on SQLite and on PostgreSQL; and the set-based importer against the row-at-a-time one it replaced.

Run from the repository root (about two minutes on two quiet cores):

    .venv/bin/python benchmarks/roster_import.py [--rows 100000] [--compare-rows 5000] [--skip-postgres]
        [--pg-host 127.0.0.1] [--pg-port 5432] [--pg-user postgres] [--out docs/PERFORMANCE.md]

Part 1, scale. The generated file has a superintendent, a principal for every hundred people (evaluated by the
superintendent) and teachers evaluated by their principal, 500 people a school, a third with their own time zone.
Each import is the real command, `python -m bot roster import staff.csv`, in a child process on the terminal
workspace (the Slack directory is one `users.lookupByEmail` call an email by nature, and is not measured).
Seconds are the child's wall time (interpreter start and schema check included); peak RSS is the child's
`ru_maxrss`, read with `os.wait4`.

Part 2, before and after. At `--compare-rows` rows, side by side in this run, the importer of commit c39a65c
(handlers/org/roster.py, handlers/org/staff.py and storage/org.py as of that commit, read with `git show` and
loaded as modules, with a unit of work whose roster repository is the old one) and today's, each in its own
child process calling `import_roster` directly: fresh, then unchanged. Seconds are the import call alone.

SQLite is a file in a temp dir. PostgreSQL is a database `gb_bench_roster_<pid>` made with `createdb` and dropped
with `dropdb` at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OLD_COMMIT = "c39a65c"  # the last commit with the row-at-a-time importer
OLD_FILES = {
    "storage.org": "storage/org.py",
    "handlers.org.staff": "handlers/org/staff.py",
    "handlers.org.roster": "handlers/org/roster.py",
}
TIMEZONE = "America/New_York"
SECTION = "## Roster import"
METHOD = """
- **File:** {rows:,} generated rows: a superintendent, a principal for every 100 people (evaluated by the
  superintendent), teachers evaluated by their principal, 500 people a school, a third with their own time zone,
  one in ten also a PLC lead. "Every name changed" is the same file with ` Jr` after every name.
- **Scale:** the real command, `python -m bot roster import staff.csv`, in a child process on the terminal
  workspace, one after the other on one database: fresh, then the same file again, then the changed file.
  Seconds are the child's wall time, interpreter start and schema check included; peak RSS is the child's
  `ru_maxrss` from `os.wait4`. The Slack directory (one `users.lookupByEmail` an email) is not measured.
- **Before and after:** at {compare:,} rows, the row-at-a-time importer of commit {old} (its
  `handlers/org/roster.py`, `handlers/org/staff.py` and `storage/org.py`, read with `git show` and loaded as
  modules over today's models) and today's, each in its own child process calling `import_roster`; the seconds
  are that call alone. Every table is emptied before each fresh run; an unchanged run starts from a fresh import
  by the same implementation.
- SQLite is a file in a temp dir; PostgreSQL a database made with `createdb` for the run and dropped after it.
"""
NOTES = """
### Notes

- Issue 8 measured the row-at-a-time importer at 189 s and 1.0 GB for 100,000 rows on SQLite, 124 s and 950 MB
  for the unchanged re-import. Now the stored people are read in one query as plain tuples, the plan is made in
  Python, unchanged rows are not written, and new people go in chunks of 2,000, in waves so that each is saved
  with an evaluator already known (a second pass links only loops, or chains of new evaluators more than seven deep).
- PostgreSQL gets each chunk as one array per column (`INSERT … SELECT FROM unnest(…)`, `UPDATE … FROM
  unnest(…)`): with psycopg's executemany, or SQLAlchemy's multi-row VALUES, most of a fresh import went on
  turning 900,000 placeholders into SQL in Python (a fresh import in-process took 12.7 s that way, 7.5 s with
  arrays). SQLite keeps executemany, which its driver loops in C.
- Most of what remains is reading and checking the CSV, a few seconds, and the memory floor of the process
  (about 80 MB with SQLAlchemy and the bot loaded, before the first row).
"""


# -- the file ------------------------------------------------------------------------------------------


def staff_csv(rows: int, suffix: str = "") -> str:
    """A district of `rows` people; `suffix` is added to every name (a re-import where everyone changed)."""
    lines = [
        "email,name,role,school,evaluator_email,time_zone",
        f"sup@bench.example,Superintendent{suffix},admin;evaluator,District Office,,",
    ]
    for n in range(1, rows):
        school = f"School {n // 500:03d}"
        principal = f"principal{n // 100}@bench.example"
        if n % 100 == 99 or n == rows - 1:
            lines.append(f"{principal},Principal {n // 100}{suffix},evaluator,{school},sup@bench.example,")
        else:
            roles = "teacher;plc_lead" if n % 10 == 0 else "teacher"
            zone = "America/Chicago" if n % 3 == 0 else ""
            lines.append(f"teacher{n}@bench.example,Teacher Number {n}{suffix},{roles},{school},{principal},{zone}")
    return "\n".join(lines) + "\n"


# -- child processes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    seconds: float  # the import call (part 2) or the whole child process (part 1)
    peak_mb: float
    output: dict[str, Any]


def run_child(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measured:
    """Run a child to completion; its wall time and its own peak RSS (not the maximum over all children)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
    out, err = child.stdout.read(), child.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{err}\n{out}")
    output = json.loads(out) if out.startswith("{") else {"stdout": out}
    return Measured(output.get("seconds", elapsed), usage.ru_maxrss / 1024, output)


def cli_import(url: str, path: Path, workdir: Path) -> Measured:
    """`growthbot roster import` as a person runs it, in a child process."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_URL"))}
    env.update(DATABASE_URL=url, DEFAULT_TIMEZONE=TIMEZONE, PYTHONPATH=str(ROOT))
    return run_child([sys.executable, "-m", "bot", "roster", "import", str(path)], env=env, cwd=workdir)


def function_import(implementation: str, url: str, path: Path, repo: Path) -> Measured:
    command = [sys.executable, __file__, "--child", implementation, "--url", url, "--file", str(path)]
    return run_child([*command, "--repo", str(repo)])


def old_modules(repo: Path) -> types.ModuleType:
    """The importer of OLD_COMMIT as a module, with the storage and staff modules of that commit beneath it."""
    from storage.unit_of_work import Repos  # bound to today's storage.org before the old one is swapped in

    loaded: dict[str, types.ModuleType] = {}
    saved = {name: sys.modules.get(name) for name in OLD_FILES}
    try:
        for name, path in OLD_FILES.items():
            source = subprocess.run(
                ["git", "-C", str(repo), "show", f"{OLD_COMMIT}:{path}"], capture_output=True, text=True, check=True
            ).stdout
            module = types.ModuleType(f"old_{name.replace('.', '_')}")
            module.__file__ = f"{OLD_COMMIT}:{path}"
            sys.modules[module.__name__] = module  # dataclasses look their module up by name
            sys.modules[name] = module  # for now, so that the next old file imports this one, not today's
            exec(compile(source, module.__file__, "exec"), module.__dict__)
            loaded[name] = module
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    old_storage, roster = loaded["storage.org"], loaded["handlers.org.roster"]

    @contextmanager
    def old_unit_of_work(db: Any) -> Iterator[Repos]:
        with db.sessions.begin() as session:
            repos = Repos(session)
            repos.roster = old_storage.Roster(session)
            repos.schools = old_storage.Schools(session)
            yield repos

    roster.unit_of_work = old_unit_of_work  # type: ignore[attr-defined]
    return roster


def child(implementation: str, url: str, path: Path, repo: Path) -> None:
    """One import in this process; prints its seconds and counts as JSON."""
    from handlers.org import roster as new_roster
    from scheduling.clock import SystemClock
    from storage.database import connect

    module = old_modules(repo) if implementation == "old" else new_roster
    db = connect(url)
    directory = new_roster.console_directory("console", "local")
    started = time.perf_counter()
    report = module.import_roster(db, SystemClock(), directory, path.read_text(encoding="utf-8"), path.name, TIMEZONE)
    seconds = time.perf_counter() - started
    db.dispose()
    counts = {kind: report.count(kind) for kind in ("added", "updated", "unchanged")}
    print(json.dumps({"seconds": seconds, **counts}))


# -- databases -----------------------------------------------------------------------------------------


def migrate(url: str) -> None:
    from storage.database import connect, upgrade

    db = connect(url)
    upgrade(db)
    db.dispose()


def empty(url: str) -> None:
    """Start again from an empty schema, so each comparison starts from the same state.

    SQLite gets a new file: deleting 100,000 people there is quadratic (each delete looks for people whose
    evaluator it was, and people.evaluator_id has no index). PostgreSQL truncates.
    """
    from sqlalchemy import MetaData, make_url, text

    from storage.database import connect

    if url.startswith("sqlite"):
        database = Path(make_url(url).database or "")
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            path.unlink(missing_ok=True)
        migrate(url)
        return
    db = connect(url)
    tables = MetaData()
    tables.reflect(db.engine)  # what the migrations made, which may be fewer tables than the models name
    with db.engine.begin() as connection:
        names = ", ".join(f'"{name}"' for name in tables.tables if name != "alembic_version")
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.dispose()


@contextmanager
def postgres(host: str, port: int, user: str) -> Iterator[str]:
    name = f"gb_bench_roster_{os.getpid()}"
    where = ["-h", host, "-p", str(port), "-U", user]
    subprocess.run(["createdb", *where, name], check=True)
    try:
        yield f"postgresql://{user}@{host}:{port}/{name}"
    finally:
        subprocess.run(["dropdb", *where, "--if-exists", "--force", name], check=False)


# -- the report ----------------------------------------------------------------------------------------


def machine(pg_version: str | None, repo: Path) -> str:
    import psycopg
    import sqlalchemy

    cpu = "unknown CPU"
    try:
        models = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = models[0].split(":", 1)[1].strip() if models else cpu
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    if repo.resolve() == ROOT:
        importer = ["handlers/org", "storage/org.py", "bot/org_commands.py"]
        status = ["git", "-C", str(repo), "status", "--porcelain", "--", *importer]
        dirty = subprocess.run(status, capture_output=True, text=True).stdout.strip()
        where = f"growthbot at commit {commit}" + (" with uncommitted importer changes" if dirty else "")
    else:  # run from a copy of the tree (e.g. `git archive HEAD`), with `git` asked about --repo
        where = f"growthbot at commit {commit} (run from an export of it)"
    parts = [
        f"{os.cpu_count()} CPUs ({cpu})",
        f"CPython {platform.python_version()}",
        platform.platform(),
        f"SQLite {sqlite3.sqlite_version}",
        f"PostgreSQL {pg_version} on loopback" if pg_version else "no PostgreSQL",
        f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}",
        where,
    ]
    return ", ".join(parts)


def postgres_version(url: str) -> str:
    from sqlalchemy import text

    from storage.database import connect

    db = connect(url)
    with db.engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar())
    db.dispose()
    return version.split()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--compare-rows", type=int, default=5_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--out", type=Path, default=None, help="write the section at the end of this Markdown file")
    parser.add_argument("--repo", type=Path, default=ROOT, help="git checkout holding commit c39a65c (default: here)")
    parser.add_argument("--child", choices=("old", "new"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.file, args.repo)
        return 0

    started, start_load = time.perf_counter(), os.getloadavg()[0]
    scale: list[tuple[str, str, Measured]] = []
    compare: list[tuple[str, str, Measured, Measured]] = []
    pg_version: str | None = None
    with tempfile.TemporaryDirectory(prefix="gb_bench_roster_") as tmp:
        work = Path(tmp)
        big, changed, small = work / "staff.csv", work / "changed" / "staff.csv", work / "small" / "staff.csv"
        changed.parent.mkdir()
        small.parent.mkdir()
        big.write_text(staff_csv(args.rows), encoding="utf-8")
        changed.write_text(staff_csv(args.rows, suffix=" Jr"), encoding="utf-8")
        small.write_text(staff_csv(args.compare_rows), encoding="utf-8")

        def measure(database: str, url: str) -> None:
            migrate(url)
            for run, path in (("fresh", big), ("unchanged", big), ("every name changed", changed)):
                measured = cli_import(url, path, work)
                figures = f"{measured.seconds:6.2f} s {measured.peak_mb:6.0f} MB"
                print(f"{database:<10} {args.rows:,} rows, {run:<18} {figures}", flush=True)
                scale.append((database, run, measured))
            for run in ("fresh", "unchanged"):
                results = []
                for implementation in ("old", "new"):
                    empty(url)
                    if run == "unchanged":
                        function_import(implementation, url, small, args.repo)  # the state a re-import starts from
                    results.append(function_import(implementation, url, small, args.repo))
                old, new = results
                figures = f"old {old.seconds:6.2f} s, new {new.seconds:5.2f} s, {old.seconds / new.seconds:5.1f}x"
                print(f"{database:<10} {args.compare_rows:,} rows, {run:<9} {figures}", flush=True)
                compare.append((database, run, old, new))

        measure("SQLite", f"sqlite:///{work / 'bench.db'}")
        if not args.skip_postgres:
            with postgres(args.pg_host, args.pg_port, args.pg_user) as url:
                pg_version = postgres_version(url)
                measure("PostgreSQL", url)
    load = (
        f"load average {start_load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (other work on the machine)"
    )
    section = report(args, scale, compare, f"{machine(pg_version, args.repo)}; {load}", time.perf_counter() - started)
    print()
    print(section)
    if args.out:
        write_section(args.out, section)
    return 0


def report(
    args: argparse.Namespace,
    scale: list[tuple[str, str, Measured]],
    compare: list[tuple[str, str, Measured, Measured]],
    machine_line: str,
    seconds: float,
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION,
        "",
        "Generated by `benchmarks/roster_import.py`; re-run it to refresh this section:",
        "`.venv/bin/python benchmarks/roster_import.py --out docs/PERFORMANCE.md`.",
        "",
        f"**Machine:** {machine_line}. Run {when}, {seconds:.0f} s in all.",
        "",
        "### Method",
        "",
        METHOD.format(rows=args.rows, compare=args.compare_rows, old=OLD_COMMIT).strip(),
        "",
        "### Results",
        "",
        f"{args.rows:,} rows through the CLI:",
        "",
        "| Database | Run | Seconds | Peak RSS (MB) | Report |",
        "|---|---|---:|---:|---|",
    ]
    for database, run, measured in scale:
        counts = measured.output.get("stdout", "").splitlines()
        summary = ", ".join(line for line in counts if line.startswith(("added", "updated", "unchanged")))
        lines.append(f"| {database} | {run} | {measured.seconds:.1f} | {measured.peak_mb:.0f} | {summary} |")
    lines += [
        "",
        f"{args.compare_rows:,} rows, row-at-a-time ({OLD_COMMIT}) against set-based (now), the import call alone:",
        "",
        "| Database | Run | Old seconds | New seconds | Speed-up | Old peak RSS (MB) | New peak RSS (MB) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for database, run, old, new in compare:
        lines.append(
            f"| {database} | {run} | {old.seconds:.2f} | {new.seconds:.2f} | {old.seconds / new.seconds:.0f}× "
            f"| {old.peak_mb:.0f} | {new.peak_mb:.0f} |"
        )
    lines += [
        "",
        "Target (issue 8): 100,000 rows in under 20 s and under 300 MB on SQLite and PostgreSQL, fresh and unchanged.",
        "",
        NOTES.strip(),
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section (up to the next `## ` heading), or add it at the end; nothing else changes."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    start = text.find(f"\n{SECTION}\n")
    if start == -1:
        updated = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION) + 1)
        rest = text[end + 1 :] if end != -1 else ""
        updated = text[: start + 1] + section + ("\n" + rest if rest else "")
    path.write_text(updated, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
