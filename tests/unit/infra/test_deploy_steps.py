"""What `deploy` does after the stack is up, and what `destroy` does around it, run against moto with
the stack's outputs given as a dict: the same code, with the clients passed in.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.aws import assets, cli, stack, steps
from infra.aws.progress import Progress

REGION = "us-east-1"
WS_URL = "wss://abc123.execute-api.us-east-1.amazonaws.com/api"
LOADER_JS = (
    b'(function(){var b=new URL(".",document.currentScript.src).href;load(b+"widget.js");css(b+"widget.css")})();'
)
INDEX_HTML = (
    b'<!doctype html><link rel="stylesheet" href="app.css"><script defer src="app.js"></script><div id="app"></div>'
)


@pytest.fixture
def dists(tmp_path: Path) -> tuple[Path, Path]:
    """Small stand-ins for widget/dist and agent-ui/dist, shaped like the real builds."""
    widget, console = tmp_path / "widget" / "dist", tmp_path / "agent-ui" / "dist"
    widget.mkdir(parents=True)
    console.mkdir(parents=True)
    (widget / "loader.js").write_bytes(LOADER_JS)
    (widget / "widget.js").write_bytes(b'fetch(base+"runtime.json");console.log("widget v1");')
    (widget / "widget.css").write_bytes(b".launcher{color:red}")
    (console / "index.html").write_bytes(INDEX_HTML)
    (console / "app.js").write_bytes(b'fetch(here+"runtime.json");')
    (console / "app.css").write_bytes(b"body{margin:0}")
    return widget, console


@pytest.fixture
def account() -> Any:
    """A moto account holding what the stack would have made, and the stack's outputs."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        cloudfront = boto3.client("cloudfront", region_name=REGION)
        idp = boto3.client("cognito-idp", region_name=REGION)
        for bucket in ("charla-prod-widget", "charla-prod-console"):
            s3.create_bucket(Bucket=bucket)
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "charla-prod",
                "Comment": "",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "console",
                            "DomainName": "c.s3.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "console",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                },
            }
        )["Distribution"]
        pool = idp.create_user_pool(PoolName="charla-prod-agents", UsernameAttributes=["email"])["UserPool"]
        client = idp.create_user_pool_client(
            UserPoolId=pool["Id"],
            ClientName="charla-console",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]
        for group in ("admin", "agent"):
            idp.create_group(UserPoolId=pool["Id"], GroupName=group)
        outputs = {
            "PublicURL": f"https://{distribution['DomainName']}",
            "WebsocketURL": WS_URL,
            "WidgetBucketName": "charla-prod-widget",
            "ConsoleBucketName": "charla-prod-console",
            "DistributionId": distribution["Id"],
            "UserPoolId": pool["Id"],
        }
        yield _Account(s3, cloudfront, idp, outputs, client["ClientId"])


class _Account:
    def __init__(self, s3: Any, cloudfront: Any, idp: Any, outputs: dict[str, str], client_id: str) -> None:
        self.s3, self.cloudfront, self.idp, self.outputs, self.client_id = s3, cloudfront, idp, outputs, client_id

    def deploy(self, dists: tuple[Path, Path], admin: str | None = "owner@example.com") -> tuple[steps.Report, str]:
        out = io.StringIO()
        report = steps.after_stack(
            s3=self.s3,
            cloudfront=self.cloudfront,
            idp=self.idp,
            outputs=self.outputs,
            widget_dist=dists[0],
            console_dist=dists[1],
            progress=Progress(4, out),
            admin_email=admin,
        )
        return report, out.getvalue()

    def objects(self, bucket: str) -> dict[str, dict[str, Any]]:
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        return {key: self.s3.get_object(Bucket=bucket, Key=key) for key in keys}

    def invalidations(self) -> list[dict[str, Any]]:
        listed = self.cloudfront.list_invalidations(DistributionId=self.outputs["DistributionId"])
        return listed["InvalidationList"].get("Items", [])


HASHED = re.compile(r"^(widget|agent)/(widget|app)\.[0-9a-f]{10}\.(js|css)$")


def test_assets_land_with_their_content_types_and_cache_headers(account, dists):
    account.deploy(dists)
    widget = account.objects("charla-prod-widget")
    console = account.objects("charla-prod-console")

    assert set(widget) == {"widget/loader.js", "widget/runtime.json"} | {k for k in widget if HASHED.match(k)}
    assert len([k for k in widget if HASHED.match(k)]) == 2  # widget.<hash>.js and widget.<hash>.css
    for key, obj in {**widget, **console}.items():
        expected_type = {
            ".js": "text/javascript; charset=utf-8",
            ".css": "text/css; charset=utf-8",
            ".html": "text/html; charset=utf-8",
            ".json": "application/json",
        }[Path(key).suffix]
        assert obj["ContentType"] == expected_type, key
        if HASHED.match(key):
            assert obj["CacheControl"] == "public, max-age=31536000, immutable", key
    assert widget["widget/loader.js"]["CacheControl"] == "public, max-age=300"
    assert console["agent/index.html"]["CacheControl"] == "no-cache"
    assert widget["widget/runtime.json"]["CacheControl"] == "no-cache"
    assert "widget/widget.js" not in widget and "agent/app.js" not in console


def test_entries_point_at_the_hashed_files_that_were_uploaded(account, dists):
    account.deploy(dists)
    widget = account.objects("charla-prod-widget")
    console = account.objects("charla-prod-console")
    loader = widget["widget/loader.js"]["Body"].read().decode()
    index = console["agent/index.html"]["Body"].read().decode()
    for text, objects, prefix, names in (
        (loader, widget, "widget/", ("widget.js", "widget.css")),
        (index, console, "agent/", ("app.js", "app.css")),
    ):
        referenced = re.findall(r'"([a-z]+\.[0-9a-f]{10}\.(?:js|css))"', text)
        assert len(referenced) == 2
        assert {prefix + name for name in referenced} <= set(objects)
        for name in names:
            assert f'"{name}"' not in text
    hashed_js = next(k for k in widget if k.endswith(".js") and HASHED.match(k))
    assert widget[hashed_js]["Body"].read() == (dists[0] / "widget.js").read_bytes()


def test_runtime_config_holds_the_rest_and_websocket_urls(account, dists):
    account.deploy(dists)
    expected = {"api": account.outputs["PublicURL"] + "/api", "ws": WS_URL}
    for bucket, key in (("charla-prod-widget", "widget/runtime.json"), ("charla-prod-console", "agent/runtime.json")):
        body = account.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert json.loads(body) == expected


def test_the_first_admin_is_in_the_pool_in_group_admin_and_can_sign_in(account, dists):
    report, printed = account.deploy(dists, admin="owner@example.com")
    assert report.admin is not None and report.admin.outcome == "created"
    pool = account.outputs["UserPoolId"]
    user = account.idp.admin_get_user(UserPoolId=pool, Username="owner@example.com")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert {"Name": "email", "Value": "owner@example.com"} in user["UserAttributes"]
    groups = account.idp.admin_list_groups_for_user(UserPoolId=pool, Username="owner@example.com")["Groups"]
    assert [g["GroupName"] for g in groups] == ["admin"]
    # The printed password is the one that works, and Cognito asks for a new one.
    assert report.admin.temporary_password in printed
    answer = account.idp.initiate_auth(
        ClientId=account.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "owner@example.com", "PASSWORD": report.admin.temporary_password},
    )
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_the_first_deploy_invalidates_the_stable_urls_only(account, dists):
    report, _ = account.deploy(dists)
    assert report.invalidated == [
        "/agent/index.html",
        "/agent/runtime.json",
        "/widget/loader.js",
        "/widget/runtime.json",
    ]
    assert len(account.invalidations()) == 1


def test_running_again_changes_nothing(account, dists):
    account.deploy(dists)
    before = {key: obj["LastModified"] for key, obj in account.objects("charla-prod-widget").items()}
    report, printed = account.deploy(dists)
    assert {u.outcome for u in report.uploads} == {"unchanged"}
    assert report.invalidation is None
    assert report.admin is not None and report.admin.outcome == "unchanged"
    assert report.admin.temporary_password is None
    assert len(account.invalidations()) == 1
    assert {key: obj["LastModified"] for key, obj in account.objects("charla-prod-widget").items()} == before
    assert "nothing changed at a stable URL" in printed


def test_a_changed_widget_gets_a_new_name_and_only_the_loader_is_invalidated(account, dists):
    first, _ = account.deploy(dists)
    old = {u.asset.key for u in first.uploads}
    (dists[0] / "widget.js").write_bytes(b'fetch(base+"runtime.json");console.log("widget v2");')
    report, _ = account.deploy(dists)
    outcomes = {u.asset.key: u.outcome for u in report.uploads}
    changed = {key: outcome for key, outcome in outcomes.items() if outcome != "unchanged"}
    new_js = next(key for key in changed if HASHED.match(key))
    assert changed == {new_js: "uploaded", "widget/loader.js": "updated"}
    assert report.invalidated == ["/widget/loader.js"]
    assert len(account.invalidations()) == 2
    (dists[0] / "widget.js").write_bytes(b'fetch(base+"runtime.json");console.log("widget v3");')
    assert account.deploy(dists)[0].invalidated == ["/widget/loader.js"]
    assert len(account.invalidations()) == 3  # the same path again, for new content: a new invalidation
    # Pages holding the previous loader (cached up to 5 minutes) still find the previous widget.
    assert old <= set(account.objects("charla-prod-widget")) | set(account.objects("charla-prod-console"))


def test_same_bytes_with_wrong_headers_are_fixed(account, dists):
    account.deploy(dists)
    account.s3.put_object(
        Bucket="charla-prod-widget",
        Key="widget/loader.js",
        Body=LOADER_JS.replace(b'"widget.js"', b'"x"'),
        ContentType="text/plain",
    )
    report, _ = account.deploy(dists)
    assert {u.asset.key: u.outcome for u in report.uploads if u.changed} == {"widget/loader.js": "updated"}
    head = account.s3.head_object(Bucket="charla-prod-widget", Key="widget/loader.js")
    assert (head["ContentType"], head["CacheControl"]) == ("text/javascript; charset=utf-8", "public, max-age=300")


def test_progress_is_shown_step_by_step(account, dists):
    _, printed = account.deploy(dists)
    steps_shown = [line for line in printed.splitlines() if line.startswith("[")]
    assert steps_shown == [
        "[1/4] Uploading the widget",
        "[2/4] Uploading the console",
        "[3/4] Invalidating CloudFront",
        "[4/4] Checking the first admin",
    ]


def test_without_an_admin_email_the_deploy_says_how_to_make_one(account, dists):
    report, printed = account.deploy(dists, admin=None)
    assert report.admin is None
    assert "create-admin" in printed


def test_a_file_no_entry_refers_to_keeps_its_name(dists):
    (dists[0] / "lang-es.js").write_bytes(b"window.es={}")
    planned = {a.key: a for a in assets.plan(dists[0], assets.WIDGET, {"api": "a", "ws": "w"})}
    assert planned["widget/lang-es.js"].cache_control == "public, max-age=300"
    assert planned["widget/lang-es.js"].stable


def test_language_files_named_by_the_widget_are_hashed_with_it(dists):
    # The widget build names each language file literally: {keys: [...], files: {es: "lang/es.js"}}.
    widget_js = b'var f={en:"lang/en.js",es:"lang/es.js"};s.src=base+f[code];'
    (dists[0] / "widget.js").write_bytes(widget_js)
    (dists[0] / "lang").mkdir()
    for code in ("en", "es"):
        (dists[0] / "lang" / f"{code}.js").write_bytes(f'Charla._lang("{code}",[])'.encode())
    planned = {a.key: a for a in assets.plan(dists[0], assets.WIDGET, {"api": "a", "ws": "w"})}
    langs = {k: a for k, a in planned.items() if k.startswith("widget/lang/")}
    assert len(langs) == 2 and all(re.fullmatch(r"widget/lang/e[ns]\.[0-9a-f]{10}\.js", k) for k in langs)
    assert {a.cache_control for a in langs.values()} == {"public, max-age=31536000, immutable"}
    assert {a.content_type for a in langs.values()} == {"text/javascript; charset=utf-8"}
    widget = next(a for k, a in planned.items() if re.fullmatch(r"widget/widget\.[0-9a-f]{10}\.js", k))
    assert sorted(re.findall(rb'"(lang/e[ns]\.[0-9a-f]{10}\.js)"', widget.body)) == sorted(
        k.removeprefix("widget/").encode() for k in langs
    )


def test_the_embed_snippet_and_console_url():
    outputs = {"PublicURL": "https://chat.example.com"}
    assert steps.embed_snippet(outputs) == '<script async src="https://chat.example.com/widget/loader.js"></script>'
    assert steps.console_url(outputs) == "https://chat.example.com/agent/"


# --- the stack: code location, parameters, refusing data loss ---------------------------------


def test_functions_get_the_uploaded_zip_and_unchanged_artifacts_are_not_uploaded_again():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        bucket = stack.artifacts_bucket(s3, "123456789012", REGION)
        assert stack.artifacts_bucket(s3, "123456789012", REGION) == bucket
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert set(block.values()) == {True}
        key = stack.put_artifact(s3, bucket, "charla-prod", b"zip bytes", ".zip")
        modified = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
        assert stack.put_artifact(s3, bucket, "charla-prod", b"zip bytes", ".zip") == key
        assert s3.head_object(Bucket=bucket, Key=key)["LastModified"] == modified
    template = {
        "Resources": {
            "F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./x.zip"}},
            "T": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        }
    }
    located = stack.with_code_in_s3(template, bucket, key)
    assert located["Resources"]["F"]["Properties"]["CodeUri"] == {"Bucket": bucket, "Key": key}
    assert template["Resources"]["F"]["Properties"]["CodeUri"] == "./x.zip"


def test_an_update_keeps_parameters_that_are_not_given():
    assert stack.parameters({"AlarmEmail": "ops@example.com"}, ["AlarmEmail", "MailDomain"], updating=True) == [
        {"ParameterKey": "AlarmEmail", "ParameterValue": "ops@example.com"},
        {"ParameterKey": "MailDomain", "UsePreviousValue": True},
    ]
    assert stack.parameters({}, ["AlarmEmail"], updating=False) == []


def test_a_stack_of_an_older_version_updates_to_one_with_a_new_parameter():
    """CloudFormation refuses UsePreviousValue for a parameter the deployed stack does not have."""
    older: dict[str, Any] = {
        "Parameters": {"AlarmEmail": {"Type": "String", "Default": ""}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    }
    newer = json.loads(json.dumps(older))
    newer["Parameters"]["DetailedAlarms"] = {"Type": "String", "Default": "false"}
    newer["Resources"]["DeadLetters"] = {"Type": "AWS::SQS::Queue"}
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        cfn = boto3.client("cloudformation", region_name=REGION)
        bucket = stack.artifacts_bucket(s3, "123456789012", REGION)
        outcomes = []
        for template in (older, newer):
            key = stack.put_artifact(s3, bucket, "charla-prod", json.dumps(template).encode(), ".json")
            outcomes.append(
                stack.deploy(
                    cfn,
                    "charla-prod",
                    stack.template_url(bucket, key, REGION),
                    {"AlarmEmail": "ops@example.com"} if template is older else {},
                    sorted(template["Parameters"]),
                    [],
                    Progress(1, io.StringIO()),
                    poll=0,
                )
            )
        assert outcomes == ["created", "updated"]
        given = {
            p["ParameterKey"]: p["ParameterValue"]
            for p in cfn.describe_stacks(StackName="charla-prod")["Stacks"][0]["Parameters"]
        }
        assert given == {"AlarmEmail": "ops@example.com", "DetailedAlarms": "false"}


def test_a_change_that_would_replace_or_remove_data_is_refused():
    changes = [
        {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "ChatsTable", "Replacement": "True"}},
        {"ResourceChange": {"Action": "Remove", "LogicalResourceId": "MailBucket"}},
        {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "APIHandler", "Replacement": "True"}},
        {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "MessagesTable", "Replacement": "False"}},
    ]
    found = stack.risky(changes, ["ChatsTable", "MailBucket", "MessagesTable"])
    assert [line.split()[1] for line in found] == ["ChatsTable", "MailBucket"]


def test_the_stack_is_created_then_updated_through_change_sets():
    """The thin CloudFormation layer, on a plain template (moto cannot run the SAM transform)."""
    plain: dict[str, Any] = {
        "Parameters": {"AlarmEmail": {"Type": "String", "Default": ""}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    }
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        cfn = boto3.client("cloudformation", region_name=REGION)
        bucket = stack.artifacts_bucket(s3, "123456789012", REGION)

        def deploy(template: dict[str, Any]) -> tuple[str, str]:
            key = stack.put_artifact(s3, bucket, "charla-prod", json.dumps(template).encode(), ".json")
            out = io.StringIO()
            outcome = stack.deploy(
                cfn,
                "charla-prod",
                stack.template_url(bucket, key, REGION),
                {},
                ["AlarmEmail"],
                [],
                Progress(1, out),
                poll=0,
            )
            return outcome, out.getvalue()

        outcome, printed = deploy(plain)
        assert outcome == "created"
        assert "Add     Queue AWS::SQS::Queue" in printed and "CREATE_COMPLETE" in printed
        plain["Resources"]["DeadLetters"] = {"Type": "AWS::SQS::Queue"}
        outcome, printed = deploy(plain)
        assert outcome == "updated"
        assert "Add     DeadLetters" in printed
        assert "CREATE_COMPLETE" not in printed  # only this deploy's events are shown
        assert stack.describe(cfn, "charla-prod")["StackStatus"] == "UPDATE_COMPLETE"


# --- destroy -----------------------------------------------------------------------------------


def test_delete_data_needs_a_terminal_or_yes():
    with pytest.raises(PermissionError):
        stack.confirm_delete_data("charla-prod", yes=False, interactive=False, ask=lambda _: "charla-prod")
    assert stack.confirm_delete_data("charla-prod", yes=True, interactive=False, ask=lambda _: "")
    assert not stack.confirm_delete_data("charla-prod", yes=False, interactive=True, ask=lambda _: "yes")
    assert stack.confirm_delete_data("charla-prod", yes=False, interactive=True, ask=lambda _: "charla-prod\n")


def test_the_destroy_command_refuses_delete_data_without_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("charla-prod\n"))  # piped: not a terminal

    def no_aws(region):
        raise AssertionError("nothing may be touched before the confirmation")

    monkeypatch.setattr(cli, "_session", no_aws)
    assert cli.main(["destroy", "--stage", "prod", "--delete-data"]) == 2
    assert "--yes" in capsys.readouterr().err


STACK = {
    "Resources": {
        "ChatsTable": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "TableName": "charla-prod-chats",
                "BillingMode": "PAY_PER_REQUEST",
                "DeletionProtectionEnabled": True,
                "AttributeDefinitions": [{"AttributeName": "chat_id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "chat_id", "KeyType": "HASH"}],
            },
        },
        "MailBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
        },
        "WidgetBucket": {"Type": "AWS::S3::Bucket"},
    },
}


@pytest.fixture
def deployed() -> Any:
    """A moto stack with a retained table, a retained versioned bucket and an asset bucket, all filled."""
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name=REGION)
        s3 = boto3.client("s3", region_name=REGION)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        idp = boto3.client("cognito-idp", region_name=REGION)
        cfn.create_stack(StackName="charla-prod", TemplateBody=json.dumps(STACK))
        names = {r[0]: r[2] for r in stack.stack_resources(cfn, "charla-prod")}
        for bucket in (names["MailBucket"], names["WidgetBucket"]):
            s3.put_object(Bucket=bucket, Key="inbound/1", Body=b"one")
            s3.put_object(Bucket=bucket, Key="inbound/1", Body=b"two")
        dynamodb.put_item(TableName="charla-prod-chats", Item={"chat_id": {"S": "c1"}})
        clients = {"cfn": cfn, "s3": s3, "dynamodb": dynamodb, "idp": idp}
        yield clients, names


def _buckets(s3: Any) -> set[str]:
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_destroy_removes_the_stack_and_keeps_the_data(deployed):
    clients, names = deployed
    out = io.StringIO()
    kept = stack.destroy("charla-prod", **clients, delete=False, progress=Progress(4, out), poll=0)
    assert {k[0] for k in kept} == {"ChatsTable", "MailBucket"}
    assert stack.describe(clients["cfn"], "charla-prod") is None
    assert clients["dynamodb"].get_item(TableName="charla-prod-chats", Key={"chat_id": {"S": "c1"}})["Item"]
    assert names["MailBucket"] in _buckets(clients["s3"])
    assert names["WidgetBucket"] not in _buckets(clients["s3"])
    assert "kept ChatsTable" in out.getvalue()


def test_destroy_with_delete_data_removes_tables_and_buckets_even_protected_and_versioned(deployed):
    clients, names = deployed
    stack.destroy("charla-prod", **clients, delete=True, progress=Progress(4, io.StringIO()), poll=0)
    assert "charla-prod-chats" not in clients["dynamodb"].list_tables()["TableNames"]
    assert not {names["MailBucket"], names["WidgetBucket"]} & _buckets(clients["s3"])


def test_delete_data_removes_the_user_pool():
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name=REGION)
        pool = idp.create_user_pool(PoolName="charla-prod-agents")["UserPool"]["Id"]
        stack.delete_data(
            [("UserPool", "AWS::Cognito::UserPool", pool)],
            s3=None,
            dynamodb=None,
            idp=idp,
            progress=Progress(1, io.StringIO()),
        )
        assert idp.list_user_pools(MaxResults=10)["UserPools"] == []


def test_the_stage_must_fit_the_stacks_bucket_names():
    assert stack.stack_name("prod") == "charla-prod"
    assert stack.stack_name("eu-2") == "charla-eu-2"
    # "<stack>-attachments-<12-digit account>-<longest region>" must stay within S3's 63 characters.
    longest = f"{stack.stack_name('a' * 16)}-attachments-123456789012-ap-southeast-2"
    assert len(longest) <= 63
    for bad in ("Prod", "", "-prod", "prod-", "a" * 17, "prod_1", "prod.eu"):
        with pytest.raises(ValueError):
            stack.stack_name(bad)
