from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_database,
    env_int,
    env_proxy_ssl_header,
    env_rate,
    env_redis_url,
    env_replica_database,
    env_timezone,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ["FLAG", "NUM", "TZ_NAME", "DB", "BROKER", "REPLICA", "RATE"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_booleans_accept_the_usual_spellings(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    environ.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False


def test_a_bad_boolean_fails_loudly(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe' is not a boolean"):
        env_bool("FLAG", False)


def test_the_proxy_ssl_header_is_read_as_django_wants_it_or_switched_off(
    environ: pytest.MonkeyPatch,
) -> None:
    assert env_proxy_ssl_header("PROXY", "X-Forwarded-Proto: https") == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )
    environ.setenv("PROXY", "X-Forwarded-Ssl: on")
    assert env_proxy_ssl_header("PROXY", "X-Forwarded-Proto: https") == (
        "HTTP_X_FORWARDED_SSL",
        "on",
    )
    environ.setenv("PROXY", "off")
    assert env_proxy_ssl_header("PROXY", "X-Forwarded-Proto: https") is None
    for bad in ("https", "X Forwarded: https", "X-Forwarded-Proto:"):
        environ.setenv("PROXY", bad)
        with pytest.raises(ImproperlyConfigured, match="PROXY="):
            env_proxy_ssl_header("PROXY", "X-Forwarded-Proto: https")


def test_the_csp_reports_where_it_is_told_and_hsts_covers_subdomains_unless_told_not_to() -> None:
    policy = "s.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('report-uri')"
    assert _settings(policy) == "None"
    assert _settings(policy, CSP_REPORT_URI="https://r.example/csp") == "['https://r.example/csp']"
    hsts = "s.SECURE_HSTS_INCLUDE_SUBDOMAINS"
    assert _settings(hsts, DEBUG="false", SECRET_KEY="k" * 50, ALLOWED_HOSTS="x") == "True"
    assert _settings(
        hsts, DEBUG="false", SECRET_KEY="k" * 50, ALLOWED_HOSTS="x",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
    ) == "False"  # fmt: skip


def test_a_bad_number_fails_loudly(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("NUM", 1)
    environ.setenv("NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("NUM", 1, minimum=1)


def test_an_unknown_time_zone_fails_loudly(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("TZ_NAME", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="not a known time zone"):
        env_timezone("TZ_NAME", "UTC")


def test_no_database_url_means_an_sqlite_file(environ: pytest.MonkeyPatch) -> None:
    config = env_database("DB", "/tmp/x.sqlite3")
    assert (config["ENGINE"], config["NAME"]) == ("django.db.backends.sqlite3", "/tmp/x.sqlite3")


def test_sqlite_given_by_url_waits_for_the_write_lock_as_the_default_does(
    environ: pytest.MonkeyPatch,
) -> None:
    environ.setenv("DB", "sqlite:////tmp/y.sqlite3")
    config = env_database("DB", "unused")
    assert (config["ENGINE"], config["NAME"]) == ("django.db.backends.sqlite3", "/tmp/y.sqlite3")
    assert config["OPTIONS"] == {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    environ.delenv("DB")
    assert env_database("DB", "/tmp/x.sqlite3")["OPTIONS"] == config["OPTIONS"]


def test_a_postgres_url_is_parsed(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("DB", "postgres://u:p@db.internal:5433/tandem")
    config = env_database("DB", "unused")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "tandem")
    assert config["OPTIONS"]["options"] == "-c jit=off"  # short queries; no compiling them


def test_an_unsupported_database_url_fails_loudly(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("DB", "mysql://root@localhost/tandem")
    with pytest.raises(ImproperlyConfigured, match="must start with postgres://"):
        env_database("DB", "unused")


PRIMARY = {"ENGINE": "django.db.backends.postgresql", "NAME": "tandem"}


def test_no_replica_url_means_no_replica(environ: pytest.MonkeyPatch) -> None:
    assert env_replica_database("REPLICA", PRIMARY, primary_name="DB") is None
    environ.setenv("REPLICA", "  ")
    assert env_replica_database("REPLICA", PRIMARY, primary_name="DB") is None


def test_a_replica_mirrors_the_primary_under_test(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("REPLICA", "postgres://reader@replica.internal:5432/tandem")
    config = env_replica_database("REPLICA", PRIMARY, primary_name="DB")
    assert config is not None
    assert (config["ENGINE"], config["HOST"]) == (
        "django.db.backends.postgresql",
        "replica.internal",
    )
    assert config["TEST"] == {"MIRROR": "default"}


def test_a_replica_of_another_kind_of_database_fails_loudly(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("REPLICA", "sqlite:////tmp/replica.sqlite3")
    with pytest.raises(ImproperlyConfigured, match="REPLICA must be a replica of DB"):
        env_replica_database("REPLICA", PRIMARY, primary_name="DB")
    environ.setenv("REPLICA", "mysql://root@localhost/tandem")
    with pytest.raises(ImproperlyConfigured, match="must start with postgres://"):
        env_replica_database("REPLICA", PRIMARY, primary_name="DB")


def test_a_broker_url_must_be_redis(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("BROKER", "amqp://guest@localhost//")
    with pytest.raises(ImproperlyConfigured, match="redis://"):
        env_redis_url("BROKER")


def _check(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_fresh_checkout_runs_management_commands_with_local_defaults() -> None:
    result = _check()
    assert result.returncode == 0, result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = _check(DEBUG="false")
    assert result.returncode != 0
    assert "Set the environment variable SECRET_KEY" in result.stderr


def test_production_settings_pass_the_deploy_checks() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{
                k: v
                for k, v in os.environ.items()
                if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "DEBUG"}
            },
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "a-long-and-random-production-secret-key-0123456789-abcdefghij",
            "ALLOWED_HOSTS": "tandem.example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


#: What `_settings` prints by default: what config.settings makes of the database variables.
DATABASE_SETTINGS = (
    "sorted(s.DATABASES), s.DATABASE_ROUTERS, "
    "'config.db_router.ReplicaReadsMiddleware' in s.MIDDLEWARE, "
    "s.DATABASES.get('replica', {}).get('TEST')"
)


def _settings(show: str = DATABASE_SETTINGS, **env: str) -> str:
    """`show` (an expression of the settings, `s`) as config.settings makes it of `env`, as one
    line, read in a fresh process."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "DJANGO_SETTINGS_MODULE"}
    }
    code = f"from django.conf import settings as s; print({show})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_a_replica_url_there_is_no_replica_router_or_middleware() -> None:
    assert _settings() == "['default'] [] False None"
    assert _settings(DATABASE_REPLICA_URL="") == "['default'] [] False None"


def test_a_replica_url_adds_the_alias_the_router_and_the_middleware() -> None:
    assert _settings(DATABASE_REPLICA_URL="sqlite:////tmp/tandem-replica.sqlite3") == (
        "['default', 'replica'] ['config.db_router.ReplicaRouter'] True {'MIRROR': 'default'}"
    )


@pytest.mark.parametrize(
    ("value", "rate"),
    [("600/minute", (600, 60)), ("100/second", (100, 1)), ("300/10s", (300, 10)),
     ("5000/hour", (5000, 3600)), ("2/ 5 min", (2, 300)), ("10000/day", (10000, 86400)),
     ("1/Hours", (1, 3600)), ("off", None), ("None", None)],
)  # fmt: skip
def test_a_rate_reads_requests_per_period(
    environ: pytest.MonkeyPatch, value: str, rate: tuple[int, int] | None
) -> None:
    environ.setenv("RATE", value)
    assert env_rate("RATE", "1/second") == rate


@pytest.mark.parametrize("value", ["600", "600/fortnight", "fast", "0/minute", "10/0s", "-1/s", ""])
def test_a_bad_rate_fails_loudly(environ: pytest.MonkeyPatch, value: str) -> None:
    environ.setenv("RATE", value)
    with pytest.raises(ImproperlyConfigured, match="RATE="):
        env_rate("RATE", "1/second")


def test_a_bad_throttle_rate_stops_the_app_from_starting() -> None:
    code = "import os; os.environ.update(SECRET_KEY='x'); import config.settings"
    env = {"PATH": "/usr/bin:/bin", "API_THROTTLE_RATE": "lots"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode != 0
    assert "API_THROTTLE_RATE='lots' is not a rate" in out.stderr
