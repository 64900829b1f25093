from __future__ import annotations

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
