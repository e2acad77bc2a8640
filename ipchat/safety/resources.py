"""Crisis resources by region, kept as data in ipchat/data/crisis.toml."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from importlib import resources

from ipchat.errors import IpchatError

_REGION_ENV = "IPCHAT_REGION"



@lru_cache(maxsize=1)
def _resources() -> dict:
    with resources.files("ipchat.data").joinpath("crisis.toml").open("rb") as handle:
        return tomllib.load(handle)


def regions() -> tuple[str, ...]:
    """Return the region codes that have crisis resources, e.g. ("CA", "EU", "IE", "UK", "US")."""
    return tuple(sorted(_resources()["regions"]))


def _resolve_region(region: str | None) -> str:
    """Return the region code to use: `region`, else $IPCHAT_REGION, else the default (US).

    Raises IpchatError naming the valid regions when the code is unknown.
    """
    data = _resources()
    chosen = region if region is not None else (os.environ.get(_REGION_ENV) or data["default_region"])
    if not isinstance(chosen, str):
        raise IpchatError(f"region must be a string such as 'US'; valid regions: {', '.join(regions())}")
    code = chosen.strip().upper()
    code = data.get("aliases", {}).get(code, code)
    if code not in data["regions"]:
        source = "region" if region is not None else _REGION_ENV
        raise IpchatError(f"unknown {source} {chosen!r}; valid regions: {', '.join(regions())}")
    return code


def crisis_message(region: str | None = None) -> str:
    """Return the crisis message for `region` (default: $IPCHAT_REGION, else US).

    Raises IpchatError if the region is unknown.
    """
    return _resources()["regions"][_resolve_region(region)]["crisis"]


def concern_message(region: str | None = None) -> str:
    """Return the guidance shown before the answer at level concern for `region`.

    Raises IpchatError if the region is unknown.
    """
    return _resources()["regions"][_resolve_region(region)]["concern"]


def resources_footer(region: str | None = None) -> str:
    """Return the one-line resources footer shown after clinical answers for `region`.

    Raises IpchatError if the region is unknown.
    """
    return _resources()["regions"][_resolve_region(region)]["footer"]


def message_for(level: str, region: str) -> str:
    if level == "crisis":
        return crisis_message(region)
    if level == "concern":
        return concern_message(region)
    if level == "clinical":
        return resources_footer(region)
    return ""

