"""Notebook parameters checked up front: a notebook's setup cell turns them into its Profile with one call, so a
wrong type or name stops it with one message before anything trains.

Named parameters that are profile fields (models, datasets, sparsities, seeds, epochs) and `overrides` (a mapping
of any other profile field, e.g. `-y "overrides: {lr: 0.01}"`) go to get_profile; None keeps the profile's value."""
from __future__ import annotations

import dataclasses
from dataclasses import fields
from typing import Any, TypeVar

from .profiles import Profile, get_profile


def _flag(name: str, value: Any) -> None:
    """compute and progress are switches: a string such as 'yes' would otherwise count as True."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} = {value!r} is not valid: expected True or False")


def _scheduler(name: str, value: Any) -> None:
    """A scheduler is None, an address or a Dask object; a bare number (a port) or a list is a mistake."""
    if isinstance(value, (bool, int, float, list, tuple, dict)):
        raise TypeError(f"{name} = {value!r} is not valid: expected None (train in this process), a Dask scheduler "
                        "address such as 'tcp://host:8786', or a Dask Client or cluster")


CHECKS = {"compute": _flag, "progress": _flag, "scheduler": _scheduler}  # notebook parameters that are not fields


def notebook_profile(profile: str, overrides: dict[str, Any] | None = None, **named: Any) -> Profile:
    """The profile a notebook runs at: `profile` with `overrides` and the named parameters that are set applied,
    every parameter checked (CHECKS for those that are not profile fields)."""
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise TypeError(f"overrides = {overrides!r} is not valid: expected a mapping of profile field to value, "
                        'e.g. -y "overrides: {lr: 0.01, batch_size: 32}"')
    valid = {f.name for f in fields(Profile)}
    unknown = sorted(set(named) - valid - set(CHECKS))
    if unknown:
        raise KeyError(f"unknown notebook parameter(s) {unknown}; profile fields and {', '.join(CHECKS)} are known")
    for name, check in CHECKS.items():
        if name in named:
            check(name, named[name])
    given = {k: v for k, v in named.items() if k in valid and v is not None}
    twice = sorted(set(given) & set(overrides))
    if twice:
        raise ValueError(f"{', '.join(twice)} given both as a parameter and in overrides; give each once")
    return get_profile(profile, **overrides, **given)


S = TypeVar("S")
MAY_BE_EMPTY = ("match_seeds",)  # tuple fields where none is a choice (no further seeds)


def chapter_scale(scales: dict[str, S], profile: str, overrides: dict[str, Any] | None, named: dict[str, Any]) -> S:
    """A chapter's scale (a frozen dataclass) at `profile` with a notebook's `overrides` and named parameters
    applied, each in the type of the profile's value (None keeps it); one clear error for an unknown profile or
    field, a field given twice or a wrong type. compute, progress and scheduler are checked, not applied."""
    if not isinstance(profile, str) or profile not in scales:
        raise KeyError(f"unknown profile {profile!r}; choose one of: {', '.join(scales)}")
    if not isinstance(overrides or {}, dict):
        raise TypeError(f"overrides = {overrides!r} is not valid: expected a mapping of field to value")
    named = dict(named)
    for name in CHECKS:
        if name in named:
            CHECKS[name](name, named.pop(name))
    twice = sorted(k for k in set(named) & set(overrides or {}) if named[k] is not None)
    if twice:
        raise ValueError(f"{', '.join(twice)} given both as a parameter and in overrides; give each once")
    given = {**(overrides or {}), **{k: v for k, v in named.items() if v is not None}}
    base = scales[profile]
    known = {f.name for f in fields(base)}  # type: ignore[arg-type]
    bad = sorted(set(given) - known)
    if bad:
        raise KeyError(f"unknown parameter(s) {bad}; the chapter's scale has: {', '.join(sorted(known))}")
    return dataclasses.replace(base, **{k: _like(k, getattr(base, k), v) for k, v in given.items()  # type: ignore[type-var]
                                        if v is not None})


def _like(name: str, default: Any, value: Any) -> Any:
    """`value` in the type of `default` (a list for a tuple field, ints accepted for floats), or TypeError."""
    def one(kind: type, x: Any) -> Any:
        x = float(x) if kind is float and isinstance(x, int) and not isinstance(x, bool) else x
        if kind is bool:
            if not isinstance(x, bool):
                raise TypeError
            return x
        if not isinstance(x, kind) or isinstance(x, bool) or (isinstance(x, (int, float)) and x < 0):
            raise TypeError
        return x

    try:
        if isinstance(default, tuple):
            items = tuple(value) if isinstance(value, (list, tuple)) else (value,)
            kind = type(default[0]) if default else int
            if not items and name not in MAY_BE_EMPTY:
                raise TypeError
            return tuple(one(kind, x) for x in items)
        out = one(int if default is None else type(default), value)
        if isinstance(out, (int, float)) and not isinstance(out, bool) and out == 0 and \
                name not in ("weight_decay", "momentum"):
            raise TypeError
        return out
    except TypeError:
        kind = type(default[0]).__name__ if isinstance(default, tuple) and default else type(default).__name__
        what = f"a non-empty list of {kind} values (0 or more)" if isinstance(default, tuple) else \
            "true or false" if isinstance(default, bool) else f"a positive {'int' if default is None else kind}"
        raise TypeError(f"{name} = {value!r} is not valid: expected {what}") from None

