from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_a_user_creates_an_api_token_on_the_profile_page(
    client: Client, marketing_rep: object
) -> None:
    client.force_login(marketing_rep)
    assert (
        "token" not in client.get("/profile/").context
        or client.get("/profile/").context["token"] is None
    )
    response = client.post("/profile/", follow=True)
    token = Token.objects.get(user=marketing_rep)
    assert token.key in response.content.decode()


def test_replacing_a_token_invalidates_the_old_one(client: Client, marketing_rep: object) -> None:
    old = Token.objects.create(user=marketing_rep).key
    client.force_login(marketing_rep)
    client.post("/profile/")
    assert Token.objects.get(user=marketing_rep).key != old
    assert not Token.objects.filter(key=old).exists()


def test_the_command_prints_a_users_token(
    sales_rep: object, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("create_api_token", "sam")
    printed = capsys.readouterr().out.strip()
    assert printed == Token.objects.get(user=sales_rep).key
    call_command("create_api_token", "sam")
    assert capsys.readouterr().out.strip() == printed


def test_the_command_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_token", "ghost")
