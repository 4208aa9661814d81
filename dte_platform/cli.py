"""``dte``: the platform headless. ``dte run`` materializes a project, ``dte contracts lint``
checks contract files, ``dte evidence verify`` recomputes the evidence chains, ``dte demo generate``
writes the demo landing data."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dte_platform.errors import DefinitionError
from dte_platform.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dte", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="materialize assets headless and print a summary")
    run.add_argument(
        "--project", type=Path, help="project folder (default: DTE_PROJECT_DIR or the current folder)"
    )
    run.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="KEY",
        help="asset key or glob, e.g. sources/shop/orders or 'sources/shop/*' (repeatable)",
    )
    run.add_argument(
        "--partition",
        action="append",
        default=[],
        metavar="DAY",
        help="YYYY-MM-DD, or START...END for a range (repeatable); default: every day with landing data",
    )
    contracts = sub.add_parser("contracts", help="contract tooling").add_subparsers(
        dest="action", required=True
    )
    lint = contracts.add_parser("lint", help="validate and compile contract files; non-zero exit on errors")
    lint.add_argument("paths", nargs="+", type=Path)
    lineage = sub.add_parser("lineage", help="OpenLineage events").add_subparsers(
        dest="action", required=True
    )
    replay = lineage.add_parser(
        "replay", help="send the events spooled while the lineage endpoint was unreachable"
    )
    replay.add_argument(
        "--project", type=Path, help="project folder (default: DTE_PROJECT_DIR or the current folder)"
    )
    evidence = sub.add_parser("evidence", help="certification evidence packs").add_subparsers(
        dest="action", required=True
    )
    verify = evidence.add_parser(
        "verify", help="recompute the evidence chains; exit 1 on any problem, 2 when there are no packs"
    )
    verify.add_argument("asset", nargs="?", help="asset key, e.g. sources/shop/orders (default: every asset)")
    verify.add_argument(
        "--project", type=Path, help="project folder (default: DTE_PROJECT_DIR or the current folder)"
    )
    certify = sub.add_parser(
        "certify", help="show every asset's certificate (from trust.certificates), judged for expiry now"
    )
    certify.add_argument(
        "--check", action="store_true", help="exit 1 when an asset is below its required level"
    )
    certify.add_argument(
        "--project", type=Path, help="project folder (default: DTE_PROJECT_DIR or the current folder)"
    )
    demo = sub.add_parser("demo", help="demo data").add_subparsers(dest="action", required=True)
    demo.add_parser("generate", help="write the demo landing data (see --help)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["demo", "generate"]:
        from dte_platform.demo.__main__ import main as generate

        return generate(argv[2:])
    args = _parser().parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    try:
        if args.command == "run":
            return _run(args, console)
        if args.command == "lineage":
            return _replay(args, console)
        if args.command == "evidence":
            return _verify(args, console)
        if args.command == "certify":
            return _certify(args, console)
        return _lint(args.paths, console)
    except DefinitionError as exc:
        console.print(f"[red]definition error[/red] {exc}", highlight=False)
        return 2


def _expand_partitions(values: Sequence[str]) -> list[str]:
    import datetime as dt

    days: list[str] = []
    for value in values:
        start, sep, end = value.partition("...")
        if not sep:
            days.append(dt.date.fromisoformat(value).isoformat())
            continue
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        days.extend((first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1))
    return days


def _run(args: argparse.Namespace, console: Console) -> int:
    # Dagster's own SensorDefinition.with_attributes passes its beta `owners` parameter while it
    # resolves the definitions; nothing a user of `dte run` can act on (this process only)
    warnings.filterwarnings("ignore", message="Parameter `owners` of initializer `SensorDefinition")
    from dte_platform.orchestration.factories import build_definitions
    from dte_platform.orchestration.headless import certify_project, instance_for_run, plan, run_all

    settings = _settings(args)
    days = plan(settings, args.select, _expand_partitions(args.partition))
    if not days:
        console.print("nothing to run: no landing data for the selection")
        return 1
    instance = instance_for_run(os.environ.get("DAGSTER_HOME"))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(
            f"materializing {sum(len(keys) for _, keys in days)} partitions", total=len(days)
        )
        defs = build_definitions(settings)
        outcomes = run_all(settings, instance, days, on_day=lambda _: progress.advance(task), defs=defs)
    console.print(_summary(outcomes))
    failed = [o for o in outcomes if not o.ok]
    console.print(
        f"{len(outcomes) - len(failed)} ok, {len(failed)} failed (warehouse: {settings.warehouse_path})",
        highlight=False,
    )
    # the evaluation and promotion the certification sensor runs under `dagster dev`
    certify_project(settings, instance, defs)
    _print_standings(settings, console)
    return 1 if failed else 0


def _certify(args: argparse.Namespace, console: Console) -> int:
    below = _print_standings(_settings(args), console)
    return 1 if args.check and below else 0


def _print_standings(settings: Settings, console: Console) -> list[str]:
    """Print every asset's certificate; return the assets below their required level."""
    from dte_platform.certification.status import standings

    entries = standings(settings)
    table = Table(title=f"certificates as of {settings.now().isoformat(timespec='seconds')}")
    for name in ("asset", "required", "level", "certified", "expires", "why not higher"):
        table.add_column(name)
    for s in entries:
        table.add_row(
            s.asset,
            s.required.label,
            s.level.label,
            "[green]yes[/green]" if s.certified else "[red]no[/red]",
            s.expires.isoformat(timespec="minutes") if s.expires else "-",
            "\n".join(s.reasons) or "-",
        )
    console.print(table)
    below = [s.asset for s in entries if not s.ok]
    console.print(f"{len(entries) - len(below)} of {len(entries)} assets certified at their required level")
    return below


def _settings(args: argparse.Namespace) -> Settings:
    """``--project`` wins over ``DTE_PROJECT_DIR``; the other DTE_* and OPENLINEAGE_* variables apply."""
    env = {**os.environ, "DTE_PROJECT_DIR": str(args.project)} if args.project else None
    return Settings.from_env(Path.cwd(), env)


def _replay(args: argparse.Namespace, console: Console) -> int:
    from dte_platform.lineage import LineageEmitter

    settings = _settings(args)
    emitter = LineageEmitter(settings.lineage, settings.artifacts_dir / "lineage")
    try:
        sent, left = emitter.replay()
    finally:
        emitter.close()
    console.print(
        f"replayed {sent} lineage event(s) to {settings.lineage.url or settings.lineage.transport}; "
        f"{left} still spooled in {emitter.spool_path}",
        highlight=False,
    )
    return 1 if left else 0


def _verify(args: argparse.Namespace, console: Console) -> int:
    """One line per asset; the chain heads are cross-checked against the warehouse when it can be read."""
    from rich.markup import escape

    from dte_platform.evidence import EvidenceStore, HeadsUnavailable, InvalidAssetKey, warehouse_heads

    settings = _settings(args)
    store = EvidenceStore(settings.artifacts_dir / "certification")
    heads: dict[str, str] | None = None
    try:
        heads = warehouse_heads(settings.warehouse_path)
    except HeadsUnavailable as exc:
        console.print(f"note: chain heads not cross-checked against the warehouse: {escape(str(exc))}")
    try:
        problems = store.verify(args.asset, heads)
    except InvalidAssetKey as exc:
        console.print(f"[red]✗[/red] {escape(str(exc))}")
        return 2
    listed = {args.asset} if args.asset else set(store.assets())
    assets = sorted({p.asset for p in problems} | listed)
    intact = 0
    for asset in assets:
        found = [p for p in problems if p.asset == asset]
        packs = [] if found else store.packs(asset)
        if found:
            console.print(f"[red]✗[/red] {escape(asset)}: {len(found)} problem(s)")
            for p in found:
                where = f"{p.file}: " if p.file else ""
                console.print(f"    {escape(where + p.message)}", soft_wrap=True)
        elif packs:
            intact += 1
            head = str(packs[-1]["hash"])
            console.print(f"[green]✓[/green] {escape(asset)}: {len(packs)} packs, head {escape(head[:19])}…")
    if problems:
        return 1
    if not intact:
        scope = f" for {args.asset}" if args.asset else ""
        console.print(f"no evidence packs{escape(scope)} in {escape(str(store.root))}")
        return 2
    return 0


def _summary(outcomes: list) -> Table:
    table = Table(title="dte run")
    for name in ("asset", "partition", "rows in", "loaded", "quarantined", "failed checks"):
        table.add_column(name, justify="right" if name[0] in "rlq" else "left")
    for o in outcomes:
        failed = ", ".join([*o.failed_errors, *(f"{w} (warn)" for w in o.failed_warnings)])
        table.add_row(
            o.asset,
            o.partition,
            str(o.rows.get("rows_in", "-")),
            str(o.rows.get("rows_loaded", "-")),
            str(o.rows.get("rows_quarantined", "-")),
            o.error or failed or "-",
        )
    return table


def _lint(paths: Sequence[Path], console: Console) -> int:
    from dte_platform.compiler import compile_contract
    from dte_platform.contracts import discover_contracts, load_contract

    files = [f for p in paths for f in (discover_contracts(p) if p.is_dir() else [p])]
    errors = 0
    for file in files:
        try:
            contract = load_contract(file, _contracts_root(file))
            compiled = compile_contract(contract)
        except DefinitionError as exc:
            errors += 1
            console.print(f"[red]✗[/red] {exc}", highlight=False)
            continue
        rules = sum(len(c.rules) for c in compiled)
        console.print(
            f"[green]✓[/green] {file}: ODCS {contract.read_as}, {len(compiled)} dataset(s), {rules} rule(s)",
            highlight=False,
        )
        for notice in contract.notices:
            console.print(f"    note: {notice}", highlight=False)
        for note in dict.fromkeys(n for c in compiled for n in c.notes):
            console.print(f"    not enforced: {note}", highlight=False)
    console.print(f"{len(files)} contract(s), {errors} with errors")
    return 1 if errors or not files else 0


def _contracts_root(file: Path) -> Path | None:
    """The ``assets`` folder above a contract, if any: it gives the contract its layer."""
    for parent in file.resolve().parents:
        if parent.name == "assets":
            return parent
    return None


if __name__ == "__main__":
    raise SystemExit(main())
