"""`petition simulate`: months of a synthetic district on a hand-moved clock, in seconds.

Prints, per unit, the ladder of measures it received (``--json``: every measure as
case, rule and business time). Safe to re-run on the same store after a crash: every
command carries an idempotency key, so the rerun appends only what was missing.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from adapters.cli.output import console, print_json, print_table
from adapters.cli.root import root
from adapters.synthetic.simulation import DEFAULT_START, SimulationResult
from domain.supervision_ladder import RUNGS
from workflows.clock import ManualClock


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def simulate(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Simulated days.")] = 90,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same district.")] = 2026,
    cases_per_day: Annotated[int, typer.Option(min=0, max=1000,
                                               help="New petitions per day.")] = 5,
    start: Annotated[str, typer.Option(help="Day 0 (YYYY-MM-DD).")] = DEFAULT_START.isoformat(),
    as_json: Annotated[bool, typer.Option("--json", help="Print every measure as JSON.")] = False,
) -> None:
    """Run a synthetic district day by day; print the supervision ladder each unit received."""
    try:
        day_0 = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"--start: not a day (YYYY-MM-DD): {start!r}") from None
    clock = ManualClock(datetime(2000, 1, 1, tzinfo=UTC))  # the simulation sets it to day 0
    services = root().with_clock(clock)
    try:
        simulation = services.simulation(clock, seed=seed, cases_per_day=cases_per_day,
                                         start=day_0)
        result = simulation.run(days)
    finally:
        services.app.close()
    print_json(as_dict(result)) if as_json else show(result)


def as_dict(result: SimulationResult) -> dict[str, object]:
    return {
        "seed": result.seed, "days": result.days,
        "cases": {name: str(case_id) for name, case_id in sorted(result.cases.items())},
        "measures": [{"case": m.case, "unit": m.unit, "rule": m.rule, "at": m.at.isoformat()}
                     for m in result.measures],
        "by_unit": result.ladder_by_unit(),
        "proxy_silences": [{"case": s.case, "agent": s.agent,
                            "last_contact": s.last_contact.isoformat(),
                            "overdue_at": s.overdue_at.isoformat(), "until": s.until.isoformat()}
                           for s in result.silences],
        "refused": [{"key": k, "error": e} for k, e in result.refused],
    }


def show(result: SimulationResult) -> None:
    print_table(f"supervision ladder by unit ({result.days} days, seed {result.seed})",
                ("unit", *RUNGS),
                ((unit, *counts.values()) for unit, counts in result.ladder_by_unit().items()))
    if result.silences:
        print_table("proxy agents silent longer than the weekly contact allows",
                    ("agent", "case", "last contact", "silent for (days)"),
                    ((s.agent, s.case, f"{s.last_contact:%Y-%m-%d}", s.days_silent)
                     for s in sorted(result.silences, key=lambda s: (s.agent, s.last_contact))))
    console.print(f"{len(result.cases)} cases, {len(result.measures)} measures, "
                  f"{len(result.refused)} refused commands.")


def main(args: list[str] | None = None) -> None:
    """``python -c "from adapters.cli.simulate_command import main; main()" --days 30 ...``"""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    typer.main.get_command(app).main(args=sys.argv[1:] if args is None else args,
                                     prog_name="petition simulate")
