"""Cognito's password refusals become one sentence of Charla's, which the console translates."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from functions.team import user_pool


def refusal(message: str) -> ClientError:
    return ClientError({"Error": {"Code": "InvalidPasswordException", "Message": message}}, "ChangePassword")


@pytest.mark.parametrize(
    "cognito_says",
    [
        "Password does not confirm to the configured password policy: Password not long enough",  # sic
        "Password did not conform with policy: Password must have uppercase characters",
        "Password did not conform with policy: Password must have numeric characters",
    ],
)
def test_every_policy_refusal_is_the_same_sentence_naming_the_policy(cognito_says):
    error = user_pool.password_refused(refusal(cognito_says))
    assert error.code == "bad_request" and error.http_status == 400
    assert error.message == (
        "The new password does not meet the password policy: at least 12 characters, "
        "with upper- and lower-case letters and a digit."
    )
    assert "confirm" not in error.message


def test_a_refusal_that_is_not_about_the_policy_says_so_without_cognitos_words():
    error = user_pool.password_refused(refusal("1 validation error detected"))
    assert error.message == "The new password was refused; choose another one."
