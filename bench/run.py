"""The benchmark suite: `make bench [LEADS=1000000]`.

    .venv/bin/python bench/run.py --leads 100000 [--months 24] [--reuse] [--out bench/results.json]

Seeds a dedicated PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/tandem_bench: dropped and created again) and uses a dedicated
Redis database (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14: flushed), then measures with
the real moving parts on loopback: gunicorn (2 sync workers), a Celery worker, and load from a
separate process (`bench/load.py`, 16 concurrent clients, bounded request counts). In-process
measurements run in fresh processes of their own (`bench/inproc.py`). Last, the embedded default
(SQLite, no Redis, 2,000 demo leads in a temporary copy of the project) answers a few
decisions. Prints a table with the targets and writes `bench/results.json`; the README's
*Benchmarks* section says what each key means. Every process it starts is stopped on the way
out, also on Ctrl-C; their logs are in `bench/.logs/`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOGS = BENCH / ".logs"
BIN = Path(sys.executable).parent
PY = sys.executable
# The environment the bench was started with, before it set Django up for itself.
START_ENV = dict(os.environ)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/tandem_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
CONCURRENCY = 16
GUNICORN_WORKERS = 2
API_RATE = "1000000/minute"  # the bench's API user is never throttled (see README)
API_USER = "bench-api"  # exempt from the throttle: API_THROTTLE_EXEMPT_USERS
PASSWORD = "demo"
HEAD_OF_SALES = "tom"
REPS = ["jonas", "nina", "ben", "chloe", "david", "sofia"]
CHANNELS = ["email", "paid_search", "paid_social", "webinar", "event", "referral", "content"]
METRICS = ["mqls", "sals", "sqls", "opportunities", "deals_won", "rejections"]

# (key, comparison, target): printed next to the figures with a pass/miss mark.
TARGETS: list[tuple[str, str, float]] = [
    ("seed_seconds", "<=", 300),
    ("recompute_ratio", "<=", 4),
    ("incremental_speedup", ">=", 100),
    ("freshness_seconds", "<=", 5),
    ("recompute_peak_rss_mb", "<=", 500),
    ("recompute_workers_speedup", ">=", 1.6),
    ("dashboard_p95_ms", "<=", 150),
    ("dashboard_rps_ratio", ">=", 0.3),
    ("kpi_api_p95_ms", "<=", 50),
    ("inbox_p95_ms", "<=", 150),
    ("inbox_decide_p95_ms", "<=", 150),
    ("ingest_ratio", ">=", 0.25),
    ("embedded_decide_ms", "<=", 200),
    ("errors", "==", 0),
]
# Shown in the table without a target.
INFO: list[str] = [
    "analyze_seconds",
    "recompute_full_seconds",
    "recompute_floor_seconds",
    "recompute_incremental_seconds",
    "recompute_incremental_long_seconds",
    "recompute_workers_c1_seconds",
    "recompute_workers_c2_seconds",
    "dashboard_p50_ms",
    "dashboard_rps",
    "hello_rps",
    "dashboard_c1_p50_ms",
    "dashboard_cold_p95_ms",
    "dashboard_warm_p95_ms",
    "kpi_api_rps",
    "kpi_api_c1_p50_ms",
    "inbox_p50_ms",
    "inbox_c1_p50_ms",
    "inbox_decide_p50_ms",
    "ingest_records_per_s",
    "ingest_floor_records_per_s",
    "embedded_decide_p95_ms",
]


class Interrupted(Exception):
    """SIGTERM or SIGHUP: unwind like Ctrl-C, so that every child is stopped."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ------------------------------------------------------------------------------


class Procs:
    """Every process the bench starts, each in a session of its own (Ctrl-C in the terminal
    reaches only the bench, which then stops them in order). Their ids are written to
    `.logs/pids.json`, so a bench killed with SIGKILL has its leftovers stopped by the next."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen] = {}
        self.pidfile = LOGS / "pids.json"
        self._stop_leftovers()

    def _write(self) -> None:
        pids = {name: [p.pid, p.args[0]] for name, p in self.running.items()}
        self.pidfile.write_text(json.dumps(pids))

    def _stop_leftovers(self) -> None:
        if not self.pidfile.exists():
            return
        for name, (pid, program) in json.loads(self.pidfile.read_text()).items():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(str(program).encode() in part for part in cmdline):
                log(f"stopping {name} (pid {pid}) left over from an earlier run")
                self._kill_group(pid)
        self.pidfile.unlink()

    @staticmethod
    def _kill_group(pid: int, timeout: float = 15, process: subprocess.Popen | None = None) -> None:
        """SIGTERM to the group, SIGKILL to whatever is left of it after `timeout`. A child of
        ours is waited for (a zombie still answers signal 0, so the group probe would wait it
        out); the rest of its group gets a short grace after it."""
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        if process is not None:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)
            deadline = min(deadline, time.monotonic() + 2)
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        if process is not None:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def start(
        self,
        name: str,
        cmd: list[str],
        env: dict[str, str],
        cwd: Path = ROOT,
        stdout: Path | None = None,
        logname: str | None = None,
    ) -> subprocess.Popen:
        LOGS.mkdir(exist_ok=True)
        logfile = (LOGS / f"{logname or name}.log").open("w")
        out = stdout.open("w") if stdout else logfile
        process = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=logfile, start_new_session=True
        )
        self.running[name] = process
        self._write()
        return process

    def stop(self, name: str, timeout: float = 15) -> None:
        process = self.running.pop(name, None)
        if process is None:
            return
        if process.returncode is None:
            self._kill_group(process.pid, timeout, process)
        self._write()

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            log(f"stopping {name}")
            self.stop(name)
        if self.pidfile.exists():
            self.pidfile.unlink()

    def run(
        self, name: str, cmd: list[str], env: dict[str, str], cwd: Path = ROOT
    ) -> tuple[float, float, str]:
        """Run a child to its end: (wall seconds, its peak RSS in MB, its stdout)."""
        out = LOGS / f"{name}.out"
        start = time.perf_counter()
        process = self.start(name, cmd, env, cwd, stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        self.running.pop(name, None)
        self._write()
        if process.returncode != 0:
            raise RuntimeError(f"{name} exited {process.returncode}; see {LOGS / name}.log")
        return seconds, usage.ru_maxrss / 1024, out.read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, ready: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready after {timeout:.0f} s")


def last_json(text: str) -> dict[str, Any]:
    return json.loads(text.strip().splitlines()[-1])


# --- HTTP (the orchestrator's own few requests; load comes from bench/load.py) -------------


def http(
    method: str, url: str, *, token: str | None = None, body: object = None
) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    data = None
    if token:
        headers["Authorization"] = f"Token {token}"
    if body is not None:
        data = json.dumps(body, default=str).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw[:300]


# --- the bench --------------------------------------------------------------------------------


def server_env(db_url: str, redis_url: str) -> dict[str, str]:
    """Production settings on plain HTTP at 127.0.0.1, with the API throttle raised."""
    env = {k: v for k, v in START_ENV.items() if k != "DATABASE_REPLICA_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        DEBUG="false",
        SECRET_KEY="bench-only-not-a-secret",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CSRF_TRUSTED_ORIGINS="",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        SECURE_HSTS_PRELOAD="false",
        API_THROTTLE_RATE=API_RATE,
        API_THROTTLE_EXEMPT_USERS=API_USER,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def embedded_env() -> dict[str, str]:
    """What `make run` gives the app: no DATABASE_URL, no REDIS_URL, DEBUG with a local key."""
    unset = {"DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "ALLOWED_HOSTS"}
    unset.add("DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in START_ENV.items() if k not in unset}
    env.update(DEBUG="true", SECRET_KEY="local-dev-only", PYTHONUNBUFFERED="1")
    return env


class Bench:
    # A database is dropped only when its name says it is disposable: it has one of these.
    disposable_names: tuple[str, ...] = ("bench",)

    def __init__(self, args: argparse.Namespace, procs: Procs) -> None:
        self.args = args
        self.procs = procs
        self.db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
        self.redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
        self.env = server_env(self.db_url, self.redis_url)
        self.results: dict[str, Any] = {"leads": args.leads}
        self.phases: dict[str, Any] = {}
        self.failures: list[str] = []
        self.loadavg: dict[str, float] = {}  # the machine's 1-minute load as each phase began
        self.base = ""
        self.token = ""
        self.worker_name = ""
        self.leads_in_db: int | None = None
        self.database: dict[str, Any] = {}

    def scaled(self, n: int) -> int:
        return max(1, round(n * self.args.scale))

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """A failed phase is logged and recorded; the bench goes on with the next."""
        log(f"{name} …")
        start = time.perf_counter()
        self.loadavg[name] = os.getloadavg()[0]
        try:
            yield
        except (KeyboardInterrupt, Interrupted):
            raise
        except Exception as exc:
            self.failures.append(f"{name}: {exc}")
            with (LOGS / "failures.log").open("a") as out:
                out.write(f"--- {name}\n{traceback.format_exc()}\n")
            log(f"{name} FAILED: {exc} (traceback in {LOGS / 'failures.log'})")
        else:
            log(f"{name} done in {time.perf_counter() - start:.1f} s")

    # --- set-up

    def django(self) -> None:
        os.environ.update(self.env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()

    def prepare_database(self) -> bool:
        """Drop and create the bench database; False when --reuse keeps a seeded one."""
        import psycopg

        name = urlparse(self.db_url).path.lstrip("/")
        if not any(mark in name for mark in self.disposable_names):
            marks = " or ".join(repr(m) for m in self.disposable_names)
            raise SystemExit(f"Refusing to drop {name!r}: the bench database's name has {marks}.")
        admin = self.db_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists and self.args.reuse:
                return False
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return True

    def flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def manage(self, name: str, *args: str) -> tuple[float, float, str]:
        return self.procs.run(name, [PY, "manage.py", *args], self.env)

    def seed(self) -> None:
        from leads.models import Lead

        fresh = self.prepare_database()
        self.flush_redis()
        self.manage("migrate", "migrate", "--noinput")
        if fresh:
            seconds, rss, out = self.manage(
                "seed",
                "seed_demo",
                "--leads",
                str(self.args.leads),
                "--months",
                str(self.args.months),
                "--no-progress",
            )
            self.results["seed_seconds"] = seconds
            self.results["seed_peak_rss_mb"] = rss
            self.phases["seed"] = out.strip().splitlines()
        else:
            log("--reuse: kept the seeded database (seed_seconds not measured)")
            self.results["seed_seconds"] = None
        self.results["analyze_seconds"] = self.analyze()
        self.leads_in_db = Lead.objects.count()
        self.database = self.describe_database()
        self.manage("collectstatic", "collectstatic", "--noinput")

    def describe_database(self) -> dict[str, Any]:
        """What docs/scaling.md asks to record next to the figures: size, events, settings."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            size = cursor.fetchone()[0]
            counts = {}
            for table in ("leads_touch", "leads_stageevent", "leads_contactattempt"):
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cursor.fetchone()[0]
            settings = {}
            for name in ("shared_buffers", "work_mem", "autovacuum", "max_parallel_workers"):
                cursor.execute(f"SHOW {name}")
                settings[name] = cursor.fetchone()[0]
        return {
            "size_mb": size / 2**20,
            "events": sum(counts.values()),
            "event_rows": counts,
            "postgresql": settings,
        }

    def analyze(self) -> float:
        """`VACUUM (ANALYZE)` the fresh tables, as autovacuum would soon after a bulk load.

        seed_demo loads with COPY and leaves no planner statistics; without them (and on a
        server with autovacuum off) the engine's queries get plans many times slower than
        production's, which measures the planner's guesses rather than the engine.
        """
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            start = time.perf_counter()
            conn.execute("VACUUM (ANALYZE)")
            return time.perf_counter() - start

    def inproc(self, what: str, *args: str) -> tuple[dict[str, Any], float]:
        _, rss, out = self.procs.run(
            f"inproc-{what}", [PY, str(BENCH / "inproc.py"), what, *args], self.env
        )
        return last_json(out), rss

    # --- in-process measurements

    def recompute(self) -> None:
        floor, _ = self.inproc("floor")
        full, rss = self.inproc("full")
        self.results.update(
            recompute_full_seconds=full["recompute_full_seconds"],
            recompute_floor_seconds=floor["recompute_floor_seconds"],
            recompute_peak_rss_mb=full["recompute_peak_rss_mb"],
        )
        self.phases["recompute"] = {**floor, **full, "child_maxrss_mb": rss}

    def incremental(self) -> None:
        result, _ = self.inproc("incremental")
        self.results.update(
            recompute_incremental_seconds=result["recompute_incremental_seconds"],
            recompute_incremental_long_seconds=result["recompute_incremental_long_seconds"],
        )
        self.phases["incremental"] = result

    # --- servers

    def start_gunicorn(self) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        cmd = [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        cmd += ["--workers", str(GUNICORN_WORKERS), "--timeout", "300"]
        self.procs.start("gunicorn", cmd, self.env)
        wait_for("gunicorn", lambda: http("GET", f"{self.base}/login/")[0] == 200)

    def start_worker(self, concurrency: int) -> None:
        from config.celery import app

        name = f"bench-c{concurrency}@{socket.gethostname()}"
        cmd = [str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO"]
        cmd += ["--concurrency", str(concurrency), "-n", name, "--without-gossip"]
        cmd += ["--without-mingle", "--without-heartbeat"]
        self.procs.start("worker", cmd, self.env, logname=f"worker-c{concurrency}")
        self.worker_name = name
        wait_for("celery worker", lambda: bool(app.control.ping([name], timeout=1)))

    def stop_worker(self) -> None:
        self.procs.stop("worker", timeout=60)

    def users(self) -> None:
        from django.contrib.auth import get_user_model

        from alignment.roles import Role
        from alignment.services.accounts import api_token_get_or_create, user_set_role

        user, _ = get_user_model().objects.get_or_create(username=API_USER)
        user_set_role(user=user, role=Role.ADMIN)
        self.token = api_token_get_or_create(user=user).key

    def settle(self, timeout: float = 600) -> None:
        """Wait until the worker has recomputed every logged change (a phase's writes should not
        run on the worker during the next phase)."""
        from leads.models import FunnelChange

        if "worker" not in self.procs.running:
            self.start_worker(2)
        wait_for("the change log to empty", lambda: not FunnelChange.objects.exists(), timeout)
        time.sleep(1)

    # --- jobs and freshness

    def recompute_job(self) -> float:
        from kpis.models import RecomputeJob

        status, body = http("POST", f"{self.base}/api/v1/recompute/", token=self.token, body={})
        if status != 202:
            raise RuntimeError(f"POST /api/v1/recompute/ answered {status}: {body}")
        done = {RecomputeJob.Status.DONE, RecomputeJob.Status.FAILED}
        deadline = time.monotonic() + 7200
        while True:
            job = RecomputeJob.objects.get(pk=body["id"])
            if job.status in done:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the recompute job did not finish in two hours")
            time.sleep(0.25)
        if job.status != RecomputeJob.Status.DONE:
            raise RuntimeError(f"recompute job failed: {job.error}")
        return (job.finished_at - job.created_at).total_seconds()

    def workers(self) -> None:
        self.start_worker(1)
        one = self.recompute_job()
        self.stop_worker()
        self.start_worker(2)
        two = self.recompute_job()
        self.results.update(
            recompute_workers_c1_seconds=one,
            recompute_workers_c2_seconds=two,
            recompute_workers_speedup=one / two,
        )

    def freshness(self, tries: int = 5) -> None:
        """POST a `sql` stage event now; poll the month's `sqls` in the API until it moved."""
        from django.utils import timezone

        from leads.models import Lead, Stage

        today = timezone.localdate()
        month = today.replace(day=1)
        url = f"{self.base}/api/v1/kpis/?metric=sqls&period=month&start={month}&end={today}"

        def current() -> float:
            status, rows = http("GET", url, token=self.token)
            if status != 200:
                raise RuntimeError(f"GET {url} answered {status}")
            return sum(r["numerator"] for r in rows if r["period_start"] == month.isoformat())

        leads = list(
            Lead.objects.filter(stage=Stage.SAL)
            .order_by("-created_at")
            .values_list("external_id", flat=True)[:tries]
        )
        times: list[float] = []
        for i, lead in enumerate(leads):
            before = current()
            event = {
                "external_id": f"bench-fresh-{time.time():.0f}-{i}",
                "lead": lead,
                "stage": "sql",
                "occurred_at": timezone.now().isoformat(),
            }
            start = time.perf_counter()
            status, body = http(
                "POST", f"{self.base}/api/v1/stage-events/", token=self.token, body=event
            )
            if status != 200:
                raise RuntimeError(f"POST stage-events answered {status}: {body}")
            while current() <= before:
                if time.perf_counter() - start > 120:
                    raise RuntimeError("the new SQL was not visible after 120 s")
                time.sleep(0.05)
            times.append(time.perf_counter() - start)
            time.sleep(1)
        self.results["freshness_seconds"] = statistics.median(times)
        self.phases["freshness"] = {"tries_seconds": times}

    # --- load

    def load(self, name: str, requests: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
        spec = {
            "base": self.base,
            "concurrency": CONCURRENCY,
            "password": PASSWORD,
            "token": self.token,
            "requests": requests,
            **spec,
        }
        path = LOGS / f"load-{name}.json"
        path.write_text(json.dumps(spec, default=str))
        _, _, out = self.procs.run(
            f"load-{name}", [PY, str(BENCH / "load.py"), str(path)], self.env
        )
        result = last_json(out)
        self.phases[f"load_{name}"] = result
        log(
            f"  {name}: {result['requests']} requests in {_fmt(result['seconds'])} s, "
            f"{_fmt(result['rps'])}/s, p50 {_fmt(result['p50_ms'])} ms, "
            f"p95 {_fmt(result['p95_ms'])} ms, statuses {result['statuses']}"
        )
        return result

    def unloaded(self, name: str, requests: list[dict[str, Any]]) -> float | None:
        """The median with one client at a time: the server's own time, no queueing (with 16
        clients on 2 sync workers a request waits for about 8 others)."""
        users = sorted({r["user"] for r in requests if r.get("user")})
        return self.load(f"{name}_c1", requests, concurrency=1, users=users)["p50_ms"]

    def dashboard_urls(self) -> list[str]:
        filters = ["", *(f"channel={c}" for c in CHANNELS), *(f"owner={r}" for r in REPS)]
        return [
            f"/?period={period}" + (f"&{f}" if f else "")
            for period in ("month", "week", "quarter")
            for f in filters
        ]

    def load_pages(self) -> None:
        hello = self.load("hello", [{"path": "/login/"}] * self.scaled(2000))
        self.results["hello_rps"] = hello["rps"]

        urls = self.dashboard_urls()
        page = [{"path": u, "user": HEAD_OF_SALES} for u in urls]
        cold = self.load("dashboard_cold", page, users=[HEAD_OF_SALES])
        warm = self.load("dashboard_warm", page, users=[HEAD_OF_SALES])
        self.results.update(
            dashboard_cold_p95_ms=cold["p95_ms"],
            dashboard_warm_p95_ms=warm["p95_ms"],
            dashboard_cold_p50_ms=cold["p50_ms"],
            dashboard_warm_p50_ms=warm["p50_ms"],
        )
        home = [{"path": "/", "user": HEAD_OF_SALES}] * self.scaled(480)
        dashboard = self.load("dashboard", home, users=[HEAD_OF_SALES])
        self.results.update(
            dashboard_p50_ms=dashboard["p50_ms"],
            dashboard_p95_ms=dashboard["p95_ms"],
            dashboard_rps=dashboard["rps"],
        )
        self.results["dashboard_c1_p50_ms"] = self.unloaded("dashboard", home[:30])

    def load_api(self) -> None:
        queries = [
            f"/api/v1/kpis/?metric={m}&period={p}" for m in METRICS for p in ("month", "week")
        ]
        n = self.scaled(2000)
        api = self.load(
            "kpi_api", [{"path": queries[i % len(queries)], "auth": "token"} for i in range(n)]
        )
        self.results.update(kpi_api_p95_ms=api["p95_ms"], kpi_api_rps=api["rps"])
        self.results["kpi_api_c1_p50_ms"] = self.unloaded(
            "kpi_api", [{"path": q, "auth": "token"} for q in queries] * 3
        )

    def load_inbox(self) -> None:
        from leads.models import Handoff, RejectionReason

        n = self.scaled(240)
        inbox = [{"path": "/leads/inbox/", "user": REPS[i % len(REPS)]} for i in range(n)]
        result = self.load("inbox", inbox, users=REPS)
        self.results.update(inbox_p50_ms=result["p50_ms"], inbox_p95_ms=result["p95_ms"])
        self.results["inbox_c1_p50_ms"] = self.unloaded("inbox", inbox[:30])

        pending = list(
            Handoff.objects.filter(status=Handoff.Status.PENDING, owner__username__in=REPS)
            .order_by("?")
            .values_list("pk", "owner__username")[:n]
        )
        reasons = list(RejectionReason.objects.filter(active=True).values_list("code", flat=True))
        rng = random.Random(7)
        decide = []
        for i, (pk, owner) in enumerate(pending):
            if i % 2:
                form = {"next": "/leads/inbox/", "reason": rng.choice(reasons)}
                form |= {"feedback": "Not a fit for us (bench).", "rating": "2"}
                decide.append({"method": "POST", "path": f"/leads/inbox/{pk}/reject/"})
            else:
                form = {"next": "/leads/inbox/"}
                decide.append({"method": "POST", "path": f"/leads/inbox/{pk}/accept/"})
            decide[-1].update(user=owner, form=form, ok=[302])
        if not decide:
            raise RuntimeError("no pending handoffs of the reps to decide")
        result = self.load("inbox_decide", decide, users=sorted({o for _, o in pending}))
        self.results.update(
            inbox_decide_p50_ms=result["p50_ms"], inbox_decide_p95_ms=result["p95_ms"]
        )

    def ingest_rows(self, n: int) -> list[dict[str, Any]]:
        from leads.models import Campaign

        campaigns = list(Campaign.objects.values_list("external_id", flat=True))
        rng = random.Random(11)
        now = datetime.now(UTC).replace(microsecond=0)
        stamp = f"{now:%Y%m%d%H%M%S}"
        industries = ["Software", "Retail", "Manufacturing", "Healthcare", "Logistics"]
        return [
            {
                "external_id": f"bench-ingest-{stamp}-{i}",
                "email": f"lead{i}@bench-{i % 997}.example",
                "name": f"Bench Lead {i}",
                "company": f"Bench {i % 997} GmbH",
                "created_at": (now - timedelta(minutes=rng.randrange(3 * 24 * 60))).isoformat(),
                "campaign": rng.choice(campaigns) if campaigns and i % 5 else None,
                "segment": rng.choice(["smb", "mid_market", "enterprise"]),
                "attributes": {
                    "industry": rng.choice(industries),
                    "employees": rng.randrange(10, 5000),
                    "country": rng.choice(["DE", "GB", "US", "FR"]),
                    "job_title": rng.choice(["CTO", "Head of IT", "Developer", "Student"]),
                },
            }
            for i in range(n)
        ]

    def load_ingest(self) -> None:
        batch, batches = 1000, self.scaled(20)
        rows = self.ingest_rows(batch * batches)
        requests = [
            {
                "method": "POST",
                "path": "/api/v1/leads/",
                "auth": "token",
                "json": rows[i : i + batch],
            }
            for i in range(0, len(rows), batch)
        ]
        result = self.load("ingest", requests, concurrency=2)
        self.results["ingest_records_per_s"] = len(rows) / result["seconds"]
        self.settle()
        path = LOGS / "ingest-rows.json"
        path.write_text(json.dumps(rows))
        floor, _ = self.inproc("ingest-floor", str(path))
        self.results["ingest_floor_records_per_s"] = floor["ingest_floor_records_per_s"]
        self.phases["ingest_floor"] = floor

    # --- the embedded default

    def embedded(self, decisions: int = 20) -> None:
        """`make run`'s set-up in a temporary copy of the project (the SQLite file lives next
        to the code), then accept/reject through the inbox page, one at a time."""
        tmp = Path(tempfile.mkdtemp(prefix="tandem-embedded-"))
        try:
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "db.sqlite3*")
            for name in ("config", "core", "alignment", "leads", "kpis", "demo", "templates"):
                shutil.copytree(ROOT / name, tmp / name, ignore=ignore)
            shutil.copytree(ROOT / "static", tmp / "static", ignore=ignore)
            shutil.copy2(ROOT / "manage.py", tmp / "manage.py")
            env = embedded_env()
            for step in (["migrate", "--noinput"], ["seed_demo", "--no-progress"]):
                self.procs.run(f"embedded-{step[0]}", [PY, "manage.py", *step], env, cwd=tmp)
            self.procs.run(
                "embedded-recompute",
                [PY, "manage.py", "recompute_kpis", "--if-empty", "--no-progress"],
                env,
                cwd=tmp,
            )
            if not (tmp / "db.sqlite3").exists():
                raise RuntimeError("the embedded copy did not write its own db.sqlite3")
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            cmd = [PY, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
            self.procs.start("embedded-server", cmd, env, cwd=tmp)
            wait_for("embedded server", lambda: http("GET", f"{base}/login/")[0] == 200)
            with sqlite3.connect(f"file:{tmp / 'db.sqlite3'}?mode=ro", uri=True) as db:
                pending = db.execute(
                    "SELECT h.id, u.username FROM leads_handoff h JOIN auth_user u "
                    "ON u.id = h.owner_id WHERE h.status = 'pending' AND u.username IN "
                    f"({','.join('?' * len(REPS))}) ORDER BY h.id LIMIT ?",
                    [*REPS, decisions],
                ).fetchall()
                reasons = [
                    r for (r,) in db.execute("SELECT code FROM leads_rejectionreason WHERE active")
                ]
            requests = []
            for i, (pk, owner) in enumerate(pending):
                verb = "reject" if i % 2 else "accept"
                form = {"next": "/leads/inbox/"}
                if verb == "reject":
                    form |= {"reason": reasons[0], "feedback": "bench", "rating": "3"}
                requests.append(
                    {
                        "method": "POST",
                        "path": f"/leads/inbox/{pk}/{verb}/",
                        "user": owner,
                        "form": form,
                        "ok": [302],
                    }
                )
            if not requests:
                raise RuntimeError("no pending handoffs of the reps in the embedded demo")
            saved, self.base = self.base, base
            try:
                result = self.load(
                    "embedded_decide",
                    requests,
                    concurrency=1,
                    users=sorted({o for _, o in pending}),
                )
            finally:
                self.base = saved
            self.results.update(
                embedded_decide_ms=result["p50_ms"], embedded_decide_p95_ms=result["p95_ms"]
            )
        finally:
            self.procs.stop("embedded-server")
            shutil.rmtree(tmp, ignore_errors=True)

    # --- the whole run

    def run(self) -> dict[str, Any]:
        self.django()
        log(f"LEADS={self.args.leads:,} on {self.db_url}, Redis {self.redis_url}")
        steps: list[tuple[str, str, Callable[[], None]]] = [
            ("seed", "seed (drop, migrate, seed_demo, analyze)", self.seed),
            ("recompute", "recompute: floor, then full in one process", self.recompute),
            ("incremental", "incremental recompute after one stage event", self.incremental),
            ("gunicorn", "gunicorn", self.start_servers),
            ("workers", "recompute job, worker concurrency 1 vs 2", self.workers),
            ("freshness", "freshness", self.freshness),
            ("pages", "load: login page and dashboard", self.load_pages),
            ("api", "load: KPI API", self.load_api),
            ("inbox", "load: inbox and decisions", self.load_inbox),
            ("ingest", "load: ingest", self.load_ingest),
            ("stop", "stop gunicorn and the worker", self.stop_servers),
            ("embedded", "embedded default", self.embedded),
        ]
        for key, name, step in steps:
            if key in self.args.skip:
                log(f"{name}: skipped")
                continue
            with self.phase(name):
                if key in {"freshness", "pages", "api", "inbox", "ingest"}:
                    self.settle()
                step()
        return self.finish()

    def start_servers(self) -> None:
        self.users()
        self.start_gunicorn()

    def stop_servers(self) -> None:
        self.procs.stop("gunicorn", timeout=10)
        self.procs.stop("worker", timeout=10)  # a recompute still running is not waited for

    def finish(self) -> dict[str, Any]:
        r = self.results

        def ratio(a: str, b: str) -> float | None:
            return r[a] / r[b] if r.get(a) is not None and r.get(b) else None

        r["recompute_ratio"] = ratio("recompute_full_seconds", "recompute_floor_seconds")
        slower = max(
            (
                r.get(k) or 0
                for k in ("recompute_incremental_seconds", "recompute_incremental_long_seconds")
            ),
            default=0,
        )
        r["incremental_speedup"] = (
            r["recompute_full_seconds"] / slower
            if slower and r.get("recompute_full_seconds")
            else None
        )
        r["dashboard_rps_ratio"] = ratio("dashboard_rps", "hello_rps")
        r["ingest_ratio"] = ratio("ingest_records_per_s", "ingest_floor_records_per_s")
        load_errors = {
            name: phase["errors"] for name, phase in self.phases.items() if name.startswith("load_")
        }
        r["errors"] = sum(load_errors.values())
        r["errors_by_phase"] = load_errors
        r["failures"] = self.failures
        r["meta"] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": _git_commit(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "months": self.args.months,
            "leads_in_db": self.leads_in_db,  # after seeding; may differ from `leads` with --reuse
            "database": self.database,
            "gunicorn_workers": GUNICORN_WORKERS,
            "concurrency": CONCURRENCY,
            "scale": self.args.scale,
            "api_throttle_rate": API_RATE,
            "loadavg_at_phase_start": self.loadavg,
        }
        r["phases"] = self.phases
        return r


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


# --- the table --------------------------------------------------------------------------------


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(value: float | None, op: str, target: float) -> str:
    if value is None:
        return "n/a"
    ok = {"<=": value <= target, ">=": value >= target, "==": value == target}[op]
    return "pass" if ok else "MISS"


def table(results: dict[str, Any]) -> str:
    lines = [f"{'figure':<36} {'value':>12}  {'target':<10} {'':4}", "-" * 66]
    for key, op, target in TARGETS:
        value = results.get(key)
        lines.append(
            f"{key:<36} {_fmt(value):>12}  {op + ' ' + _fmt(target):<10} {verdict(value, op, target)}"
        )
    lines.append("-" * 66)
    lines += [f"{key:<36} {_fmt(results.get(key)):>12}" for key in INFO]
    if results.get("failures"):
        lines += ["", "failed phases:", *(f"  {f}" for f in results["failures"])]
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24, help="seed window (default 24)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep an already seeded bench database (dev only)"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the load phases' request counts"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    parser.add_argument(
        "--skip",
        type=lambda v: set(v.split(",")),
        default=set(),
        help="dev only: comma-separated phases to leave out (seed, recompute, incremental, "
        "workers, freshness, pages, api, inbox, ingest, embedded)",
    )
    args = parser.parse_args()
    LOGS.mkdir(exist_ok=True)
    (LOGS / "failures.log").write_text("")
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    procs = Procs()
    try:
        results = Bench(args, procs).run()
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc or 'Ctrl-C'}): stopping what the bench started")
        sys.exit(130)
    finally:
        procs.stop_all()
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print()
    print(f"Tandem bench, LEADS={args.leads:,} ({results['meta']['commit']})")
    print(table(results))
    print(f"\nwrote {args.out}; logs in {LOGS}")


if __name__ == "__main__":
    main()
