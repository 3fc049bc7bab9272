"""Notebook parameters checked up front: a notebook's setup cell turns them into its Profile with one call, so a
wrong type or name stops it with one message before anything trains.

Named parameters that are profile fields (models, datasets, sparsities, seeds, epochs) and `overrides` (a mapping
of any other profile field, e.g. `-y "overrides: {lr: 0.01}"`) go to get_profile; None keeps the profile's value."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

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
