"""Command line: `python -m ticketkit list` shows every registry; `python -m ticketkit book --profile cpu` builds."""
from __future__ import annotations

import argparse


def list_registries() -> None:
    from .data import DATASETS
    from .models import MODELS
    from .pruning.methods import METHODS
    from .pruning.sanity import SANITY

    for title, reg in [("models", MODELS), ("datasets", DATASETS), ("pruning methods", METHODS),
                       ("sanity checks", SANITY)]:
        print(f"{title}:")
        for e in reg:
            print(f"  {e.name:<20} {e.description}")


def run_grids(names: list[str], profile: str, models: list[str] | None) -> None:
    """Run every missing config of the named grids, printing one line per finished run."""
    import time

    from .experiments import GRIDS
    from .grid import grid
    from .profiles import get_profile
    from .store import Store

    P = get_profile(profile)
    store = Store()
    for name in names:
        if name not in GRIDS:
            raise SystemExit(f"unknown grid {name!r}; choose from {', '.join(GRIDS)}")
        cfgs = [c for c in GRIDS[name](P) if not models or c.model in models]
        todo = [c for c in cfgs if store.get(c) is None]
        print(f"{name}: {len(cfgs)} runs, {len(todo)} to compute", flush=True)
        done, start = [0], [time.perf_counter()]

        def line(c, rec):  # type: ignore[no-untyped-def]
            done[0] += 1
            print(f"[{done[0]}/{len(todo)}] {c.model} {c.method} {c.sanity} density={c.density:g} seed={c.seed}: "
                  f"{rec['final_test_acc']:.2f}% in {time.perf_counter() - start[0]:.0f}s", flush=True)
            start[0] = time.perf_counter()

        grid(todo, store, progress=False, on_record=line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ticketkit")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list models, datasets, pruning methods and sanity checks")
    r = sub.add_parser("run", help="compute (or complete) the grids of experiments headless, storing each run")
    r.add_argument("experiments", nargs="+", help="grid names: dense, su")
    r.add_argument("--profile", default="cpu")
    r.add_argument("--models", nargs="*", help="only these models")
    b = sub.add_parser("book", help="execute the notebooks in _toc.yml with papermill and build the HTML book")
    b.add_argument("--profile", default="cpu", help="smoke, cpu or paper (default cpu)")
    b.add_argument("--only", nargs="*", help="execute only these notebooks (names without .ipynb)")
    b.add_argument("--no-build", action="store_true", help="execute notebooks but skip the HTML build")
    b.add_argument("--compute", action="store_true", help="train runs missing from results/ (default: use the store)")
    args = parser.parse_args(argv)
    if args.cmd == "list":
        list_registries()
    elif args.cmd == "run":
        run_grids(args.experiments, args.profile, args.models)
    else:
        from . import book
        from .profiles import get_profile

        get_profile(args.profile)  # fail early on a bad name
        if args.no_build:
            book.execute(args.profile, args.only, args.compute)
        else:
            book.build(args.profile, args.only, args.compute)


if __name__ == "__main__":
    main()
