"""HTTP load client of the benchmark suite: a bounded list of requests, N at a time.

    .venv/bin/python bench/load.py SPEC.json        # prints one JSON object on stdout

Runs in its own process (so the client's CPU is not the server's) and talks to 127.0.0.1 only.
The spec says where the server is, who logs in, and every request to send::

    {"base": "http://127.0.0.1:8123", "concurrency": 16, "password": "demo",
     "users": ["tom"], "token": "...", "ok": [200],
     "requests": [{"method": "GET", "path": "/", "user": "tom"},
                  {"method": "POST", "path": "/leads/inbox/7/accept/", "user": "jonas",
                   "form": {"next": "/leads/inbox/"}, "ok": [302]},
                  {"method": "POST", "path": "/api/v1/leads/", "auth": "token", "json": [...]}]}

Users log in through /login/ like a browser (CSRF cookie and form field) before the clock
starts; form posts carry the CSRF token and an Origin header, as a browser's would. Redirects
are not followed: a 302 after a form post is the answer. The result has the wall time, the
requests per second, latency percentiles (ms), the status counts, and `errors`: every response
whose status is not in the request's `ok` list (default: the spec's `ok`, else [200]).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=300)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _guard_loopback(base: str) -> None:
    host = urlparse(base).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit(f"load.py only talks to loopback, not {host!r}")


def _csrf(session: aiohttp.ClientSession) -> str:
    for cookie in session.cookie_jar:
        if cookie.key == "csrftoken":
            return cookie.value
    raise RuntimeError("no csrftoken cookie")


async def login(base: str, username: str, password: str) -> aiohttp.ClientSession:
    """A browser-like session: GET the login page, POST the form with its CSRF token."""
    session = aiohttp.ClientSession(
        base_url=base,
        cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for an IP address host
        timeout=TIMEOUT,
        connector=aiohttp.TCPConnector(limit=64),
    )
    async with session.get("/login/") as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"GET /login/ answered {response.status}")
    form = {"username": username, "password": password, "csrfmiddlewaretoken": _csrf(session)}
    async with session.post(
        "/login/", data=form, allow_redirects=False, headers={"Origin": base}
    ) as response:
        await response.read()
        if response.status != 302:
            raise RuntimeError(f"login of {username} answered {response.status}")
    return session


async def send(
    session: aiohttp.ClientSession,
    item: dict[str, Any],
    *,
    base: str,
    token: str | None = None,
) -> tuple[int, bytes, float]:
    """Send one request of the spec's shape: (status, body, milliseconds). An `"auth": "token"`
    item carries `token`; a form carries the session's CSRF token and an Origin header;
    redirects are not followed; a connection error or a timeout is status 0, its repr the body.
    """
    headers: dict[str, str] = {}
    if item.get("auth") == "token" and token:
        headers["Authorization"] = f"Token {token}"
    kwargs: dict[str, Any] = {"allow_redirects": False}
    if "form" in item:
        kwargs["data"] = {**item["form"], "csrfmiddlewaretoken": _csrf(session)}
        headers["Origin"] = base
    if "json" in item:
        kwargs["json"] = item["json"]
    start = time.perf_counter()
    try:
        async with session.request(
            item.get("method", "GET"), item["path"], headers=headers, **kwargs
        ) as response:
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        status, body = 0, repr(exc).encode()
    return status, body, (time.perf_counter() - start) * 1000


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    base = spec["base"]
    _guard_loopback(base)
    default_ok = spec.get("ok", [200])
    sessions: dict[str, aiohttp.ClientSession] = {}
    anonymous = aiohttp.ClientSession(
        base_url=base, timeout=TIMEOUT, connector=aiohttp.TCPConnector(limit=64)
    )
    try:
        for user in spec.get("users", []):
            sessions[user] = await login(base, user, spec.get("password", "demo"))
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for item in spec["requests"]:
            queue.put_nowait(item)
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        errors: list[dict[str, Any]] = []

        async def one(item: dict[str, Any]) -> None:
            user = item.get("user")
            status, body, ms = await send(
                sessions[user] if user else anonymous, item, base=base, token=spec.get("token")
            )
            latencies.append(ms)
            statuses[status] += 1
            if status not in item.get("ok", default_ok):
                errors.append(
                    {
                        "path": item["path"],
                        "status": status,
                        "body": body[:300].decode(errors="replace"),
                    }
                )

        async def client() -> None:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await one(item)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(spec.get("concurrency", 16))))
        wall = time.perf_counter() - started
    finally:
        await anonymous.close()
        for session in sessions.values():
            await session.close()
    return {
        "requests": len(latencies),
        "seconds": wall,
        "rps": len(latencies) / wall if wall else None,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies, default=None),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": len(errors),
        "error_samples": errors[:5],
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(run(spec))))


if __name__ == "__main__":
    main()
