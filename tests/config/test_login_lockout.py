"""Sign-in over HTTP: repeated wrong passwords lock the username out, and the page says so."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from alignment.roles import Role

pytestmark = pytest.mark.django_db


def sign_in(client: Client, password: str) -> object:
    return client.post("/login/", {"username": "sam", "password": password})


def test_repeated_wrong_passwords_lock_the_username_even_for_the_right_one(
    client: Client, make_user: Callable[..., object], settings: object
) -> None:
    make_user("sam", Role.SALES_REP)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with its error
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert b"locked" in locked.content.lower()
    right = sign_in(Client(), "pw")  # another browser, the right password
    assert right.status_code == 429


def test_a_right_password_before_the_limit_signs_in_and_starts_the_count_again(
    client: Client, make_user: Callable[..., object], settings: object
) -> None:
    make_user("sam", Role.SALES_REP)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, "pw").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, "pw").status_code == 302
