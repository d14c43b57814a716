"""The cold-import baseline: a bare Chalice app with one PynamoDB model and a boto3 client getter.

It imports what every Charla Lambda must (Chalice, PynamoDB, boto3) and nothing of Charla, so
`app.py` over this is what Charla's own modules add to a cold start.
"""

from functools import cache

import boto3
from chalice import Chalice
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

app = Chalice(app_name="baseline")


class Item(Model):
    class Meta:
        table_name = "baseline-items"
        region = "us-east-1"

    item_id = UnicodeAttribute(hash_key=True)


@cache
def client(service: str) -> object:  # created lazily, as Charla's clients are
    return boto3.session.Session().client(service)


@app.route("/")
def index() -> dict[str, str]:
    return {"item": Item("x").item_id}
