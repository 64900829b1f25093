"""Small helpers that read settings from the environment and fail loudly on bad values."""

from __future__ import annotations

import os
import re
import zoneinfo

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_timezone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a known time zone (e.g. Europe/Berlin, UTC)."
        ) from None
    return value


#: What every SQLite database is opened with: a busy timeout, and write transactions that take
#: the write lock when they begin (`BEGIN IMMEDIATE`), so a writer waits instead of failing.
SQLITE_OPTIONS = {"timeout": 20, "transaction_mode": "IMMEDIATE"}


def env_database(name: str, default_sqlite_path: str) -> dict:
    import dj_database_url

    value = os.environ.get(name, "").strip()
    if not value:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": default_sqlite_path,
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    if not value.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ImproperlyConfigured(
            f"{name} must start with postgres:// or sqlite:// (got {value.split(':')[0]!r})."
        )
    try:
        config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} could not be read: {exc}") from None
    if config["ENGINE"].endswith("sqlite3"):
        # Given by URL or not, SQLite takes concurrent writers one at a time only with these:
        # without them three parallel ingests answered "database is locked".
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    if config["ENGINE"].endswith("postgresql"):
        # PostgreSQL compiles a query with JIT once its estimated cost passes a threshold that
        # the engine's per-row subqueries reach on a single day: 0.4 s of compiling for 20 ms
        # of work. Every query here is short or a month's GROUP BY; none gains from it.
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return config


def env_replica_database(name: str, primary: dict, *, primary_name: str) -> dict | None:
    """A read replica of the `primary` database, or None when `name` is unset or empty.

    The replica must be the same kind of database as the primary. Under test it mirrors the
    primary (`TEST: MIRROR`): tests see one database through both aliases and never try to
    create a test database on a read-only server.
    """
    if not os.environ.get(name, "").strip():
        return None
    config = env_database(name, "")
    engine, primary_engine = (c["ENGINE"].rsplit(".", 1)[-1] for c in (config, primary))
    if engine != primary_engine:
        raise ImproperlyConfigured(
            f"{name} must be a replica of {primary_name}: the same kind of database "
            f"(got {engine} for a {primary_engine} primary)."
        )
    return {**config, "TEST": {"MIRROR": "default"}}


def env_redis_url(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if value and not value.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(f"{name} must start with redis:// or rediss://.")
    return value


def env_proxy_ssl_header(name: str, default: str) -> tuple[str, str] | None:
    """Django's SECURE_PROXY_SSL_HEADER from "Header-Name: value" (what the TLS proxy in front
    sets on the requests that reached it over HTTPS), or None for "off" (no proxy: the app
    must then not trust any such header)."""
    value = env_str(name, default).strip()
    if not value or value.lower() in _OFF:
        return None
    header, sep, expected = (part.strip() for part in value.partition(":"))
    if not sep or not expected or not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise ImproperlyConfigured(
            f"{name}={value!r} must be 'Header-Name: value' (e.g. 'X-Forwarded-Proto: https') "
            "or 'off'."
        )
    return "HTTP_" + header.upper().replace("-", "_"), expected


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)s?", re.I)
_OFF = {"off", "none"}


def env_rate(name: str, default: str) -> tuple[int, int] | None:
    """A rate as (requests, seconds): "600/minute", "100/second", "300/10s", "5000/hour"; "off"
    for none (no limit)."""
    value = env_str(name, default).strip()
    if value.lower() in _OFF:
        return None
    match = _RATE.fullmatch(value)
    if not match:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate; write requests per period, e.g. 600/minute, "
            "100/second or 300/10s, or off."
        )
    count, every, unit = int(match[1]), int(match[2] or 1), match[3][0].lower()
    if count < 1 or every < 1:
        raise ImproperlyConfigured(f"{name}={value!r}: the requests and the period must be > 0.")
    return count, every * _UNITS[unit]
