"""The soak test, run by hand (part of no CI run): mixed traffic for minutes, then the figures.

    .venv/bin/python bench/soak.py [--minutes 10] [--leads 20000] [--reuse]

Sets up what `make bench` does (`bench/run.py`: the same BENCH_DATABASE_URL, dropped and seeded
unless --reuse keeps it, and BENCH_REDIS_URL, flushed; gunicorn with 2 sync workers and a Celery
worker on 127.0.0.1 with production settings), plus Celery beat, so that the minute's sweep of
dirty periods runs as in production. Then, for `--minutes`, all at once, each client pausing a
moment between its requests:

- API ingest with a token: batches of new leads (owned by the reps), their stage events (every
  lead an `mql`, so a handoff; half of them also `sal` and `sql`, some an opportunity and a won
  deal), contact attempts and deals, and now and then the same leads again as updates;
- pages by logged-in users of every role: the dashboard (its periods and filters), the meeting
  view, the inbox, campaigns, goals and the scorecard;
- the sales reps working their inboxes: each opens it and accepts or rejects a pending handoff;
- KPI API reads (`/api/v1/kpis/`: every headline metric by week and month; `/api/v1/scorecard/`);
- recomputes: the writes queue the dirty recomputes on the worker (and beat sweeps), and the
  head of sales starts a full recompute from the dashboard every `--recompute-every` seconds.

Every 15 seconds it samples the resident memory (VmRSS, from /proc) of the gunicorn master and
each worker, the Celery worker and each of its pool processes and beat, and the requests, errors
and latencies so far. After the traffic stops it waits for the change log to empty (the KPIs
caught up: within 60 s) and for the full recomputes to finish, and compares this month's and
this week's KPI totals in the API with fresh counts of the rows. It prints a table and writes
`bench/soak-results.json` (gitignored; the README's *Benchmarks* section says what it holds);
the process logs are in `bench/.logs/`. An error is any response with another status than the
one expected (200, or 302 after a form post), a 5xx or a broken connection included; the exit
status is 1 when there was one or the KPIs did not catch up. Memory growth is reported, not
judged. Every process it starts is stopped on the way out, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import signal
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from load import TIMEOUT, login, percentile, send
from run import (
    BENCH,
    BIN,
    HEAD_OF_SALES,
    LOGS,
    METRICS,
    PASSWORD,
    REPS,
    Bench,
    Interrupted,
    Procs,
    _fmt,
    _git_commit,
    _interrupt,
    http,
    log,
)

SAMPLE_SECONDS = 15
CATCH_UP_SECONDS = 60  # the change log must be empty this soon after the traffic stops
JOBS_TIMEOUT = 1800  # how long the full recomputes still running at the end are waited for
MEMORY_FLAT_PCT = 10  # RSS growth from the 2nd minute to the last that still counts as flat
BATCH = 30  # new leads per ingest round
# Who looks at pages (the sales reps work their inboxes instead): one or two of every role.
VIEWERS = ["alex", "maria", "tom", "grace", "lena", "priya"]
PAGES = {  # kind: the page's path
    "page_meeting": "/meeting/",
    "page_campaigns": "/campaigns/",
    "page_goals": "/goals/",
    "page_scorecard": "/scorecard/",
    "page_inbox": "/leads/inbox/",
}
ACCEPT = re.compile(rb'action="/leads/inbox/(\d+)/accept/"')


@dataclass(frozen=True)
class Call:
    at: float  # seconds into the soak, when the answer came
    kind: str
    ms: float
    status: int


def _after(moment: datetime, minutes: int) -> str:
    return (moment + timedelta(minutes=minutes)).isoformat()


# --- memory, from /proc ----------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    """The process's resident set (VmRSS) in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers, the Celery pool)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after it.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def memory_summary(samples: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Per process: RSS first, last and max, and the growth from the 2nd minute to the last
    (in a run under 4 minutes: from the 2nd quarter to the last), each minute's highest sample,
    in percent. The highest, because a Celery pool process's RSS goes up and down with the
    unit it works on: a leak raises the high-water mark, one large unit only a sample."""
    span = 60.0 if seconds >= 240 else seconds / 4
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for sample in samples:
        for name, mb in sample["rss_mb"].items():
            series[name].append((sample["t"], mb))
    processes = {}
    for name, points in series.items():
        early = max((mb for t, mb in points if span <= t <= 2 * span), default=points[0][1])
        late = max((mb for t, mb in points if t >= seconds - span), default=points[-1][1])
        processes[name] = {
            "samples": len(points),
            "first_mb": points[0][1],
            "early_mb": early,
            "late_mb": late,
            "last_mb": points[-1][1],
            "max_mb": max(mb for _, mb in points),
            "growth_pct": (late - early) / early * 100,
        }
    worst = max((p["growth_pct"] for p in processes.values()), default=None)
    return {
        "early_window_seconds": [span, 2 * span],
        "late_window_seconds": [seconds - span, seconds],
        "processes": processes,
        "max_growth_pct": worst,
        "flat": worst is not None and worst < MEMORY_FLAT_PCT,
    }


def latency_summary(calls: list[Call], ok: dict[str, set[int]]) -> dict[str, dict[str, Any]]:
    by_kind: dict[str, list[Call]] = defaultdict(list)
    for call in calls:
        by_kind[call.kind].append(call)
    return {
        kind: {
            "requests": len(items),
            "errors": sum(1 for c in items if c.status not in ok[kind]),
            "p50_ms": percentile([c.ms for c in items], 50),
            "p95_ms": percentile([c.ms for c in items], 95),
            "max_ms": max(c.ms for c in items),
            "statuses": dict(sorted(Counter(str(c.status) for c in items).items())),
        }
        for kind, items in sorted(by_kind.items())
    }


# --- the traffic -------------------------------------------------------------------------------


class Traffic:
    """The soak's clients, in one asyncio loop: each a user who sends a request, waits a moment
    and sends the next, until the time is up. Another coroutine samples every 15 s."""

    def __init__(self, soak: Soak, *, seconds: float) -> None:
        self.soak = soak
        self.base = soak.base
        self.seconds = seconds
        self.rng = random.Random(14)
        self.calls: list[Call] = []
        self.ok: dict[str, set[int]] = defaultdict(lambda: {200})
        self.error_samples: list[dict[str, Any]] = []
        self.samples: list[dict[str, Any]] = []
        self.recomputes_started = 0
        self.ingested = Counter[str]()
        self.sessions: dict[str, aiohttp.ClientSession] = {}
        self.api: aiohttp.ClientSession | None = None  # the token's requests (no login)
        self.t0 = 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def running(self) -> bool:
        return self.elapsed() < self.seconds

    async def pause(self, low: float, high: float) -> None:
        await asyncio.sleep(min(self.rng.uniform(low, high), max(0, self.seconds - self.elapsed())))

    async def call(
        self, kind: str, user: str | None, item: dict[str, Any], ok: set[int] | None = None
    ) -> tuple[int, bytes]:
        if ok is not None:
            self.ok[kind] = ok
        session = self.sessions[user] if user else self.api
        status, body, ms = await send(session, item, base=self.base, token=self.soak.token)
        self.calls.append(Call(self.elapsed(), kind, ms, status))
        if status not in self.ok[kind] and len(self.error_samples) < 20:
            self.error_samples.append(
                {
                    "at": round(self.elapsed(), 1),
                    "kind": kind,
                    "user": user,
                    "path": item["path"],
                    "status": status,
                    "body": body[:300].decode(errors="replace"),
                }
            )
        return status, body

    # --- the users

    async def ingest(self) -> None:
        """An integration: a round of new leads with their stage events, attempts and deals,
        every few seconds; every fifth round sends the last round's leads again, changed."""
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        owners = self.soak.rep_segments
        previous: list[dict[str, Any]] = []
        round_ = 0
        while self.running():
            now = datetime.now(UTC).replace(microsecond=0)
            leads, events, attempts, deals = [], [], [], []
            for i in range(BATCH):
                n = round_ * BATCH + i
                owner = REPS[n % len(REPS)]
                created = now - timedelta(minutes=40 + self.rng.randrange(60))
                lead = f"soak-{stamp}-{n}"
                leads.append(
                    {
                        "external_id": lead,
                        "email": f"lead{n}@soak-{n % 211}.example",
                        "name": f"Soak Lead {n}",
                        "company": f"Soak {n % 211} GmbH",
                        "created_at": created.isoformat(),
                        "campaign": self.rng.choice(self.soak.campaigns),
                        "owner": owner,
                        "segment": owners[owner],
                        "attributes": {"industry": "Software", "employees": 20 + n % 900},
                    }
                )
                events.append({"external_id": f"{lead}-mql", "lead": lead, "stage": "mql"})
                events[-1]["occurred_at"] = _after(created, 5)
                if i % 2:  # the other half waits in the reps' inboxes
                    continue
                attempts.append(
                    {
                        "external_id": f"{lead}-call",
                        "lead": lead,
                        "occurred_at": _after(created, 7),
                        "channel": self.rng.choice(["call", "email"]),
                        "outcome": self.rng.choice(["no_answer", "connected", "replied"]),
                        "actor": owner,
                    }
                )
                for stage, minutes in (("sal", 10), ("sql", 15)):
                    events.append(
                        {
                            "external_id": f"{lead}-{stage}",
                            "lead": lead,
                            "stage": stage,
                            "occurred_at": _after(created, minutes),
                            "actor": owner,
                        }
                    )
                if i % 4 == 0:
                    won = i % 8 == 0
                    events.append(
                        {
                            "external_id": f"{lead}-opportunity",
                            "lead": lead,
                            "stage": "opportunity",
                            "occurred_at": _after(created, 20),
                            "actor": owner,
                        }
                    )
                    if won:
                        events.append(
                            {
                                "external_id": f"{lead}-won",
                                "lead": lead,
                                "stage": "won",
                                "occurred_at": _after(created, 25),
                                "actor": owner,
                            }
                        )
                    deals.append(
                        {
                            "external_id": f"{lead}-deal",
                            "lead": lead,
                            "amount": str(1000 + 250 * self.rng.randrange(40)),
                            "created_at": _after(created, 20),
                            "closed_at": _after(created, 25) if won else None,
                            "status": "won" if won else "open",
                        }
                    )
            posts = [
                ("api_leads", "/api/v1/leads/", leads),
                ("api_stage_events", "/api/v1/stage-events/", events),
                ("api_attempts", "/api/v1/attempts/", attempts),
                ("api_deals", "/api/v1/deals/", deals),
            ]
            if round_ % 5 == 4 and previous:
                changed = [{**lead, "company": f"{lead['company']} AG"} for lead in previous]
                posts.append(("api_leads_update", "/api/v1/leads/", changed))
            for kind, path, rows in posts:
                if not rows or not self.running():
                    continue
                item = {"method": "POST", "path": path, "auth": "token", "json": rows}
                status, _ = await self.call(kind, None, item)
                if status == 200:
                    self.ingested[kind] += len(rows)
            previous = leads
            round_ += 1
            await self.pause(2, 4)

    async def viewer(self, user: str) -> None:
        """Someone reading pages: the dashboard (a period or a filter) two times in five,
        otherwise another page their role opens."""
        while self.running():
            if self.rng.random() < 0.4:
                kind, path = "page_dashboard", self.rng.choice(self.soak.dashboards)
            else:
                kind, path = self.rng.choice(self.soak.viewer_pages[user])
            await self.call(kind, user, {"path": path})
            await self.pause(0.5, 2)

    async def rep(self, user: str) -> None:
        """A sales rep: opens the inbox, accepts (two in three) or rejects a pending handoff,
        and now and then looks at the dashboard or the scorecard."""
        turn = 0
        while self.running():
            turn += 1
            if turn % 5 == 0:
                kind, path = self.rng.choice([("page_dashboard", "/"), *self.soak.rep_pages])
                await self.call(kind, user, {"path": path})
            status, body = await self.call("page_inbox", user, {"path": "/leads/inbox/"})
            pending = ACCEPT.findall(body) if status == 200 else []
            if pending and self.running():
                pk = int(self.rng.choice(pending[:10]))
                form: dict[str, str] = {"next": "/leads/inbox/"}
                if self.rng.random() < 2 / 3:
                    kind, path = "inbox_accept", f"/leads/inbox/{pk}/accept/"
                else:
                    kind, path = "inbox_reject", f"/leads/inbox/{pk}/reject/"
                    form |= {"reason": self.rng.choice(self.soak.reasons), "rating": "2"}
                    form["feedback"] = "Not a fit for us (soak)."
                await self.call(kind, user, {"method": "POST", "path": path, "form": form}, {302})
            await self.pause(1, 3)

    async def api_reader(self) -> None:
        queries = [
            f"/api/v1/kpis/?metric={m}&period={p}" for m in METRICS for p in ("week", "month")
        ]
        while self.running():
            if self.rng.random() < 0.1:
                kind, path = "api_scorecard", "/api/v1/scorecard/"
            else:
                kind, path = "api_kpis", self.rng.choice(queries)
            await self.call(kind, None, {"path": path, "auth": "token"})
            await self.pause(0.1, 0.5)

    async def recomputes(self, every: float) -> None:
        """The head of sales starts a full recompute from the dashboard, 15 s in and then every
        `every` seconds, but none so late that it would still run when the traffic stops (the
        catch-up is measured on the traffic's own writes)."""
        at, last = min(15.0, self.seconds / 4), self.seconds - min(every / 2, self.seconds / 4)
        while at <= last:
            await asyncio.sleep(max(0, at - self.elapsed()))
            item = {"method": "POST", "path": "/recompute/", "form": {"next_query": ""}}
            status, _ = await self.call("recompute_start", HEAD_OF_SALES, item, {302})
            self.recomputes_started += status == 302
            at += every

    # --- the samples

    def processes(self) -> dict[str, int]:
        """Every server process by name: gunicorn's master and workers, the Celery worker and
        its pool, beat."""
        running = self.soak.procs.running
        named: dict[str, int] = {}
        for name, label, child in (
            ("gunicorn", "gunicorn master", "gunicorn worker"),
            ("worker", "celery worker", "celery pool"),
            ("beat", "celery beat", "celery beat child"),
        ):
            if name in running:
                pid = running[name].pid
                named[label] = pid
                for kid in children(pid):
                    named[f"{child} {kid}"] = kid
        return named

    def sample(self) -> dict[str, Any]:
        now = self.elapsed()
        since = self.samples[-1]["t"] if self.samples else 0.0
        window = [c for c in self.calls if c.at > since]
        rss = {name: mb for name, pid in self.processes().items() if (mb := rss_mb(pid))}
        sample = {
            "t": round(now, 1),
            "requests": len(self.calls),
            "errors": sum(1 for c in self.calls if c.status not in self.ok[c.kind]),
            "window": {
                kind: {"requests": v["requests"], "p50_ms": v["p50_ms"], "p95_ms": v["p95_ms"]}
                for kind, v in latency_summary(window, self.ok).items()
            },
            "rss_mb": rss,
        }
        self.samples.append(sample)
        rps = len(window) / (now - since) if now > since else 0
        memory = " ".join(f"{name.split()[-1]}={mb:.0f}" for name, mb in rss.items())
        log(
            f"  t={now:4.0f}s requests {sample['requests']:6,} ({rps:4.1f}/s) "
            f"errors {sample['errors']}  RSS MB {memory}"
        )
        return sample

    async def sampler(self) -> None:
        while self.running():
            await asyncio.sleep(min(SAMPLE_SECONDS, max(0, self.seconds - self.elapsed())))
            if self.running():
                self.sample()

    # --- the whole traffic

    async def run(self, recompute_every: float) -> None:
        users = sorted({*VIEWERS, *REPS, HEAD_OF_SALES})
        self.api = aiohttp.ClientSession(base_url=self.base, timeout=TIMEOUT)
        try:
            for user in users:
                self.sessions[user] = await login(self.base, user, PASSWORD)
            self.t0 = time.monotonic()
            self.sample()
            clients = [
                self.ingest(),
                *(self.viewer(u) for u in VIEWERS),
                *(self.rep(u) for u in REPS),
                self.api_reader(),
                self.api_reader(),
                self.recomputes(recompute_every),
                self.sampler(),
            ]
            await asyncio.gather(*clients)
            self.sample()
        finally:
            await self.api.close()
            for session in self.sessions.values():
                await session.close()


# --- the soak ----------------------------------------------------------------------------------


class Soak(Bench):
    """`make bench`'s set-up (seed, users, gunicorn, worker) with beat, then the traffic."""

    disposable_names = ("bench", "soak")

    def __init__(self, args: argparse.Namespace, procs: Procs) -> None:
        super().__init__(args, procs)
        self.campaigns: list[str] = []
        self.reasons: list[str] = []
        self.rep_segments: dict[str, str] = {}
        self.viewer_pages: dict[str, list[tuple[str, str]]] = {}
        self.dashboards: list[str] = []
        self.rep_pages = [("page_scorecard", "/scorecard/"), ("page_goals", "/goals/")]

    def start_servers(self) -> None:
        self.users()
        self.read_world()
        self.start_gunicorn()
        self.start_worker(2)
        self.start_beat()

    def first_recompute(self) -> None:
        """The snapshots before the traffic, as after an install (`recompute_kpis --if-empty`,
        on the worker), and nothing left in the change log."""
        self.manage("recompute", "recompute_kpis", "--if-empty", "--no-progress")
        self.settle()

    def start_beat(self) -> None:
        cmd = [str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO"]
        cmd += ["--schedule", str(LOGS / "celerybeat-schedule"), "--pidfile", ""]
        self.procs.start("beat", cmd, self.env)

    def read_world(self) -> None:
        """What the clients send, from the seeded database: campaigns, rejection reasons, the
        reps' segments, and the pages each viewer may open."""
        from alignment.roles import Role
        from demo.generator import DEMO_USERS
        from leads.models import Campaign, RejectionReason

        self.campaigns = list(Campaign.objects.values_list("external_id", flat=True))
        reasons = RejectionReason.objects.filter(active=True).values_list("code", flat=True)
        self.reasons = list(reasons)
        users = {u.username: u for u in DEMO_USERS}
        self.rep_segments = {rep: users[rep].segment for rep in REPS}
        self.dashboards = self.dashboard_urls()
        for user in VIEWERS:
            pages = list(PAGES.items())
            if users[user].role in {Role.MARKETING_MANAGER, Role.MARKETING_REP}:
                pages.remove(("page_inbox", "/leads/inbox/"))  # sales' workbench: a 403
            self.viewer_pages[user] = pages

    def preflight(self) -> None:
        """Every page each user will open answers 200 before the clock starts (a 403 here is a
        mistake in the soak, not an error of the app): the dashboard for each period and with
        each kind of filter; its other filters first come during the traffic."""
        dashboards = [u for u in self.dashboards if "&" not in u]
        dashboards += [
            next(u for u in self.dashboards if f"&{f}=" in u) for f in ("channel", "owner")
        ]

        async def check() -> list[str]:
            wrong = []
            rep_pages = [("page_inbox", "/leads/inbox/"), ("page_dashboard", "/"), *self.rep_pages]
            for user in [*VIEWERS, REPS[0]]:
                session = await login(self.base, user, PASSWORD)
                paths = [p for _, p in self.viewer_pages.get(user, rep_pages)]
                if user in VIEWERS:
                    paths += dashboards
                try:
                    for path in paths:
                        status, _, _ = await send(session, {"path": path}, base=self.base)
                        if status != 200:
                            wrong.append(f"{user} GET {path}: {status}")
                finally:
                    await session.close()
            return wrong

        wrong = asyncio.run(check())
        if wrong:
            raise RuntimeError("pages that don't answer 200: " + "; ".join(wrong))

    def catch_up(self, started: datetime, stopped: float) -> dict[str, Any]:
        """After the traffic: the change log empty (how soon), the full recomputes finished, and
        this month's and week's totals in the KPI API equal to fresh counts of the rows."""
        from kpis.models import RecomputeJob
        from leads.models import FunnelChange

        empty_after = None
        while time.monotonic() - stopped < JOBS_TIMEOUT:
            if not FunnelChange.objects.exists():
                empty_after = time.monotonic() - stopped
                break
            time.sleep(0.5)
        log(f"  change log empty {_fmt(empty_after)} s after the traffic stopped")
        jobs = RecomputeJob.objects.filter(created_at__gte=started)
        open_ = [RecomputeJob.Status.QUEUED, RecomputeJob.Status.RUNNING]
        while jobs.filter(status__in=open_).exists():
            if time.monotonic() - stopped > JOBS_TIMEOUT:
                break
            time.sleep(1)
        self.settle(timeout=JOBS_TIMEOUT)  # what the last recompute logged
        by_status = Counter(jobs.values_list("status", flat=True))
        seconds = [
            (j.finished_at - j.created_at).total_seconds()
            for j in jobs.filter(status=RecomputeJob.Status.DONE)
        ]
        checks = self.kpi_checks()
        ok = empty_after is not None and empty_after <= CATCH_UP_SECONDS
        ok = ok and all(c["equal"] for c in checks) and not by_status.keys() - {"done"}
        return {
            "changelog_empty_seconds": empty_after,
            "within_seconds": CATCH_UP_SECONDS,
            "jobs": {
                "started": jobs.count(),
                **{status: by_status.get(status, 0) for status in RecomputeJob.Status.values},
                "seconds": seconds,
            },
            "kpi_checks": checks,
            "caught_up": ok,
        }

    def kpi_checks(self) -> list[dict[str, Any]]:
        """This month's and this week's totals of four counts in the API, and the rows'."""
        from django.conf import settings
        from django.utils import timezone

        from core.periods import period_bounds, period_start
        from leads.models import Handoff, Lead

        tz = ZoneInfo(settings.TIME_ZONE)
        today = timezone.localdate()
        checks = []
        for period in ("month", "week"):
            start = period_start(period, today)
            low, high = period_bounds(period, start, tz)
            handoffs = Handoff.objects
            fresh = {
                "leads_created": Lead.objects.filter(created_at__gte=low, created_at__lt=high),
                "mqls": handoffs.filter(handed_at__gte=low, handed_at__lt=high),
                "sals": handoffs.filter(
                    status=Handoff.Status.ACCEPTED, decided_at__gte=low, decided_at__lt=high
                ),
                "rejections": handoffs.filter(
                    status=Handoff.Status.REJECTED, decided_at__gte=low, decided_at__lt=high
                ),
            }
            for metric, rows in fresh.items():
                url = f"{self.base}/api/v1/kpis/?metric={metric}&period={period}"
                status, body = http("GET", f"{url}&start={start}&end={today}", token=self.token)
                api = None
                if status == 200:
                    total = sum(r["numerator"] for r in body if r["period_start"] == str(start))
                    api = int(total) if total == int(total) else total
                count = rows.count()
                checks.append(
                    {
                        "metric": metric,
                        "period": period,
                        "period_start": str(start),
                        "api": api,
                        "fresh": count,
                        "equal": api == count,
                    }
                )
        return checks

    def dirty_runs(self) -> int:
        """How many dirty-period recomputes the worker finished (its log says each)."""
        path = LOGS / "worker-c2.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return len(re.findall(r"kpis_recompute_dirty_task\[[^]]+\] succeeded", text))

    def soak(self) -> dict[str, Any]:
        args = self.args
        self.django()
        log(f"soak: {args.minutes} min, LEADS={args.leads:,} on {self.db_url}, {self.redis_url}")
        for name, step in (
            ("seed (drop, migrate, seed_demo, analyze)", self.seed),
            ("gunicorn, the Celery worker and beat", self.start_servers),
            ("the first full recompute (none with --reuse)", self.first_recompute),
            ("every page answers 200", self.preflight),
        ):
            log(f"{name} …")
            begun = time.monotonic()
            step()
            log(f"{name} done in {time.monotonic() - begun:.0f} s")
        started = datetime.now(UTC)
        log(f"traffic for {args.minutes} min …")
        traffic = Traffic(self, seconds=args.minutes * 60)
        asyncio.run(traffic.run(args.recompute_every))
        stopped = time.monotonic()
        log("traffic stopped; waiting for the KPIs to catch up …")
        catch_up = self.catch_up(started, stopped)
        kinds = latency_summary(traffic.calls, traffic.ok)
        errors = sum(k["errors"] for k in kinds.values())
        return {
            "minutes": args.minutes,
            "leads": args.leads,
            "leads_in_db": self.leads_in_db,
            "seed_seconds": self.results.get("seed_seconds"),
            "requests": len(traffic.calls),
            "rps": len(traffic.calls) / traffic.samples[-1]["t"],
            "errors": errors,
            "errors_5xx": sum(1 for c in traffic.calls if c.status >= 500),
            "error_samples": traffic.error_samples,
            "by_kind": kinds,
            "ingested_rows": dict(traffic.ingested),
            "memory": memory_summary(traffic.samples, traffic.seconds),
            "recompute": {
                "full_started_from_the_page": traffic.recomputes_started,
                "dirty_runs_on_the_worker": self.dirty_runs(),
                **catch_up.pop("jobs"),
            },
            "catch_up": catch_up,
            "samples": traffic.samples,
            "meta": {
                "when": started.isoformat(timespec="seconds"),
                "commit": _git_commit(),
                "recompute_every_seconds": args.recompute_every,
                "database": self.database,
            },
        }


# --- the table ---------------------------------------------------------------------------------


def table(r: dict[str, Any]) -> str:
    lines = [f"{'requests':<22} {'n':>8} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"]
    lines.append("-" * 66)
    for kind, k in r["by_kind"].items():
        lines.append(
            f"{kind:<22} {k['requests']:>8,} {k['errors']:>7} {_fmt(k['p50_ms']):>8} "
            f"{_fmt(k['p95_ms']):>8} {_fmt(k['max_ms']):>8}"
        )
    lines.append(f"{'all':<22} {r['requests']:>8,} {r['errors']:>7}   {r['rps']:.1f}/s")
    rows = ", ".join(f"{kind.removeprefix('api_')} {n:,}" for kind, n in r["ingested_rows"].items())
    lines.append(f"rows ingested: {rows}")
    memory = r["memory"]
    early, late = (
        "{:.0f}-{:.0f}s".format(*memory[f"{w}_window_seconds"]) for w in ("early", "late")
    )
    header = (
        f"{'RSS MB':<22} {'first':>6} {early:>9} {late:>9} {'last':>6} {'max':>6} {'growth':>7}"
    )
    lines += ["", header, "-" * len(header)]
    for name, p in memory["processes"].items():
        lines.append(
            f"{name:<22} {p['first_mb']:>6.0f} {p['early_mb']:>9.0f} {p['late_mb']:>9.0f} "
            f"{p['last_mb']:>6.0f} {p['max_mb']:>6.0f} {p['growth_pct']:>+6.1f}%"
        )
    rc, cu = r["recompute"], r["catch_up"]
    flat = "flat" if memory["flat"] else f"GROWS (>= {MEMORY_FLAT_PCT}%)"
    lines += [
        "",
        f"errors                      {r['errors']} (5xx: {r['errors_5xx']})"
        f"  {'pass' if r['errors'] == 0 else 'MISS'}",
        f"memory growth, worst        {memory['max_growth_pct']:+.1f}% ({early} to {late}, highest "
        f"samples)  {flat} (reported)",
        f"full recomputes             started {rc['started']}, done {rc['done']}, "
        f"failed {rc['failed']}, running {rc['running']}; seconds {[round(s) for s in rc['seconds']]}",
        f"dirty recomputes (worker)   {rc['dirty_runs_on_the_worker']}",
        f"change log empty after      {_fmt(cu['changelog_empty_seconds'])} s "
        f"(<= {cu['within_seconds']} s)",
        "KPIs = fresh counts         "
        + ", ".join(
            f"{c['metric']}/{c['period']} {_fmt(c['api'])}{'=' if c['equal'] else '≠'}{c['fresh']}"
            for c in cu["kpi_checks"]
        ),
        f"KPIs caught up              {'yes  pass' if cu['caught_up'] else 'no  MISS'}",
    ]
    if r["error_samples"]:
        lines += ["", "first errors:"]
        lines += [f"  {json.dumps(e)[:300]}" for e in r["error_samples"][:5]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="traffic time (default 10)")
    parser.add_argument(
        "--leads", type=int, default=20_000, help="leads to seed (default 20,000, ~1 min)"
    )
    parser.add_argument("--months", type=int, default=24, help="seed window (default 24)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep an already seeded bench database"
    )
    parser.add_argument(
        "--recompute-every",
        type=float,
        default=180,
        help="seconds between the full recomputes a manager starts (default 180)",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "soak-results.json")
    args = parser.parse_args()
    LOGS.mkdir(exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    procs = Procs()
    try:
        results = Soak(args, procs).soak()
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({exc or 'Ctrl-C'}): stopping what the soak started")
        sys.exit(130)
    finally:
        procs.stop_all()
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print()
    print(f"Tandem soak, {args.minutes:g} min, LEADS={args.leads:,} ({results['meta']['commit']})")
    print(table(results))
    print(f"\nwrote {args.out}; logs in {LOGS}")
    if results["errors"] or not results["catch_up"]["caught_up"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
