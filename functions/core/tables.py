"""Creates every table and index from the models: used by the local stack and by the tests.

In AWS the tables come from the CloudFormation template in `infra/aws/`, which a test checks
against these same models.
"""

from __future__ import annotations

from functions.models import ALL_MODELS


def create_all() -> None:
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
