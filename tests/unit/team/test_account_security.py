"""Sessions and sign-in: logout ends the refresh token, the app client writes no email, address changes
need a mailed code, and TOTP two-step sign-in (an agent's choice, or every agent's when an admin says so).

Each test acts as the attacker would: through Charla's REST routes, or straight against Cognito's
public API with the agent's own tokens (the console's app client id is public). Cognito is moto's,
made as strict as AWS by infra/local/moto_cognito.py.
"""

from __future__ import annotations

import base64
import os
import re
import time

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from tests.support import outbox
from tests.support.accounts import PASSWORD
from tests.support.admin import add_user, body, call, idp, login, login_status, refresh_status

EMAIL = "ana@example.com"


def totp(secret: str, at: float | None = None) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(at or time.time()).decode()


def wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


@pytest.fixture
def ana(pool, api):
    add_user(pool, EMAIL, "Ana")
    return login(api, EMAIL)


@pytest.fixture
def boss(pool, api):
    add_user(pool, "boss@example.com", "Boss", role="admin")
    return login(api, "boss@example.com")


def _enable_totp(api, tokens) -> str:
    started = call(api, "POST", "/agent/me/mfa/setup", tokens["id_token"], {"access_token": tokens["access_token"]})
    assert started.status_code == 200, started.body
    secret = body(started)["secret"]
    done = call(
        api,
        "POST",
        "/agent/me/mfa/verify",
        tokens["id_token"],
        {"access_token": tokens["access_token"], "code": totp(secret)},
    )
    assert done.status_code == 200, done.body
    return secret


# --- logout -----------------------------------------------------------------------------------------


def test_logout_revokes_the_refresh_token_of_that_sign_in_only(api, ana):
    other_tab = login(api, EMAIL)
    assert refresh_status(api, ana["refresh_token"]) == 200

    response = call(api, "POST", "/auth/logout", payload={"refresh_token": ana["refresh_token"]})
    assert response.status_code == 204, response.body

    assert refresh_status(api, ana["refresh_token"]) == 401
    # Straight against Cognito, as someone who copied the token would try it.
    with pytest.raises(ClientError) as refused:
        idp().initiate_auth(
            AuthFlow="REFRESH_TOKEN_AUTH", ClientId=_client_id(), AuthParameters={"REFRESH_TOKEN": ana["refresh_token"]}
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    # The access token issued with it is dead too; another sign-in is untouched.
    with pytest.raises(ClientError):
        idp().get_user(AccessToken=ana["access_token"])
    assert refresh_status(api, other_tab["refresh_token"]) == 200
    # Signing out twice, or with rubbish, is not an error and tells nothing.
    assert call(api, "POST", "/auth/logout", payload={"refresh_token": ana["refresh_token"]}).status_code == 204
    assert call(api, "POST", "/auth/logout", payload={"refresh_token": 12}).status_code == 400


def _client_id() -> str:
    return os.environ["COGNITO_CLIENT_ID"]


# --- attributes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value",
    [
        ("email", "mallory@evil.example"),
        ("email_verified", "true"),
        ("custom:role", "admin"),
    ],
)
def test_an_agent_can_not_write_their_email_or_other_attributes_with_their_own_token(api, ana, name, value):
    with pytest.raises(ClientError) as refused:
        idp().update_user_attributes(AccessToken=ana["access_token"], UserAttributes=[{"Name": name, "Value": value}])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert login_status(api, EMAIL) == 200
    assert login_status(api, "mallory@evil.example") == 401
    # The display name stays theirs to change.
    idp().update_user_attributes(AccessToken=ana["access_token"], UserAttributes=[{"Name": "name", "Value": "Ana B"}])


# --- email change ---------------------------------------------------------------------------------------


def _code_in(to: str) -> str:
    mail = [m for m in outbox.sent() if m.destinations["ToAddresses"] == [to]][-1]
    match = re.search(r"^\s+(\d{6})$", mail.body, re.M)
    assert match, mail.body
    return match.group(1)


def test_an_email_change_takes_effect_only_with_the_code_mailed_to_the_new_address(api, ana):
    token = ana["id_token"]
    asked = call(api, "POST", "/agent/me/email", token, {"email": "Ana.New@Example.com"})
    assert asked.status_code == 202, asked.body
    assert body(asked)["pending_email"] == "ana.new@example.com"
    code = _code_in("ana.new@example.com")

    # Until the code comes back, the old address is the account's.
    assert body(call(api, "GET", "/agent/me", token))["email"] == EMAIL
    assert login_status(api, EMAIL) == 200 and login_status(api, "ana.new@example.com") == 401

    bad = call(api, "POST", "/agent/me/email/verify", token, {"code": wrong(code)})
    assert bad.status_code == 400 and "code" in body(bad)["Message"]
    assert call(api, "POST", "/agent/me/email/verify", token, {"code": 123456}).status_code == 400
    done = call(api, "POST", "/agent/me/email/verify", token, {"code": code})
    assert done.status_code == 200, done.body
    assert body(done)["email"] == "ana.new@example.com"
    assert login_status(api, "ana.new@example.com") == 200 and login_status(api, EMAIL) == 401
    notice = [m for m in outbox.sent() if m.destinations["ToAddresses"] == [EMAIL]][-1]
    assert "ana.new@example.com" in notice.body
    # A code works once.
    assert call(api, "POST", "/agent/me/email/verify", token, {"code": code}).status_code == 409


def test_guessing_the_email_code_stops_after_five_tries(api, ana):
    token = ana["id_token"]
    assert call(api, "POST", "/agent/me/email", token, {"email": "new@example.com"}).status_code == 202
    code = _code_in("new@example.com")
    for _ in range(5):
        assert call(api, "POST", "/agent/me/email/verify", token, {"code": wrong(code)}).status_code == 400
    late = call(api, "POST", "/agent/me/email/verify", token, {"code": code})
    assert late.status_code == 400 and "expired" in body(late)["Message"]
    assert login_status(api, EMAIL) == 200


def test_code_mails_are_at_least_a_minute_apart(api, ana):
    token = ana["id_token"]
    assert call(api, "POST", "/agent/me/email", token, {"email": "one@example.com"}).status_code == 202
    again = call(api, "POST", "/agent/me/email", token, {"email": "two@example.com"})
    assert again.status_code == 429
    assert not [m for m in outbox.sent() if m.destinations["ToAddresses"] == ["two@example.com"]]


def test_an_email_change_to_another_agents_address_is_refused(api, pool, ana):
    add_user(pool, "bea@example.com", "Bea")
    response = call(api, "POST", "/agent/me/email", ana["id_token"], {"email": "bea@example.com"})
    assert response.status_code == 409


# --- TOTP ---------------------------------------------------------------------------------------------


def test_an_agent_turns_on_totp_and_sign_in_then_asks_for_the_code(api, ana):
    tokens = ana
    started = body(
        call(api, "POST", "/agent/me/mfa/setup", tokens["id_token"], {"access_token": tokens["access_token"]})
    )
    secret = started["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert started["otpauth_uri"] == f"otpauth://totp/Charla:{EMAIL}?secret={secret}&issuer=Charla"
    refused = call(
        api,
        "POST",
        "/agent/me/mfa/verify",
        tokens["id_token"],
        {"access_token": tokens["access_token"], "code": wrong(totp(secret))},
    )
    assert refused.status_code == 400
    # A wrong code turned nothing on.
    assert "challenge" not in login(api, EMAIL)
    done = call(
        api,
        "POST",
        "/agent/me/mfa/verify",
        tokens["id_token"],
        {"access_token": tokens["access_token"], "code": totp(secret)},
    )
    assert done.status_code == 200 and body(done)["mfa_enabled"] is True

    first = login(api, EMAIL)
    assert first["challenge"] == "SOFTWARE_TOKEN_MFA" and "id_token" not in first and "refresh_token" not in first
    # The password alone, straight against Cognito, gets no tokens either.
    direct = idp().initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH", ClientId=_client_id(), AuthParameters={"USERNAME": EMAIL, "PASSWORD": PASSWORD}
    )
    assert direct["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and "AuthenticationResult" not in direct

    answer = {"challenge": "SOFTWARE_TOKEN_MFA", "email": EMAIL, "session": first["session"]}
    assert call(api, "POST", "/auth/challenge", payload={**answer, "code": wrong(totp(secret))}).status_code == 400
    assert call(api, "POST", "/auth/challenge", payload={**answer, "code": "12ab56"}).status_code == 400
    signed_in = call(api, "POST", "/auth/challenge", payload={**answer, "code": totp(secret)})
    assert signed_in.status_code == 200, signed_in.body
    assert call(api, "GET", "/agent/me", body(signed_in)["id_token"]).status_code == 200
    assert body(call(api, "GET", "/agent/me/mfa", body(signed_in)["id_token"]))["mfa_enabled"] is True


def test_another_agents_access_token_can_not_set_up_totp_for_them(api, pool, ana):
    add_user(pool, "bea@example.com", "Bea")
    bea = login(api, "bea@example.com")
    response = call(api, "POST", "/agent/me/mfa/setup", ana["id_token"], {"access_token": bea["access_token"]})
    assert response.status_code == 400


# --- TOTP required by an admin --------------------------------------------------------------------------


def test_when_an_admin_requires_totp_agents_without_it_can_only_set_it_up(api, ana, boss):
    changed = call(api, "PATCH", "/admin/settings", boss["id_token"], {"require_mfa": True})
    assert changed.status_code == 200, changed.body
    assert call(api, "PATCH", "/admin/settings", boss["id_token"], {"require_mfa": "yes"}).status_code in (400, 403)

    signed_in = login(api, EMAIL)
    assert signed_in["mfa_setup_required"] is True
    refused = call(api, "GET", "/agent/me", signed_in["id_token"])
    assert refused.status_code == 403 and body(refused)["Code"] == "mfa_required"
    assert call(api, "POST", "/agent/ws-ticket", signed_in["id_token"]).status_code == 403
    # Signing in straight against Cognito, around Charla's /auth/login, opens nothing more.
    direct = idp().initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH", ClientId=_client_id(), AuthParameters={"USERNAME": EMAIL, "PASSWORD": PASSWORD}
    )
    assert call(api, "GET", "/agent/chats", direct["AuthenticationResult"]["IdToken"]).status_code == 403
    # The session that was open before the switch is held to it too.
    assert call(api, "GET", "/agent/me", ana["id_token"]).status_code == 403

    status = body(call(api, "GET", "/agent/me/mfa", signed_in["id_token"]))
    assert status == {"mfa_enabled": False, "mfa_required": True}
    secret = _enable_totp(api, signed_in)
    assert call(api, "GET", "/agent/me", signed_in["id_token"]).status_code == 200
    # Required: it can't be turned off again.
    off = call(api, "POST", "/agent/me/mfa/disable", signed_in["id_token"], {"access_token": signed_in["access_token"]})
    assert off.status_code == 403
    assert login(api, EMAIL)["challenge"] == "SOFTWARE_TOKEN_MFA"
    assert secret


def test_totp_can_be_turned_off_when_nobody_requires_it(api, ana):
    _enable_totp(api, ana)
    off = call(api, "POST", "/agent/me/mfa/disable", ana["id_token"], {"access_token": ana["access_token"]})
    assert off.status_code == 200 and body(off)["mfa_enabled"] is False
    assert "id_token" in login(api, EMAIL)


@pytest.mark.parametrize(
    "path, payload, field",
    [
        ("/agent/me/email", {"email": "\ud800@example.com"}, "email"),
        ("/agent/me/email", {"email": 'a"b@example.com'}, "email"),
        ("/agent/me/email", {"email": ["x@example.com"]}, "email"),
        ("/agent/me/email", {"email": "x@example.com", "email_verified": True}, "email_verified"),
        ("/agent/me/email/verify", {"code": "\ud800\ud800\ud800\ud800\ud800\ud800"}, "code"),
        ("/agent/me/mfa/verify", {"access_token": "x", "code": 123456}, "access_token"),
    ],
)
def test_hostile_account_bodies_get_a_400_naming_the_field(api, ana, path, payload, field):
    response = call(api, "POST", path, ana["id_token"], payload)
    assert response.status_code == 400, response.body
    assert field in body(response)["Message"]
    assert login_status(api, EMAIL) == 200
