"""The one CloudFormation template `deploy` creates: cfn-lint-clean as written and as CloudFormation
expands it, tables from the models, and the properties an operator trusts it for (private buckets,
narrow IAM, retained data, alarms that cost nothing by default, logs).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore import xform_name
from botocore.session import Session

from functions import models
from functions.admin import outbound
from infra.aws import sam, tables, template

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "charla-prod"
DOCUMENTED_TABLES = {
    "chats",
    "messages",
    "message-keys",
    "connections",
    "connect-tickets",
    "agents",
    "visitors",
    "tickets",
    "ticket-events",
    "settings",
}
CHALICE_FUNCTIONS = {
    "APIHandler",
    "WebsocketConnect",
    "WebsocketMessage",
    "WebsocketDisconnect",
    "Sweep",
    "InboundMail",
    "DrainJobQueue",
}
APP_ENV = (
    "CHARLA_TABLE_PREFIX",
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_USER_POOL_ARN",
    "WS_MANAGEMENT_URL",
    "ATTACHMENTS_BUCKET",
    "MAIL_BUCKET",
    "WEBHOOK_QUEUE_URL",
    "AGENT_NOTICE_QUEUE_URL",
    "JOB_QUEUE_NAME",
)
FUNCTIONS_DIR = ROOT / "functions"


# --- tables from the models (fast: no packaging) ----------------------------------------------


def _key(schema: list[dict[str, str]], kind: str) -> str | None:
    return next((k["AttributeName"] for k in schema if k["KeyType"] == kind), None)


@pytest.mark.parametrize("model", models.ALL_MODELS, ids=lambda m: m.__name__)
def test_each_model_is_a_table_with_the_same_keys_indexes_and_ttl(model):
    table = tables.resources(PREFIX)[tables.logical_id(model)]
    props = table["Properties"]
    assert props["TableName"] == f"{PREFIX}-{tables.suffix(model)}"
    assert _key(props["KeySchema"], "HASH") == model._hash_keyname
    assert _key(props["KeySchema"], "RANGE") == model._range_keyname
    assert props["KeySchema"][0]["KeyType"] == "HASH"

    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.Meta.index_name for index in model._indexes.values()}
    for index in model._indexes.values():
        cfn = indexes[index.Meta.index_name]
        attributes = index.Meta.attributes.values()
        assert _key(cfn["KeySchema"], "HASH") == next(a.attr_name for a in attributes if a.is_hash_key)
        range_key = next((a.attr_name for a in attributes if a.is_range_key), None)
        assert _key(cfn["KeySchema"], "RANGE") == range_key
        assert cfn["Projection"]["ProjectionType"] == index.Meta.projection.projection_type

    # Every key attribute is defined with the model's type, and nothing else is (CloudFormation
    # rejects a definition no key uses).
    keys = {k["AttributeName"] for k in props["KeySchema"]}
    keys |= {k["AttributeName"] for i in indexes.values() for k in i["KeySchema"]}
    definitions = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    assert set(definitions) == keys
    for name, kind in definitions.items():
        assert kind == model._attributes[model._dynamo_to_python_attr(name)].attr_type

    ttl = model._ttl_attribute()
    if ttl is None:
        assert "TimeToLiveSpecification" not in props
    else:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl.attr_name, "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_every_documented_table_is_in_the_stack():
    assert DOCUMENTED_TABLES <= {tables.suffix(m) for m in models.ALL_MODELS}


# --- the merged template (builds the package twice, about 2 s) --------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> template.Package:
    return template.build("prod", tmp_path_factory.mktemp("aws"))


@pytest.fixture(scope="module")
def resources(built) -> dict[str, Any]:
    return built.template["Resources"]


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


@pytest.mark.slow
def test_the_merged_template_holds_every_table_of_the_models(resources):
    in_stack = {r["Properties"]["TableName"] for r in _of_type(resources, "AWS::DynamoDB::Table").values()}
    assert in_stack == {f"{PREFIX}-{tables.suffix(m)}" for m in models.ALL_MODELS}


@pytest.mark.slow
def test_every_function_gets_the_app_environment_a_log_group_and_alarms(built, resources):
    functions = _of_type(resources, "AWS::Serverless::Function")
    assert CHALICE_FUNCTIONS <= set(functions)
    ws_stage = resources["WebsocketAPIStage"]["Properties"]["StageName"]
    for name, function in functions.items():
        env = function["Properties"]["Environment"]["Variables"]
        assert set(APP_ENV) <= set(env), name
        assert outbound.LOOPBACK_SETTING not in env, name  # webhooks to loopback: the local stack only
        assert env["CHARLA_TABLE_PREFIX"] == PREFIX
        assert env["COGNITO_USER_POOL_ARN"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
        assert env["WS_MANAGEMENT_URL"]["Fn::Sub"].startswith("https://${WebsocketAPI}.execute-api.")
        assert env["WS_MANAGEMENT_URL"]["Fn::Sub"].endswith(f"/{ws_stage}")

        log_group = resources[f"{name}LogGroup"]["Properties"]
        assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert log_group["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{name}"}
        assert function["Properties"]["FunctionName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}

        for metric in ("Errors", "Throttles"):
            alarm = resources[f"{name}{metric}Alarm"]["Properties"]
            assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", metric)
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": name}}]
            assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.slow
def test_the_cognito_authorizer_uses_the_stacks_own_pool(built, resources):
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = body["securityDefinitions"]["charla-agents"]["x-amazon-apigateway-authorizer"]
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    assert "userpool/unset" not in built.template_path.read_text()
    groups = {g["Properties"]["GroupName"] for g in _of_type(resources, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"admin", "agent"}
    client = resources["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]


@pytest.mark.slow
def test_asset_buckets_are_private_and_read_only_by_the_distribution(resources):
    distribution = resources["Distribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in distribution["Origins"]}
    for bucket, origin in (("WidgetBucket", "widget"), ("ConsoleBucket", "console")):
        props = resources[bucket]["Properties"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        assert "WebsiteConfiguration" not in props
        assert origins[origin]["OriginAccessControlId"] == {"Fn::GetAtt": ["AssetsOriginAccess", "Id"]}
        assert origins[origin]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
        policy = resources[f"{bucket}Policy"]["Properties"]["PolicyDocument"]["Statement"]
        allows = [s for s in policy if s["Effect"] == "Allow"]
        assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
        assert "${Distribution}" in allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    for bucket in ("AttachmentsBucket", "MailBucket"):
        assert set(resources[bucket]["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}
    assert not _of_type(resources, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    access = resources["AssetsOriginAccess"]["Properties"]["OriginAccessControlConfig"]
    assert access["SigningBehavior"] == "always"


@pytest.mark.slow
def test_cloudfront_serves_the_console_widget_and_rest_api(resources):
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "console"
    assert behaviours["/widget/*"]["TargetOriginId"] == "widget"
    assert behaviours["/api/*"]["TargetOriginId"] == "rest"
    # The path is forwarded unchanged, so the REST API's stage must be called "api".
    assert resources["RestAPI"]["Properties"]["StageName"] == "api"
    for behaviour in [config["DefaultCacheBehavior"], *behaviours.values()]:
        assert behaviour["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only")
    # The console's CSP: no inline script, and it may reach its WebSocket API and attachments.
    headers = resources["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "wss://${WebsocketAPI}." in csp
    for name in ("img-src", "connect-src"):
        sources = re.search(rf"{name} ([^;]*);", csp).group(1).split()
        assert f"https://{template.ATTACHMENTS_BUCKET_NAME}.s3.${{AWS::Region}}.${{AWS::URLSuffix}}" in sources
        assert f"https://{template.ATTACHMENTS_BUCKET_NAME}.s3.${{AWS::URLSuffix}}" in sources
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": "ConsoleHeaders"}


def _policy_documents(resources: dict[str, Any]):
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            for policy in props.get("Policies", []):
                yield name, policy["PolicyDocument"]
        if "PolicyDocument" in props:
            yield name, props["PolicyDocument"]


def _statements(document: dict[str, Any]):
    for statement in document["Statement"]:
        if "Fn::If" in statement:  # optional statements: check the branch that is a statement
            yield from (s for s in statement["Fn::If"][1:] if "Effect" in s)
        else:
            yield statement


# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonses.html: no resource type.
ACCOUNT_LEVEL_READS = {"ses:GetSendQuota"}


@pytest.mark.slow
def test_no_policy_allows_every_resource_and_the_role_cannot_scan(resources):
    documents = list(_policy_documents(resources))
    assert {name for name, _ in documents} >= {"DefaultRole", "WidgetBucketPolicy", "MailBucketPolicy"}
    for name, document in documents:
        for statement in _statements(document):
            if statement["Effect"] != "Allow":
                continue
            targets = statement["Resource"]
            targets = targets if isinstance(targets, list) else [targets]
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            # Account-level reads with no resource type take only "*"; nothing else may.
            assert "*" not in targets or set(actions) <= ACCOUNT_LEVEL_READS, (name, statement)
            for target in targets:
                text = json.dumps(target)
                assert "arn:*" not in text and ":*:*:*" not in text, (name, statement)
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a.endswith(":*") or a == "*" for a in actions), (name, statement)
            assert "dynamodb:Scan" not in actions


@pytest.mark.slow
def test_the_role_reaches_only_this_stacks_tables_and_websocket_api(resources):
    statements = {
        s.get("Sid"): s for s in _statements(resources["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"])
    }
    table_ids = set(_of_type(resources, "AWS::DynamoDB::Table"))
    granted = {t["Fn::GetAtt"][0] for t in statements["Tables"]["Resource"] if "Fn::GetAtt" in t}
    assert granted == table_ids
    assert "${WebsocketAPI}/api/*/@connections/*" in statements["PushToConnections"]["Resource"]["Fn::Sub"]


@pytest.mark.slow
def test_data_outlives_the_stack_and_the_rest_does_not(built, resources):
    kept = set(template.retained(built.template))
    assert kept == set(_of_type(resources, "AWS::DynamoDB::Table")) | {"AttachmentsBucket", "MailBucket", "UserPool"}
    for name in kept:
        assert resources[name]["UpdateReplacePolicy"] == "Retain"
    assert resources["WidgetBucket"]["DeletionPolicy"] == "Delete"


@pytest.mark.slow
def test_alarms_cover_lambda_dynamodb_and_the_dead_letter_queue(resources):
    alarms = _of_type(resources, "AWS::CloudWatch::Alarm")
    for table in _of_type(resources, "AWS::DynamoDB::Table"):
        metrics = alarms[f"{table}ThrottlesAlarm"]["Properties"]["Metrics"]
        names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics if "MetricStat" in m}
        assert names == {"ReadThrottleEvents", "WriteThrottleEvents"}
        indexes = [i["IndexName"] for i in resources[table]["Properties"].get("GlobalSecondaryIndexes", [])]
        dimensions = [d for m in metrics if "MetricStat" in m for d in m["MetricStat"]["Metric"]["Dimensions"]]
        covered = {d["Value"] for d in dimensions if d["Name"] == "GlobalSecondaryIndexName"}
        assert covered == set(indexes)
        assert len(metrics) <= 10  # CloudWatch's limit of metrics in one alarm
    dead = alarms["JobDeadLettersAlarm"]["Properties"]
    assert dead["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["JobDeadLetterQueue", "QueueName"]}
    queue = resources["JobQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["JobDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }


# --- the alarms an installation gets by default, and with DetailedAlarms=true ------------------


def _holds(doc: dict[str, Any], condition: str, params: dict[str, str]) -> bool:
    """A template condition, evaluated as CloudFormation does for the given parameter values."""

    def value(expr: Any) -> Any:
        if not isinstance(expr, dict):
            return expr
        [(fn, arg)] = expr.items()
        if fn == "Ref":
            return params.get(arg, doc["Parameters"][arg].get("Default"))
        if fn == "Condition":
            return value(doc["Conditions"][arg])
        if fn == "Fn::Equals":
            return value(arg[0]) == value(arg[1])
        if fn == "Fn::Not":
            return not value(arg[0])
        if fn == "Fn::And":
            return all(value(a) for a in arg)
        if fn == "Fn::Or":
            return any(value(a) for a in arg)
        raise AssertionError(f"unexpected {fn} in a condition")

    return bool(value(doc["Conditions"][condition]))


def _deployed_alarms(doc: dict[str, Any], **params: str) -> dict[str, dict[str, Any]]:
    return {
        name: r["Properties"]
        for name, r in doc["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and ("Condition" not in r or _holds(doc, r["Condition"], params))
    }


def _watched(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads: what CloudWatch bills."""
    if "Metrics" not in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])})]
    return [
        (
            m["MetricStat"]["Metric"]["Namespace"],
            m["MetricStat"]["Metric"]["MetricName"],
            {d["Name"]: d["Value"] for d in m["MetricStat"]["Metric"].get("Dimensions", [])},
        )
        for m in alarm["Metrics"]
        if "MetricStat" in m
    ]


def _lambda_watch(alarms: dict[str, dict[str, Any]], metric: str, function: str) -> bool:
    # No FunctionName dimension is Lambda's total over every function of the region.
    mine = {"Ref": function}
    return any(
        ns == "AWS/Lambda" and name == metric and dims.get("FunctionName", mine) == mine
        for alarm in alarms.values()
        for ns, name, dims in _watched(alarm)
    )


@pytest.mark.slow
def test_the_default_alarms_fit_cloudwatchs_ten_free_alarm_metrics(built):
    alarms = _deployed_alarms(built.template)
    metrics = sum(len(_watched(a)) for a in alarms.values())
    assert metrics <= 10, f"{metrics} alarm metrics by default: ${(metrics - 10) / 10:.2f} a month while idle"
    # What `make template` prints is that number.
    assert template.alarm_metrics(built.template) == (len(alarms), metrics)
    parameter = built.template["Parameters"]["DetailedAlarms"]
    assert parameter["Default"] == "false" and parameter["AllowedValues"] == ["false", "true"]


@pytest.mark.slow
def test_the_default_alarms_still_page_on_errors_throttles_and_dead_letters(built, resources):
    alarms = _deployed_alarms(built.template)
    for function in _of_type(resources, "AWS::Serverless::Function"):
        assert _lambda_watch(alarms, "Errors", function), function
        assert _lambda_watch(alarms, "Throttles", function), function
    throttles = {
        (dims["TableName"]["Ref"], dims.get("GlobalSecondaryIndexName"))
        for a in alarms.values()
        for ns, name, dims in _watched(a)
        if (ns, name) == ("AWS/DynamoDB", "WriteThrottleEvents")
    }
    # The partitions "Scaling on paper" (docs/operations.md) says fill first: every message moves
    # open_index, every ping live_index, every page view online_index.
    assert {
        ("ChatsTable", None),
        ("ChatsTable", "open_index"),
        ("ConnectionsTable", "live_index"),
        ("VisitorsTable", "online_index"),
    } <= throttles
    tables_ = _of_type(resources, "AWS::DynamoDB::Table")
    for table, index in throttles:
        indexes = {i["IndexName"] for i in tables_[table]["Properties"].get("GlobalSecondaryIndexes", [])}
        assert index is None or index in indexes
    assert any(
        ns == "AWS/SQS" and dims == {"QueueName": {"Fn::GetAtt": ["JobDeadLetterQueue", "QueueName"]}}
        for a in alarms.values()
        for ns, _, dims in _watched(a)
    )
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.slow
def test_detailed_alarms_restore_an_alarm_per_function_and_per_table(built, resources):
    alarms = _deployed_alarms(built.template, DetailedAlarms="true")
    functions = _of_type(resources, "AWS::Serverless::Function")
    per_function = {
        (dims["FunctionName"]["Ref"], name)
        for a in alarms.values()
        for ns, name, dims in _watched(a)
        if ns == "AWS/Lambda" and "FunctionName" in dims
    }
    assert per_function == {(f, m) for f in functions for m in ("Errors", "Throttles")}
    # Lambda's regional totals are off then: in a shared account they would page for others' functions.
    assert all("FunctionName" in dims for a in alarms.values() for ns, _, dims in _watched(a) if ns == "AWS/Lambda")
    tables_ = _of_type(resources, "AWS::DynamoDB::Table")
    expected = 2 * len(functions) + 1
    for table, props in tables_.items():
        indexes = {i["IndexName"] for i in props["Properties"].get("GlobalSecondaryIndexes", [])}
        watched = {
            (name, dims.get("GlobalSecondaryIndexName"))
            for a in alarms.values()
            for ns, name, dims in _watched(a)
            if ns == "AWS/DynamoDB" and dims["TableName"] == {"Ref": table}
        }
        assert watched == (
            {("ReadThrottleEvents", None), ("WriteThrottleEvents", None)}
            | {("WriteThrottleEvents", i) for i in indexes}
        ), table
        expected += 2 + len(indexes)
    metrics = sum(len(_watched(a)) for a in alarms.values())
    assert metrics == expected
    assert metrics > sum(len(_watched(a)) for a in _deployed_alarms(built.template).values())
    assert template.alarm_metrics(built.template, detailed=True) == (len(alarms), metrics)


# --- the template CloudFormation expands, and the REST API's own answers -----------------------


@pytest.fixture(scope="module")
def expanded(built) -> dict[str, Any]:
    return sam.transform(built.template)


@pytest.mark.slow
def test_the_expanded_template_lints_without_errors_or_warnings(built, expanded, tmp_path):
    path = tmp_path / "transformed.json"
    path.write_text(json.dumps(expanded))
    linter = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(linter), str(built.template_path), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_expanded_template_is_plain_cloudformation_with_the_placeholder_code(built, expanded):
    # The build writes it beside sam.json, and `make template` lints that file.
    assert json.loads(built.transformed_path.read_text()) == expanded
    types = {r["Type"] for r in expanded["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Serverless::")}
    assert "Transform" not in expanded
    codes = {
        json.dumps(r["Properties"]["Code"], sort_keys=True)
        for r in expanded["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert codes == {json.dumps({"S3Bucket": sam.PLACEHOLDER_BUCKET, "S3Key": sam.PLACEHOLDER_KEY}, sort_keys=True)}


@pytest.mark.slow
def test_the_gateways_own_answers_are_deployed_with_the_api_and_readable_cross_origin(built, expanded):
    # A GatewayResponse resource beside the SAM-managed API is not part of its deployments.
    assert not _of_type(built.template["Resources"], "AWS::ApiGateway::GatewayResponse")
    assert not _of_type(expanded["Resources"], "AWS::ApiGateway::GatewayResponse")
    [body] = [r["Properties"]["Body"] for r in _of_type(expanded["Resources"], "AWS::ApiGateway::RestApi").values()]
    responses = body["x-amazon-apigateway-gateway-responses"]
    unauthorized = responses["UNAUTHORIZED"]
    assert unauthorized["statusCode"] == "401"
    assert json.loads(unauthorized["responseTemplates"]["application/json"]) == {
        "Code": "unauthorized",
        "Message": "Unauthorized",
    }
    # The widget runs on other origins: without this header the browser hides the status from it.
    for kind in ("UNAUTHORIZED", "DEFAULT_4XX", "DEFAULT_5XX"):
        assert responses[kind]["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        assert "application/json" in responses[kind]["responseTemplates"]


@pytest.mark.slow
def test_changing_a_gateway_response_redeploys_the_rest_api(built, expanded):
    def deployment(doc: dict[str, Any]) -> str:
        [name] = _of_type(doc["Resources"], "AWS::ApiGateway::Deployment")
        [stage] = _of_type(doc["Resources"], "AWS::ApiGateway::Stage").values()
        assert stage["Properties"]["DeploymentId"] == {"Ref": name}
        return name

    changed = json.loads(json.dumps(built.template))
    responses = changed["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    responses["UNAUTHORIZED"]["ResponseTemplates"]["application/json"] = '{"Code": "unauthorized", "Message": "No"}'
    assert deployment(sam.transform(changed)) != deployment(expanded)


@pytest.mark.slow
def test_the_template_names_no_path_of_the_machine_it_was_built_on(built):
    text = built.template_path.read_text()
    assert str(ROOT) not in text and str(built.directory) not in text
    assert {
        r["Properties"]["CodeUri"] for r in _of_type(built.template["Resources"], "AWS::Serverless::Function").values()
    } == {"./deployment.zip"}


# --- what the code calls, against what the role allows (fast: no packaging) --------------------

# An operation's IAM action, where it is not `<service>:<Operation>`.
IAM_ACTION = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "CopyObject"): "s3:PutObject",  # and s3:GetObject on the source, granted on chats/
    ("sqs", "SendMessageBatch"): "sqs:SendMessage",
    ("apigatewaymanagementapi", "PostToConnection"): "execute-api:ManageConnections",
    ("apigatewaymanagementapi", "DeleteConnection"): "execute-api:ManageConnections",
}
# Called with the agent's own password or tokens, never the role's credentials.
NO_IAM = {
    ("cognito-idp", "InitiateAuth"),
    ("cognito-idp", "RespondToAuthChallenge"),
    ("cognito-idp", "ChangePassword"),
    ("cognito-idp", "RevokeToken"),
    ("cognito-idp", "AssociateSoftwareToken"),
    ("cognito-idp", "VerifySoftwareToken"),
    ("cognito-idp", "SetUserMFAPreference"),
}
# Granted though no line of functions/ calls them, each for a stated reason.
NOT_CALLED_BUT_NEEDED = {
    "sqs:ReceiveMessage": "Lambda's SQS poller acts with the function's role",
    "sqs:DeleteMessage": "Lambda's SQS poller acts with the function's role",
    "sqs:GetQueueAttributes": "Lambda's SQS poller acts with the function's role",
    "sqs:ChangeMessageVisibility": "Lambda's SQS poller acts with the function's role",
}


def client_calls() -> set[tuple[str, str]]:
    """(service, Operation) for each AWS API functions/ calls through `aws.client("...")`.

    Static: the services are the literal names given to aws.client, and a call is any `.op(`,
    `get_paginator("op")` or `generate_presigned_url("op")` whose name is an operation of one of
    them (botocore's own list), whoever holds the client (idp.client(), fanout._client(), ...).
    """
    sources = [p.read_text() for p in sorted(FUNCTIONS_DIR.rglob("*.py"))]
    services = {s for text in sources for s in re.findall(r'aws\.client\(\s*"([\w-]+)"', text)}
    session = Session()
    operations: dict[str, set[tuple[str, str]]] = {}
    for service in services:
        for operation in session.get_service_model(service).operation_names:
            operations.setdefault(xform_name(operation), set()).add((service, operation))
    calls: set[tuple[str, str]] = set()
    for text in sources:
        names = re.findall(r"\.(\w+)\(", text)
        names += re.findall(r'(?:get_paginator|generate_presigned_url)\(\s*"(\w+)"', text)
        for name in names:
            calls |= operations.get(name, set())
        if "generate_presigned_post(" in text:  # the browser's upload is a PutObject
            calls.add(("s3", "PutObject"))
    return calls


def iam_action(service: str, operation: str) -> str:
    return IAM_ACTION.get((service, operation), f"{service}:{operation}")


def _role_statements() -> list[dict[str, Any]]:
    document = template.role_policy(["APIHandler"], ["ChatsTable"], "api")[0]["PolicyDocument"]
    return list(_statements(document))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_scan_finds_the_calls_of_every_feature():
    calls = client_calls()
    # Spot checks that the scan itself works: one call of each service and feature.
    assert {
        ("cognito-idp", "AdminCreateUser"),
        ("cognito-idp", "AdminUserGlobalSignOut"),
        ("s3", "PutObjectTagging"),
        ("s3", "HeadObject"),
        ("sqs", "SendMessageBatch"),
        ("ses", "SendRawEmail"),
        ("apigatewaymanagementapi", "PostToConnection"),
    } <= calls
    assert {service for service, _ in calls} == {"cognito-idp", "s3", "sqs", "ses", "apigatewaymanagementapi"}


def test_the_role_allows_every_aws_call_of_the_code_and_nothing_uncalled():
    calls = client_calls()
    needed = {iam_action(*call) for call in calls if call not in NO_IAM}
    granted = {a for s in _role_statements() if s["Effect"] == "Allow" for a in _as_list(s["Action"])}
    assert needed - granted == set(), "calls the role does not allow"
    # Besides tables and logs (their own tests), what is granted is called or explained.
    extra = {a for a in granted if not a.startswith(("dynamodb:", "logs:"))} - needed
    assert extra == set(NOT_CALLED_BUT_NEEDED), "granted but never called"
    assert not NO_IAM & {tuple(a.split(":")) for a in granted}


def test_each_aws_permission_is_on_this_stacks_resource_only():
    statements = {s["Sid"]: s for s in _role_statements()}
    mail = f"arn:${{AWS::Partition}}:s3:::{template.MAIL_BUCKET_NAME}"
    attachments = f"arn:${{AWS::Partition}}:s3:::{template.ATTACHMENTS_BUCKET_NAME}"
    assert statements["Attachments"]["Resource"] == {"Fn::Sub": f"{attachments}/tickets/*"}
    assert statements["ChatFiles"]["Resource"] == {"Fn::Sub": f"{attachments}/chats/*"}
    assert statements["AttachmentsNotFound"]["Resource"] == {"Fn::Sub": attachments}
    assert statements["InboundMail"]["Resource"] == {"Fn::Sub": f"{mail}/inbound/*"}
    # DeleteObject: erasure takes the raw mail too (functions/visitors/data_requests.py).
    assert set(statements["InboundMail"]["Action"]) == {"s3:GetObject", "s3:PutObjectTagging", "s3:DeleteObject"}
    assert statements["JobSend"]["Resource"] == {"Fn::GetAtt": ["JobQueue", "Arn"]}
    assert statements["QueueConsume"]["Resource"] == {"Fn::GetAtt": ["JobQueue", "Arn"]}
    assert statements["ManageAgents"]["Resource"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert all(
        a.startswith("cognito-idp:Admin") or a == "cognito-idp:ListUsers" for a in statements["ManageAgents"]["Action"]
    )
    send_mail = next(
        s["Fn::If"] for s in template.role_policy([], [], "api")[0]["PolicyDocument"]["Statement"] if "Fn::If" in s
    )
    assert send_mail[0] == "HasMailDomain" and send_mail[2] == {"Ref": "AWS::NoValue"}
    assert set(send_mail[1]["Action"]) == {"ses:SendEmail", "ses:SendRawEmail"}
    assert send_mail[1]["Resource"]["Fn::Sub"].endswith(":identity/${MailDomain}")


def test_the_attachment_key_prefix_is_the_one_the_role_allows():
    from functions.helpdesk import attachments

    assert attachments.key("t_1", "a_2").startswith(template.ATTACHMENT_PREFIX)


def test_the_chat_file_key_prefix_is_the_one_the_role_allows():
    from functions.chat import files

    assert files.key("c_1", "f_2").startswith(template.CHAT_FILE_PREFIX)


def test_the_data_buckets_are_named_as_the_template_module_names_them():
    resources = template.load_resources()["Resources"]
    assert resources["AttachmentsBucket"]["Properties"]["BucketName"] == {"Fn::Sub": template.ATTACHMENTS_BUCKET_NAME}
    assert resources["MailBucket"]["Properties"]["BucketName"] == {"Fn::Sub": template.MAIL_BUCKET_NAME}
    rule = resources["MailReceiptRule"]["Properties"]["Rule"]
    assert rule["Actions"][0]["S3Action"]["ObjectKeyPrefix"] == template.INBOUND_MAIL_PREFIX


def test_resources_yaml_is_plain_yaml():
    assert yaml.safe_load(template.RESOURCES.read_text())["Resources"]


# --- inbound mail, webhooks and the attachments' CORS in the merged template ------------------


@pytest.mark.slow
def test_the_mail_bucket_invokes_inbound_mail_without_a_dependency_cycle(resources):
    bucket = resources["MailBucket"]
    notifications = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert notifications == [
        {
            "Event": "s3:ObjectCreated:*",
            "Function": {"Fn::GetAtt": ["InboundMail", "Arn"]},
            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "inbound/"}]}},
        }
    ]
    assert bucket["DependsOn"] == "InboundMailS3Permission"
    permission = resources["InboundMailS3Permission"]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    # The name, not Ref/GetAtt of the bucket: the bucket depends on the permission.
    assert permission["SourceArn"] == {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{template.MAIL_BUCKET_NAME}"}
    assert "MailBucket" not in json.dumps(permission)
    env = resources["InboundMail"]["Properties"]["Environment"]["Variables"]
    assert env["MAIL_BUCKET"] == {"Fn::Sub": template.MAIL_BUCKET_NAME}
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireRawMail"]["Prefix"] == "inbound/"
    assert rules["ExpireRawMail"]["ExpirationInDays"] == 90


@pytest.mark.slow
def test_ses_receives_mail_for_the_mail_domain_into_the_bucket(resources):
    rule_set, rule = resources["MailReceiptRuleSet"], resources["MailReceiptRule"]
    assert rule_set["Condition"] == rule["Condition"] == "HasMailDomain"
    assert rule["DependsOn"] == "MailBucketPolicy"  # SES checks its write access when the rule is made
    props = rule["Properties"]
    assert props["RuleSetName"] == {"Ref": "MailReceiptRuleSet"}
    assert props["Rule"]["Recipients"] == [{"Ref": "MailDomain"}]
    assert props["Rule"]["Enabled"] is True and props["Rule"]["ScanEnabled"] is True
    assert props["Rule"]["Actions"] == [
        {"S3Action": {"BucketName": {"Ref": "MailBucket"}, "ObjectKeyPrefix": "inbound/"}}
    ]
    statements = resources["MailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    ses = next(s for s in statements if s.get("Principal") == {"Service": "ses.amazonaws.com"})
    assert ses["Action"] == "s3:PutObject"
    assert ses["Resource"] == {"Fn::Sub": "${MailBucket.Arn}/inbound/*"}
    assert ses["Condition"]["StringEquals"] == {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
    rule_set_name = rule_set["Properties"]["RuleSetName"]["Fn::Sub"]
    assert (
        f":receipt-rule-set/{rule_set_name}:receipt-rule/*"
        in ses["Condition"]["StringLike"]["AWS:SourceArn"]["Fn::Sub"]
    )


@pytest.mark.slow
def test_one_event_source_drains_the_stacks_own_job_queue_in_batching_windows(resources):
    """An event source is polled even while its queue is empty, so there is one (functions/api/queued_jobs.py).
    One frame per agent connection per drain (functions/realtime/agent_notices.py) holds only if Lambda
    gathers notices for a window and runs few drains at once."""
    sources = {
        name: event
        for name, r in _of_type(resources, "AWS::Serverless::Function").items()
        for event in r["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    }
    assert sorted(sources) == ["DrainJobQueue"]
    properties = sources["DrainJobQueue"]["Properties"]
    assert properties["Queue"] == {"Fn::Sub": "${JobQueue.Arn}"}
    assert properties["MaximumBatchingWindowInSeconds"] >= 1  # required for a batch of more than 10
    assert properties["BatchSize"] > 10
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 2}
    env = resources["DrainJobQueue"]["Properties"]["Environment"]["Variables"]
    assert env["WEBHOOK_QUEUE_URL"] == env["AGENT_NOTICE_QUEUE_URL"] == {"Ref": "JobQueue"}
    assert env["JOB_QUEUE_NAME"] == {"Fn::GetAtt": ["JobQueue", "QueueName"]}
    # Lambda's visibility advice: at least six times the consumer's timeout.
    timeout = resources["DrainJobQueue"]["Properties"]["Timeout"]
    assert resources["JobQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout
    queues = _of_type(resources, "AWS::SQS::Queue")
    assert sorted(queues) == ["JobDeadLetterQueue", "JobQueue"]


@pytest.mark.slow
def test_only_the_console_may_read_attachment_uploads_and_downloads(resources):
    cors = resources["AttachmentsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert len(cors) == 1
    assert sorted(cors[0]["AllowedMethods"]) == ["GET", "POST"]
    origins = cors[0]["AllowedOrigins"]
    assert origins[0] == {"Fn::Sub": "https://${Distribution.DomainName}"}
    assert origins[1] == {"Fn::If": ["HasDomain", {"Fn::Sub": "https://${DomainName}"}, {"Ref": "AWS::NoValue"}]}
    assert "*" not in json.dumps(origins)


@pytest.mark.slow
def test_an_optional_waf_rule_limits_the_rest_stage_per_viewer_and_costs_nothing_when_off(built, resources):
    parameter = built.template["Parameters"]["EdgeRateLimit"]
    assert (parameter["Type"], parameter["Default"]) == ("Number", 0)
    waf = {"ApiViewerAddress", "ApiFirewall", "ApiFirewallAssociation"}
    assert {n for n, r in resources.items() if r["Type"].startswith("AWS::WAFv2::")} == waf - {"ApiViewerAddress"}
    for name in waf:  # nothing of it exists (or is billed) unless the parameter is set
        assert resources[name]["Condition"] == "HasEdgeRateLimit"
    assert built.template["Conditions"]["HasEdgeRateLimit"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "EdgeRateLimit"}, "0"]}]
    }

    association = resources["ApiFirewallAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiFirewall", "Arn"]}
    assert "/restapis/${RestAPI}/stages/" in association["ResourceArn"]["Fn::Sub"]

    acl = resources["ApiFirewall"]["Properties"]
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    assert json.loads(acl["CustomResponseBodies"]["rate_limited"]["Content"])["Code"] == "rate_limited"
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    assert set(rules) == {"per-viewer", "direct"}
    for rule in rules.values():
        statement = rule["Statement"]["RateBasedStatement"]
        assert statement["Limit"] == {"Ref": "EdgeRateLimit"} and statement["EvaluationWindowSec"] == 300
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        # WAF answers past the app: without the CORS header a widget on another origin can't read the 429.
        assert {"Name": "Access-Control-Allow-Origin", "Value": "*"} in response["ResponseHeaders"]
        # A blocked preflight would fail the real request as a network error: preflights are never in scope.
        scope = statement["ScopeDownStatement"]["AndStatement"]["Statements"]
        assert {
            "NotStatement": {
                "Statement": {
                    "ByteMatchStatement": {
                        "FieldToMatch": {"Method": {}},
                        "PositionalConstraint": "EXACTLY",
                        "SearchString": "OPTIONS",
                        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                    }
                }
            }
        } in scope
    # Behind CloudFront the stage sees CloudFront's addresses: the viewer's comes in a header that
    # the distribution's function overwrites, never X-Forwarded-For, whose first entry the client writes.
    viewer = rules["per-viewer"]["Statement"]["RateBasedStatement"]
    assert viewer["AggregateKeyType"] == "FORWARDED_IP"
    assert viewer["ForwardedIPConfig"]["HeaderName"] == "x-charla-viewer-ip"
    assert rules["direct"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    code = resources["ApiViewerAddress"]["Properties"]["FunctionCode"]["Fn::Sub"][0]
    assert "request.headers['x-charla-viewer-ip'] = { value: event.viewer.ip }" in code
    api = next(
        b
        for b in resources["Distribution"]["Properties"]["DistributionConfig"]["CacheBehaviors"]
        if b["PathPattern"] == "/api/*"
    )
    [when_on, when_off] = api["FunctionAssociations"]["Fn::If"][1:]
    assert when_on[0]["FunctionARN"] == {"Fn::GetAtt": ["ApiViewerAddress", "FunctionARN"]}
    assert when_off == {"Ref": "AWS::NoValue"}


def test_the_console_client_writes_only_name_and_locale_and_the_pool_offers_totp():
    """The same pool and app client as the local stack's (infra/local/cognito.py), where tests prove them."""
    from infra.local import cognito

    declared = yaml.safe_load(template.RESOURCES.read_text())["Resources"]
    client = declared["UserPoolClient"]["Properties"]
    assert client["WriteAttributes"] == list(cognito.WRITE_ATTRIBUTES) == ["name", "locale"]
    assert client["EnableTokenRevocation"] is True
    pool = declared["UserPool"]["Properties"]
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("OPTIONAL", ["SOFTWARE_TOKEN_MFA"])
