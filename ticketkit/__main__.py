"""Command line: `python -m ticketkit list` shows every registry; `python -m ticketkit book --profile cpu` builds."""
from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Callable, TypeVar

if TYPE_CHECKING:
    from .profiles import Profile
    from .runs import RunConfig

T = TypeVar("T")


def list_registries() -> None:
    from .data import DATASETS
    from .models import MODELS
    from .pruning.methods import METHODS
    from .pruning.sanity import SANITY
    from .runs import TRAJECTORIES

    for title, reg in [("models", MODELS), ("datasets", DATASETS), ("pruning methods", METHODS),
                       ("sanity checks", SANITY)]:
        print(f"{title}:")
        for e in reg:
            print(f"  {e.name:<20} {e.description}")
        if reg is METHODS:
            for name, description in TRAJECTORIES.items():
                print(f"  {name:<20} {description}")


def select(names: list[str], P: Profile, models: list[str] | None) -> dict[str, list[RunConfig]]:
    """Each named grid's configs at profile P, only of `models`; an unknown grid, or a model the grid does not have
    at P, raises ValueError naming the choices, so a typo never turns into zero runs."""
    from .experiments import GRIDS

    unknown = [n for n in names if n not in GRIDS]
    if unknown:
        raise ValueError(f"unknown grid {unknown[0]!r}; choose from {', '.join(GRIDS)}")
    plans = {}
    for name in names:
        cfgs = GRIDS[name](P)
        have = list(dict.fromkeys(c.model for c in cfgs))
        missing = [m for m in models or () if m not in have]
        if missing:
            raise ValueError(f"grid {name!r} has no model {missing[0]!r} at profile {P.name!r}; its models: "
                             f"{', '.join(have)}")
        plans[name] = [c for c in cfgs if not models or c.model in models]
    return plans


def fetch_data(configs: list[RunConfig]) -> None:
    """Load (downloading unless TICKETKIT_DOWNLOAD=0, as runs.execute does) every dataset `configs` train on, so a
    missing one stops the command before anything trains; the loaded arrays are cached for the runs."""
    from .data import load_arrays

    for name in dict.fromkeys(c.dataset for c in configs):
        load_arrays(name, download=os.environ.get("TICKETKIT_DOWNLOAD", "1") != "0",
                    verify=os.environ.get("TICKETKIT_VERIFY", "1") != "0")


def positive_int(text: str) -> int:
    """argparse type for --batch: a whole number >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of runs >= 1, got {text!r}")
    return int(text)


def run_grids(plans: dict[str, list[RunConfig]], scheduler: str | None = None, batch: int | None = None) -> None:
    """Run every missing config of the planned grids (on Dask when `scheduler` is set), one line per finished run."""
    import time

    from .grid import grid
    from .store import Store

    store = Store()
    fetch_data([c for cfgs in plans.values() for c in cfgs if store.get(c) is None])
    for name, cfgs in plans.items():
        todo = [c for c in cfgs if store.get(c) is None]
        print(f"{name}: {len(cfgs)} runs, {len(todo)} to compute", flush=True)
        done, start = [0], [time.perf_counter()]

        def line(c, rec):  # type: ignore[no-untyped-def]
            done[0] += 1
            o = dict(c.options)
            what = (f"level {o['level']} {o['branch']}" if c.method == "imp" else
                    f"{o['search']} {o.get('check', 'none')} " + " ".join(
                        f"{k}={v}" for k, v in o.items() if k not in ("search", "check", "density", "imp_run"))
                    if c.method == "gem" else c.sanity)
            density = o["density"] if c.method == "gem" else c.density  # a gem run's target lives in its options
            print(f"[{done[0]}/{len(todo)}] {c.model} {c.method} {what} density={density:g} seed={c.seed}: "
                  f"{rec['final_test_acc']:.2f}% in {time.perf_counter() - start[0]:.0f}s", flush=True)
            start[0] = time.perf_counter()

        grid(cfgs, store, progress=False, on_record=line, scheduler=scheduler, batch=batch)


def checked(parser: argparse.ArgumentParser, check: Callable[[], T]) -> T:
    """check(), with the KeyError or ValueError of a name or value the user typed made one usage error (exit 2)."""
    try:
        return check()
    except (KeyError, ValueError) as err:
        parser.error(str(err.args[0]) if err.args else repr(err))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketkit")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list models, datasets, pruning methods and sanity checks")
    r = sub.add_parser("run", help="compute (or complete) the grids of experiments headless, storing each run")
    r.add_argument("experiments", nargs="+", help="grid names: dense, su, lottery, deconstruct, gems")
    r.add_argument("--profile", default="cpu")
    r.add_argument("--models", nargs="+", help="only these models (of the grid's models at the profile)")
    r.add_argument("--scheduler", help="train on this Dask scheduler (tcp://host:8786); default $TICKETKIT_SCHEDULER")
    r.add_argument("--batch", type=positive_int, metavar="K", help="train at most K compatible runs as one model (default: K from a "
                   "memory estimate where batching pays on this device; 1 = one at a time)")
    b = sub.add_parser("book", help="execute the notebooks in _toc.yml with papermill and build the HTML book")
    b.add_argument("--profile", default="cpu", help="smoke, cpu or paper (default cpu)")
    b.add_argument("--only", nargs="*", help="execute only these notebooks (names without .ipynb)")
    b.add_argument("--no-build", action="store_true", help="execute notebooks but skip the HTML build")
    b.add_argument("--compute", action="store_true", help="train runs missing from results/ (default: use the store)")
    b.add_argument("--jobs", type=positive_int, metavar="N", help="notebooks executed at once (default: one per CPU "
                   "core, or one with --compute: trainings side by side on few cores are slower)")
    f = sub.add_parser("resume-files", help="print the cached networks that let IMP grids and gem checks resume on "
                       "another machine")
    f.add_argument("experiments", nargs="*", help="only what these grids' missing runs start from (default: every "
                   "stored trajectory and search)")
    f.add_argument("--profile", default="cpu", help="the grids' profile (default cpu)")
    args = parser.parse_args(argv)
    if args.cmd == "list":
        list_registries()
    elif args.cmd == "resume-files":
        from .profiles import get_profile
        from .resume import resume_files
        from .store import Store

        store = Store()
        plans = checked(f, lambda: select(args.experiments, get_profile(args.profile), None))
        pending = [c for cfgs in plans.values() for c in cfgs if store.get(c) is None] if args.experiments else None
        for path in resume_files(store, pending):
            print(path)
    elif args.cmd == "run":
        from .data import DatasetNotFound
        from .profiles import get_profile

        plans = checked(r, lambda: select(args.experiments, get_profile(args.profile), args.models))
        try:
            run_grids(plans, args.scheduler, args.batch)
        except DatasetNotFound as err:
            raise SystemExit(f"{r.prog}: error: {err}") from None
    else:
        from . import book
        from .profiles import get_profile

        checked(b, lambda: (get_profile(args.profile), book.check_names(args.only or [])))
        if args.no_build:
            book.execute(args.profile, args.only, args.compute, jobs=args.jobs)
        else:
            book.build(args.profile, args.only, args.compute, jobs=args.jobs)


if __name__ == "__main__":
    main()
