"""Where the brands configuration comes from: a file, an SSM parameter, or the packaged default.

DESKINTAKE_BRANDS_FILE names a JSON file (the local stack points it at examples/brands.json);
DESKINTAKE_BRANDS_PARAM names an SSM parameter holding the same JSON (cached five minutes);
with neither, the packaged config/brands.json: one "default" brand, today's behaviour.
A file is re-read when it changes, so `deskintake reprocess` sees an edited configuration.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from deskintake.domain.brands import BrandsConfig, load_brands, parse_brands

_PARAM_CACHE_SECONDS = 300
_lock = threading.Lock()
_cache: dict[str, tuple[float, BrandsConfig]] = {}


def active() -> BrandsConfig:
    """The brands in force for this process (cheap to call per message)."""
    path = os.environ.get("DESKINTAKE_BRANDS_FILE", "").strip()
    if path:
        try:
            stamp = Path(path).stat().st_mtime
        except OSError as exc:
            raise RuntimeError(f"DESKINTAKE_BRANDS_FILE {path!r} cannot be read: {exc}") from exc
        return _cached(f"file:{path}", stamp, lambda: load_brands(path))
    parameter = os.environ.get("DESKINTAKE_BRANDS_PARAM", "").strip()
    if parameter and os.environ.get("DESKINTAKE_LOCAL") != "1":
        bucket = float(int(time.monotonic() // _PARAM_CACHE_SECONDS))
        return _cached(f"ssm:{parameter}", bucket, lambda: _from_ssm(parameter))
    return load_brands(None)


def _cached(key: str, stamp: float, build: object) -> BrandsConfig:
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    config = build()  # type: ignore[operator]
    with _lock:
        _cache[key] = (stamp, config)
    return config  # type: ignore[no-any-return]


def _from_ssm(parameter: str) -> BrandsConfig:
    from aws_lambda_powertools.utilities import parameters

    return parse_brands(str(parameters.get_parameter(parameter, max_age=_PARAM_CACHE_SECONDS)))
