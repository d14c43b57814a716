"""Creates every table and index from the models: used by the local stack and by the tests.

In AWS the tables come from the CloudFormation template in `infra/aws/`, which a test checks
against these same models.
"""

from __future__ import annotations

from functions.models import ALL_MODELS


def create_all() -> None:
    """Creates the tables that don't exist yet.

    Only ever run against moto, which creates a table ACTIVE at once, so there is no status to wait
    for (DynamoDB itself would need `wait=True`); PynamoDB's `create_table` checks existence itself.
    The local stack runs it at every start (the unit tests once per process): the DescribeTable calls it saves count.
    """
    for model in ALL_MODELS:
        model.create_table()
