from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_it_prints_the_demo_logins_and_where_the_app_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("seed_demo", leads=20, no_progress=True)
    capsys.readouterr()
    call_command("demo_logins", url="http://127.0.0.1:8011")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8011" in out
    assert "tom      Sales manager      Head of sales" in out


@pytest.mark.django_db
def test_without_demo_users_it_says_how_to_create_one(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("demo_logins")
    assert "createsuperuser" in capsys.readouterr().out
