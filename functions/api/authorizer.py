"""The Cognito authorizer every agent route uses. It lives here, not in app.py, because the blueprints and the
app must share one instance: Chalice names the authorizer in the template by the object it was given."""

import os

from chalice import CognitoUserPoolAuthorizer

cognito = CognitoUserPoolAuthorizer(
    "charla-agents",
    provider_arns=[
        os.environ.get("COGNITO_USER_POOL_ARN", "arn:aws:cognito-idp:us-east-1:000000000000:userpool/unset")
    ],
)
