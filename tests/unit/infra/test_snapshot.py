"""moto's state on disk: what one moto saved, the next one serves, down to passwords and queued messages."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.local import snapshot
from tests.support import outbox
from tests.support.accounts import PASSWORD

REGION = "us-east-1"


def _fill() -> dict[str, str]:
    """One of each thing the local stack keeps; returns the ids moto chose."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "v": {"S": "kept"}})
    idp = boto3.client("cognito-idp", region_name=REGION)
    pool_id = idp.create_user_pool(PoolName="p", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="c", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="ana@example.com", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username="ana@example.com", Password=PASSWORD, Permanent=True)
    tokens = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="kept-bucket")
    s3.put_object(Bucket="kept-bucket", Key="k", Body=b"attachment bytes")
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_domain_identity(Domain="charla.test")
    ses.send_email(
        Source="support@charla.test",
        Destination={"ToAddresses": ["rex@example.com"]},
        Message={"Subject": {"Data": "Sent before"}, "Body": {"Text": {"Data": "hola"}}},
    )
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="queued")
    return {"pool": pool_id, "client": client_id, "access": tokens["AccessToken"], "refresh": tokens["RefreshToken"]}


def _queues(saved: dict) -> list[str]:
    return list(saved["backends"]["sqs"]["123456789012"][REGION].queues)


def test_what_one_moto_saved_the_next_one_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARLA_SES_PRODUCTION_ACCESS", "1")  # it mails an address it never verified
    with mock_aws():
        ids = _fill()
        snapshot.save(tmp_path)
    with mock_aws():
        assert snapshot.load(tmp_path)
        ddb = boto3.client("dynamodb", region_name=REGION)
        assert ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "kept"}
        idp = boto3.client("cognito-idp", region_name=REGION)
        assert idp.get_user(AccessToken=ids["access"])["Username"]  # a token from before is still valid
        renewed = idp.initiate_auth(
            ClientId=ids["client"], AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": ids["refresh"]}
        )
        assert renewed["AuthenticationResult"]["IdToken"]
        signed_in = idp.initiate_auth(
            ClientId=ids["client"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "ana@example.com", "PASSWORD": PASSWORD},
        )
        assert signed_in["AuthenticationResult"]["IdToken"]
        body = boto3.client("s3", region_name=REGION).get_object(Bucket="kept-bucket", Key="k")["Body"].read()
        assert body == b"attachment bytes"
        assert [m.subject for m in outbox.sent()] == ["Sent before"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
        received = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
        assert [m["Body"] for m in received] == ["queued"]


def test_no_snapshot_is_an_empty_start(tmp_path: Path) -> None:
    with mock_aws():
        assert not snapshot.load(tmp_path)


def test_a_snapshot_that_cannot_be_read_stops_the_start_and_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / snapshot.FILE_NAME).write_bytes(b"not a pickle")
    with mock_aws(), pytest.raises(snapshot.SnapshotError, match="start fresh"):
        snapshot.load(tmp_path)
    assert (tmp_path / snapshot.FILE_NAME).read_bytes() == b"not a pickle"


def test_the_saver_keeps_writing_while_moto_runs_so_a_crash_loses_only_the_last_interval(tmp_path: Path) -> None:
    path = tmp_path / snapshot.FILE_NAME
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        saver = snapshot.Saver(tmp_path, interval=0.05)
        saver.start()
        try:
            sqs.create_queue(QueueName="later")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                # Never stopped, as after a crash: only the periodic snapshots are on disk.
                if path.exists() and "later" in _queues(pickle.loads(path.read_bytes())):
                    break
                time.sleep(0.05)
            else:
                pytest.fail("no periodic snapshot holds the new queue")
        finally:
            saver.stop()
    assert not list(tmp_path.glob(".moto-*"))  # no temporary file left behind
