"""Shared fixtures: users in each role, API clients, and small builders for funnel records."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from alignment.roles import Role
from alignment.services import api_token_get_or_create, user_set_role

User = get_user_model()


@pytest.fixture
def make_user(db: None) -> Callable[..., object]:
    def make(username: str, role: Role | None = None, **extra: object) -> object:
        user = User.objects.create_user(username=username, password="pw", **extra)
        if role is not None:
            user_set_role(user=user, role=role)
        return user

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., object]) -> object:
    return make_user("ada", Role.ADMIN, first_name="Ada", last_name="Admin")


@pytest.fixture
def sales_rep(make_user: Callable[..., object]) -> object:
    return make_user("sam", Role.SALES_REP, first_name="Sam", last_name="Rep")


@pytest.fixture
def sales_manager(make_user: Callable[..., object]) -> object:
    return make_user("sally", Role.SALES_MANAGER)


@pytest.fixture
def marketing_rep(make_user: Callable[..., object]) -> object:
    return make_user("mia", Role.MARKETING_REP)


@pytest.fixture
def marketing_manager(make_user: Callable[..., object]) -> object:
    return make_user("max", Role.MARKETING_MANAGER)


def token_client(user: object) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_get_or_create(user=user).key}")
    return client


@pytest.fixture
def api(admin_user: object) -> APIClient:
    """An API client authenticated with the admin's token, as an integration would be."""
    return token_client(admin_user)


pytest_plugins = ["tests.celery_worker"]
