from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from alignment.roles import Role
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/kpis/?metric=mqls&period=month&start=2026-01-01&end=2026-03-31"


@pytest.fixture
def throttled(settings: object, monkeypatch: pytest.MonkeyPatch) -> object:
    from rest_framework.views import APIView

    from config.throttling import ApiRateThrottle

    # DRF reads DEFAULT_THROTTLE_CLASSES once, into APIView (the test settings leave it empty).
    monkeypatch.setattr(APIView, "throttle_classes", [ApiRateThrottle])
    settings.API_THROTTLE_BURST = (5, 1)
    settings.API_THROTTLE_RATE = (8, 60)
    settings.API_THROTTLE_EXEMPT_USERS = frozenset({"bench"})
    return settings


def _statuses(client: APIClient, n: int) -> list[int]:
    return [client.get(URL).status_code for _ in range(n)]


def test_a_burst_past_the_short_limit_is_refused_with_a_time_to_retry(
    throttled: object, make_user: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import config.throttling

    clock = [960.0]  # a minute starts
    monkeypatch.setattr(config.throttling.time, "time", lambda: clock[0])
    client = token_client(make_user("maria", Role.MARKETING_MANAGER))
    assert _statuses(client, 6) == [200] * 5 + [429]
    clock[0] += 0.4
    response = client.get(URL)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 1
    clock[0] += 1  # the next second: the burst allows again, up to the sustained 8 a minute
    assert _statuses(client, 4) == [200, 200, 200, 429]
    clock[0] += 1
    assert _statuses(client, 1) == [429]
    assert int(client.get(URL)["Retry-After"]) > 50  # until the minute is over


def test_each_user_has_limits_of_their_own_and_an_exempt_user_none(
    throttled: object, make_user: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import config.throttling

    # One moment for every request: six slow requests on a loaded machine could otherwise span
    # two one-second windows and never meet the burst limit.
    monkeypatch.setattr(config.throttling.time, "time", lambda: 960.0)
    maria = token_client(make_user("maria", Role.MARKETING_MANAGER))
    tom = token_client(make_user("tom", Role.SALES_MANAGER))
    bench = token_client(make_user("bench", Role.SALES_MANAGER))
    assert _statuses(maria, 6)[-1] == 429
    assert _statuses(tom, 5) == [200] * 5
    assert _statuses(bench, 40) == [200] * 40


def test_a_rate_turned_off_no_longer_limits(
    throttled: object, make_user: Callable[..., object]
) -> None:
    throttled.API_THROTTLE_BURST = None
    throttled.API_THROTTLE_RATE = None
    client = token_client(make_user("maria", Role.MARKETING_MANAGER))
    assert _statuses(client, 20) == [200] * 20


def test_the_production_settings_throttle_the_api_with_the_documented_defaults() -> None:
    import subprocess
    import sys

    code = (
        "import os; os.environ.update(SECRET_KEY='x', DEBUG='false');"
        "from config import settings as s;"
        "print(s.REST_FRAMEWORK['DEFAULT_THROTTLE_CLASSES'], s.API_THROTTLE_BURST,"
        " s.API_THROTTLE_RATE, sorted(s.API_THROTTLE_EXEMPT_USERS))"
    )
    env = {"PATH": "/usr/bin:/bin", "API_THROTTLE_EXEMPT_USERS": "bench, grafana"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == (
        "['config.throttling.ApiRateThrottle'] (120, 1) (1800, 60) ['bench', 'grafana']"
    ), out.stderr


def test_without_redis_the_counts_are_in_the_database_where_every_process_sees_them(
    throttled: object, make_user: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import config.throttling
    from config.models import ThrottleWindow

    throttled.REDIS_URL = None
    monkeypatch.setattr(config.throttling.time, "time", lambda: 960.0)
    maria = make_user("maria", Role.MARKETING_MANAGER)
    client = token_client(maria)
    assert _statuses(client, 3) == [200] * 3
    windows = dict(ThrottleWindow.objects.values_list("key", "hits"))
    assert windows == {
        f"throttle:user:{maria.pk}:5/1:960": 3,
        f"throttle:user:{maria.pk}:8/60:16": 3,
    }
    # Another process counting in the same window (a second gunicorn worker) adds to them.
    ThrottleWindow.objects.filter(key=f"throttle:user:{maria.pk}:5/1:960").update(hits=5)
    assert client.get(URL).status_code == 429


def test_windows_that_ended_are_deleted_when_a_new_one_starts(
    throttled: object, make_user: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import config.throttling
    from config.models import ThrottleWindow

    throttled.REDIS_URL = None
    clock = [960.0]
    monkeypatch.setattr(config.throttling.time, "time", lambda: clock[0])
    client = token_client(make_user("maria", Role.MARKETING_MANAGER))
    _statuses(client, 2)
    clock[0] = 1200.0  # four minutes on: both windows ended
    _statuses(client, 1)
    assert sorted(ThrottleWindow.objects.values_list("hits", flat=True)) == [1, 1]


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="a second process shares the test database on PostgreSQL only",
)
def test_two_processes_count_in_the_same_window_on_postgresql(
    restore_base_data: None, settings: object
) -> None:
    import subprocess
    import sys

    from django.db import connection

    from config.throttling import _hit
    from tests.celery_worker import _database_url_for

    settings.REDIS_URL = None  # the database store, as without Redis
    code = (
        "import django; django.setup();"
        "from config.throttling import _hit; print([_hit('throttle:test:2procs', 60) for _ in range(3)])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": _database_url_for(connection.settings_dict),
    }
    env.pop("REDIS_URL", None)
    _hit("throttle:test:2procs", 60)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[2, 3, 4]", out.stderr
    assert _hit("throttle:test:2procs", 60) == 5


BAD = "Token " + "0" * 40


def test_wrong_tokens_from_one_address_are_answered_429_past_the_limit(
    settings: object, make_user: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import config.throttling

    settings.API_THROTTLE_BAD_TOKENS = (3, 60)
    monkeypatch.setattr(config.throttling.time, "time", lambda: 960.0)
    client = APIClient(REMOTE_ADDR="203.0.113.9")
    statuses = [client.get(URL, HTTP_AUTHORIZATION=BAD).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    response = client.get(URL, HTTP_AUTHORIZATION=BAD)
    assert 0 < int(response["Retry-After"]) <= 60
    assert "wrong tokens" in response.json()["detail"]
    # A right token from that address still works (a colleague behind the same NAT)…
    good = token_client(make_user("maria", Role.MARKETING_MANAGER))
    assert good.get(URL, REMOTE_ADDR="203.0.113.9").status_code == 200
    # …and other addresses are not concerned.
    assert good.get(URL, REMOTE_ADDR="198.51.100.7").status_code == 200
    assert client.get(URL, HTTP_AUTHORIZATION=BAD, REMOTE_ADDR="198.51.100.7").status_code == 401


def test_a_right_token_does_not_count_against_the_wrong_token_limit(
    settings: object, make_user: Callable[..., object]
) -> None:
    settings.API_THROTTLE_BAD_TOKENS = (2, 60)
    good = token_client(make_user("maria", Role.MARKETING_MANAGER))
    assert [good.get(URL).status_code for _ in range(5)] == [200] * 5
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=BAD)
    assert [wrong.get(URL).status_code for _ in range(3)] == [401, 401, 429]


def test_the_proxy_in_front_says_which_address_a_request_came_from(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import config.throttling

    settings.API_THROTTLE_BAD_TOKENS = (1, 60)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    monkeypatch.setattr(config.throttling.time, "time", lambda: 960.0)
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")

    def wrong(client_addr: str) -> int:
        return proxy.get(URL, HTTP_AUTHORIZATION=BAD, HTTP_X_FORWARDED_FOR=client_addr).status_code

    assert [wrong("203.0.113.9"), wrong("203.0.113.9")] == [401, 429]
    assert wrong("198.51.100.7") == 401  # another client behind the same proxy
