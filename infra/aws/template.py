"""Builds Charla's one CloudFormation template with `chalice package --merge-template`.

Chalice generates the functions and both APIs; `resources.yaml` holds the hand-written resources;
this module derives the rest from code, so nothing is typed twice:

- the tables, from the PynamoDB models (tables.py);
- for every function Chalice generated: its environment, a fixed name and a log group with
  retention;
- the alarms: by default a few broad ones that fit CloudWatch's free tier, and with the
  `DetailedAlarms` parameter errors and throttles per function and throttles per table and index;
- the Lambda role's policy, narrowed to this stack's tables, buckets, queue, user pool and
  WebSocket API, with exactly the actions the code calls (tests/unit/infra/test_deploy_template.py checks
  every `aws.client(...)` call in functions/ against it);
- the Cognito authorizer, pointed at the stack's own user pool;
- the SQS event source (the job queue: webhook deliveries and the agents' notices), pointed at the
  stack's own queue;
- the REST API's gateway responses, on the SAM-managed API so that a change redeploys it.

Chalice runs twice: once to learn what it generates (function names, the WebSocket stage), then
with the merge template. Both runs take about a second once the dependency zip is cached.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.aws import sam, tables

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = Path(__file__).with_name("resources.yaml")

# No Scan: the design forbids it on every path, and the role makes that a hard rule.
# TransactWriteItems needs the per-item actions (and ConditionCheckItem) on each table.
DYNAMODB_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]

# The data buckets' names (resources.yaml sets the same BucketName). Functions, the role and the
# console's CSP use the name instead of a reference, which would close a dependency cycle: the mail
# bucket's notification invokes a function, and the attachments bucket's CORS names the distribution.
ATTACHMENTS_BUCKET_NAME = "${AWS::StackName}-attachments-${AWS::AccountId}-${AWS::Region}"
MAIL_BUCKET_NAME = "${AWS::StackName}-mail-${AWS::AccountId}-${AWS::Region}"
ATTACHMENT_PREFIX = "tickets/"  # functions/helpdesk/attachments.py key()
CHAT_FILE_PREFIX = "chats/"  # functions/chat/files.py key()
INBOUND_MAIL_PREFIX = "inbound/"  # the SES receipt rule's ObjectKeyPrefix

# Functions resources.yaml wires by logical id: it fails loudly if Chalice stops generating them.
INBOUND_MAIL_FUNCTION = "InboundMail"
# One queue for both kinds of background job: each event source is polled even while idle
# (functions/api/queued_jobs.py), so there is one.
JOB_QUEUE = "JobQueue"
# The queue each `@app.on_sqs_message` function consumes (Chalice names the function after the handler).
SQS_CONSUMERS = {"DrainJobQueue": JOB_QUEUE}

# What functions/team/user_pool.py's client is used for (members.py, revocation.py, email_change.py).
# Sign-in, token refresh and revocation, the sign-in challenges, an agent's own password change and
# TOTP set-up (sign_in.py, members.py, mfa.py) carry the user's own credentials or none: they need no
# IAM action.
COGNITO_ADMIN_ACTIONS = [
    "cognito-idp:AdminAddUserToGroup",
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminRemoveUserFromGroup",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:ListUsers",
]


# CloudWatch bills $0.10 a month per metric an alarm watches, counting each metric of a metric-math
# alarm, and gives 10 alarm metrics a month free per account (standard-resolution alarms that list
# their metrics; aws.amazon.com/cloudwatch/pricing, "Free tier"; CloudWatch User Guide, "Analyzing,
# optimizing, and reducing CloudWatch costs"). The default alarms stay within those 10, so they
# cost an idle installation nothing; the parameter turns on the full per-function and per-table set.
DETAILED_ALARMS_PARAMETER = "DetailedAlarms"
DETAILED = "DetailedAlarms"  # the condition: the parameter is "true"
SUMMARY = "SummaryAlarms"  # the condition: it is not
FREE_ALARM_METRICS = 10
PRICE_PER_ALARM_METRIC = 0.10

# Where DynamoDB throttles first (docs/operations.md, "Scaling on paper"): the writes that every
# message, ping, connect and page view make, to their tables and to the indexes whose partition
# key many items share. A GSI's throttles are not in its table's WriteThrottleEvents (they need
# the GlobalSecondaryIndexName dimension), so each index is named. Seven metrics: with Lambda's
# errors and throttles and the dead letters, the default set is exactly the free 10.
HOT_WRITES: list[tuple[str, str | None]] = [
    ("ChatsTable", None),
    ("ChatsTable", "open_index"),
    ("ChatsTable", "unanswered_index"),
    ("ConnectionsTable", None),
    ("ConnectionsTable", "live_index"),
    ("VisitorsTable", None),
    ("VisitorsTable", "online_index"),
]


@dataclass(frozen=True)
class Package:
    directory: Path
    template: dict[str, Any]

    @property
    def template_path(self) -> Path:
        return self.directory / "sam.json"

    @property
    def zip_path(self) -> Path:
        return self.directory / "deployment.zip"

    @property
    def transformed_path(self) -> Path:
        """The template as CloudFormation expands it (sam.py), for the linter: not deployed."""
        return self.directory / "transformed.json"


def _chalice() -> str:
    beside = Path(sys.executable).with_name("chalice")
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise RuntimeError("chalice is not installed: run `make` once to create the virtualenv")
    return found


def chalice_package(
    stage: str, out_dir: Path, merge_template: Path | None = None, region: str = "us-east-1"
) -> Package:
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [_chalice(), "package", "--stage", stage]
    if merge_template is not None:
        command += ["--merge-template", str(merge_template.resolve())]
    command.append(str(out_dir.resolve()))
    env = {**os.environ, "AWS_DEFAULT_REGION": region}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"chalice package failed:\n{result.stdout}{result.stderr}")
    return Package(out_dir, json.loads((out_dir / "sam.json").read_text()))


def build(stage: str, out_dir: Path, region: str = "us-east-1") -> Package:
    """The deployable package, `out_dir/package/{sam.json,deployment.zip}`, and transformed.json."""
    base = chalice_package(stage, out_dir / "base", region=region)
    merge_path = out_dir / "merge.json"
    merge_path.write_text(json.dumps(merge_template(base.template), indent=2) + "\n")
    shutil.rmtree(base.directory)
    package = chalice_package(stage, out_dir / "package", merge_template=merge_path, region=region)
    package.transformed_path.write_text(json.dumps(sam.transform(package.template, region), indent=1) + "\n")
    return package


# --- the merge template ------------------------------------------------------------------------


def load_resources() -> dict[str, Any]:
    return dict(yaml.safe_load(RESOURCES.read_text()))


def functions_of(template: dict[str, Any]) -> list[str]:
    return sorted(n for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function")


def websocket_stage(template: dict[str, Any]) -> str:
    # Chalice 1.34 names the WebSocket stage after api_gateway_stage (it ignores websocket_api_stage).
    return str(template["Resources"]["WebsocketAPIStage"]["Properties"]["StageName"])


def table_prefix(template: dict[str, Any]) -> str:
    """The CHARLA_TABLE_PREFIX the functions get from .chalice/config.json: the tables must match."""
    prefixes = {
        template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {}).get("CHARLA_TABLE_PREFIX")
        for name in functions_of(template)
    }
    if len(prefixes) != 1 or None in prefixes:
        raise ValueError(f"every function needs the same CHARLA_TABLE_PREFIX, found {prefixes}")
    return str(prefixes.pop())


def function_name(name: str) -> dict[str, str]:
    # A fixed name gives a log group name known in advance, so the role can name it without a cycle.
    return {"Fn::Sub": f"${{AWS::StackName}}-{name}"}


def s3_arn(bucket_name: str, suffix: str = "") -> dict[str, str]:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{bucket_name}{suffix}"}


def environment(ws_stage: str) -> dict[str, Any]:
    """What the app reads besides CHARLA_TABLE_PREFIX (Chalice sets that from config.json)."""
    return {
        "COGNITO_USER_POOL_ID": {"Ref": "UserPool"},
        "COGNITO_USER_POOL_ARN": {"Fn::GetAtt": ["UserPool", "Arn"]},
        "COGNITO_CLIENT_ID": {"Ref": "UserPoolClient"},
        "WS_MANAGEMENT_URL": {
            "Fn::Sub": f"https://${{WebsocketAPI}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{ws_stage}"
        },
        "ATTACHMENTS_BUCKET": {"Fn::Sub": ATTACHMENTS_BUCKET_NAME},
        "MAIL_BUCKET": {"Fn::Sub": MAIL_BUCKET_NAME},
        # Where each kind of job is sent: the one job queue for both.
        "WEBHOOK_QUEUE_URL": {"Ref": JOB_QUEUE},
        "AGENT_NOTICE_QUEUE_URL": {"Ref": JOB_QUEUE},
        "JOB_QUEUE_NAME": {"Fn::GetAtt": [JOB_QUEUE, "QueueName"]},
    }


def _alarm(
    logical: str, suffix: str, description: str, metric: dict[str, Any], condition: str = DETAILED
) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Condition": condition,
        "Properties": {
            "AlarmName": {"Fn::Sub": f"${{AWS::StackName}}-{logical}-{suffix}"},
            "AlarmDescription": description,
            **metric,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
        },
    }


def _lambda_metric(function: str, metric: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}],
        "Statistic": "Sum",
        "Period": 300,
    }


def function_resources(name: str, ws_stage: str) -> dict[str, dict[str, Any]]:
    log_group = f"{name}LogGroup"
    return {
        # Merged into Chalice's function: Environment.Variables joins the stage's own variables.
        name: {
            "DependsOn": [log_group],
            "Properties": {"FunctionName": function_name(name), "Environment": {"Variables": environment(ws_stage)}},
        },
        log_group: {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{name}"},
                "RetentionInDays": {"Ref": "LogRetentionDays"},
            },
        },
        f"{name}ErrorsAlarm": _alarm(
            name,
            "errors",
            f"{name} raised or timed out (handled errors are responses, not these).",
            _lambda_metric(name, "Errors"),
        ),
        f"{name}ThrottlesAlarm": _alarm(
            name,
            "throttles",
            f"{name} was throttled: the account's concurrency limit was reached.",
            _lambda_metric(name, "Throttles"),
        ),
    }


def _throttle_metric(id_: str, metric: str, table: str, index: str | None = None) -> dict[str, Any]:
    dimensions = [{"Name": "TableName", "Value": {"Ref": table}}]
    if index:
        dimensions.append({"Name": "GlobalSecondaryIndexName", "Value": index})
    return {
        "Id": id_,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {"Namespace": "AWS/DynamoDB", "MetricName": metric, "Dimensions": dimensions},
            "Period": 300,
            "Stat": "Sum",
        },
    }


def table_alarm(logical: str, table: dict[str, Any]) -> dict[str, Any]:
    """Read and write throttles of the table, plus write throttles of each GSI.

    A GSI with a constant hash key (the queue, the live connections) is the first place to hit
    a partition's 1,000 writes per second, and its throttling also throttles the table's writes.
    """
    metrics = [
        _throttle_metric("reads", "ReadThrottleEvents", logical),
        _throttle_metric("writes", "WriteThrottleEvents", logical),
    ]
    indexes = [i["IndexName"] for i in table["Properties"].get("GlobalSecondaryIndexes", [])]
    metrics += [_throttle_metric(f"gsi{n}", "WriteThrottleEvents", logical, index) for n, index in enumerate(indexes)]
    return _alarm(
        logical,
        "throttles",
        f"DynamoDB throttled requests on {logical} or its indexes.",
        _sum_of(metrics, "Throttled requests"),
    )


def _sum_of(metrics: list[dict[str, Any]], label: str) -> dict[str, Any]:
    total = " + ".join(f"FILL({m['Id']}, 0)" for m in metrics)
    return {"Metrics": [*metrics, {"Id": "total", "Expression": total, "Label": label, "ReturnData": True}]}


def _region_lambda_metric(metric: str) -> dict[str, Any]:
    # Without a FunctionName dimension, Lambda's metric is the sum over every function of the
    # account in the region ("Across All Functions", Lambda Developer Guide, "Viewing metrics").
    return {"Namespace": "AWS/Lambda", "MetricName": metric, "Statistic": "Sum", "Period": 300}


def summary_alarms(generated_tables: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The default alarms: nine metrics here, plus the dead letters' one in resources.yaml.

    Lambda's errors and throttles are watched across the region, which covers every function of
    the stack (and, in an account shared with other applications, theirs too: set
    DetailedAlarms=true there). DynamoDB has no such total, so its alarm sums HOT_WRITES.
    """
    metrics = []
    for n, (table, index) in enumerate(HOT_WRITES):
        found = [
            i["IndexName"]
            for i in generated_tables.get(table, {}).get("Properties", {}).get("GlobalSecondaryIndexes", [])
        ]
        if table not in generated_tables or (index and index not in found):
            raise ValueError(f"HOT_WRITES names {table} {index or ''}, which the models no longer have")
        metrics.append(_throttle_metric(f"w{n}", "WriteThrottleEvents", table, index))
    return {
        "LambdaErrorsAlarm": _alarm(
            "lambda",
            "errors",
            "A function raised or timed out (any function of the account in this region).",
            _region_lambda_metric("Errors"),
            SUMMARY,
        ),
        "LambdaThrottlesAlarm": _alarm(
            "lambda",
            "throttles",
            "A function was throttled: the account's concurrency limit was reached.",
            _region_lambda_metric("Throttles"),
            SUMMARY,
        ),
        "DynamoDBThrottlesAlarm": _alarm(
            "dynamodb",
            "throttles",
            "DynamoDB throttled writes to the chats, connections or visitors table or their busiest indexes.",
            _sum_of(metrics, "Throttled writes"),
            SUMMARY,
        ),
    }


def alarm_parameters() -> dict[str, Any]:
    return {
        "Parameters": {
            DETAILED_ALARMS_PARAMETER: {
                "Type": "String",
                "Default": "false",
                "AllowedValues": ["false", "true"],
                "Description": "true: errors and throttles per function and throttles per table and index "
                "(about 70 alarm metrics at $0.10 a month each); false: four broad alarms "
                "within CloudWatch's 10 free alarm metrics.",
            }
        },
        "Conditions": {
            DETAILED: {"Fn::Equals": [{"Ref": DETAILED_ALARMS_PARAMETER}, "true"]},
            SUMMARY: {"Fn::Not": [{"Condition": DETAILED}]},
        },
    }


def role_policy(functions: list[str], table_ids: list[str], ws_stage: str) -> list[dict[str, Any]]:
    log_groups = [
        {
            "Fn::Sub": f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}"
            f":log-group:/aws/lambda/${{AWS::StackName}}-{name}:*"
        }
        for name in functions
    ]
    table_arns: list[Any] = []
    for logical in table_ids:
        table_arns += [{"Fn::GetAtt": [logical, "Arn"]}, {"Fn::Sub": f"${{{logical}.Arn}}/index/*"}]
    statements: list[Any] = [
        # The log groups are the stack's (with retention), so no logs:CreateLogGroup.
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_groups,
        },
        {"Sid": "Tables", "Effect": "Allow", "Action": DYNAMODB_ACTIONS, "Resource": table_arns},
        {
            "Sid": "PushToConnections",
            "Effect": "Allow",
            "Action": "execute-api:ManageConnections",
            "Resource": {
                "Fn::Sub": f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}"
                f":${{WebsocketAPI}}/{ws_stage}/*/@connections/*"
            },
        },
        # s3:GetObject also allows HeadObject; presigned POSTs and GETs act with these rights.
        {
            "Sid": "Attachments",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": s3_arn(ATTACHMENTS_BUCKET_NAME, f"/{ATTACHMENT_PREFIX}*"),
        },
        # Files sent in chats, in the same bucket under their chat's key (functions/chat/files.py).
        {
            "Sid": "ChatFiles",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": s3_arn(ATTACHMENTS_BUCKET_NAME, f"/{CHAT_FILE_PREFIX}*"),
        },
        # Without it, HeadObject of a file not uploaded yet answers 403 instead of the 404 that
        # attachments.complete() turns into "upload it first"; a visitor's erasure lists their chats' files.
        {
            "Sid": "AttachmentsNotFound",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": s3_arn(ATTACHMENTS_BUCKET_NAME),
        },
        # DeleteObject: erasure by email or visitor removes the raw mail (functions/visitors/data_requests.py); the
        # bucket's lifecycle expires the noncurrent version a delete leaves behind.
        {
            "Sid": "InboundMail",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObjectTagging", "s3:DeleteObject"],
            "Resource": s3_arn(MAIL_BUCKET_NAME, f"/{INBOUND_MAIL_PREFIX}*"),
        },
        # SendMessage also allows SendMessageBatch: webhooks.emit, the delivery's requeue and deferral,
        # and agent_notices.tell (one message per team-wide notice).
        {
            "Sid": "JobSend",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": [JOB_QUEUE, "Arn"]},
        },
        # The role is given to SAM, so SAM adds nothing for the SQS event source: these are what
        # Lambda's poller needs (AWSLambdaSQSQueueExecutionRole) plus visibility changes.
        {
            "Sid": "QueueConsume",
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            "Resource": {"Fn::GetAtt": [JOB_QUEUE, "Arn"]},
        },
        {
            "Sid": "ManageAgents",
            "Effect": "Allow",
            "Action": COGNITO_ADMIN_ACTIONS,
            "Resource": {"Fn::GetAtt": ["UserPool", "Arn"]},
        },
        {
            "Fn::If": [
                "HasMailDomain",
                {
                    "Sid": "SendMail",
                    "Effect": "Allow",
                    "Action": ["ses:SendEmail", "ses:SendRawEmail"],
                    "Resource": {
                        "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${MailDomain}"
                    },
                },
                {"Ref": "AWS::NoValue"},
            ]
        },
        # Whether SES is still in the sandbox (the widget offers no transcript it can't mail). GetSendQuota is
        # account-level, with no resource type, so IAM takes only "*" for it
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonses.html).
        {"Sid": "ReadSendQuota", "Effect": "Allow", "Action": ["ses:GetSendQuota"], "Resource": "*"},
    ]
    document = {"Version": "2012-10-17", "Statement": statements}
    return [{"PolicyName": "CharlaPolicy", "PolicyDocument": document}]


def authorizer_override(base: dict[str, Any]) -> dict[str, Any]:
    """Every Cognito authorizer of the REST API, pointed at this stack's pool.

    app.py reads COGNITO_USER_POOL_ARN when Chalice packages it, which is before the pool exists.
    """
    body = base["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    pools = {
        name: {"x-amazon-apigateway-authorizer": {"providerARNs": [{"Fn::GetAtt": ["UserPool", "Arn"]}]}}
        for name, definition in body.get("securityDefinitions", {}).items()
        if definition.get("x-amazon-apigateway-authtype") == "cognito_user_pools"
    }
    return {"securityDefinitions": pools} if pools else {}


def sqs_event_sources(base: dict[str, Any]) -> dict[str, Any]:
    """Overrides for the SQS event sources: Chalice built each ARN from app.py's queue name.

    The merge is deep, so the override keeps the `Fn::Sub` key (a `Fn::GetAtt` would sit beside it).
    """
    found = {
        (function, event): source
        for function in functions_of(base)
        for event, source in base["Resources"][function]["Properties"].get("Events", {}).items()
        if source.get("Type") == "SQS"
    }
    if sorted(function for function, _ in found) != sorted(SQS_CONSUMERS):
        raise ValueError(f"expected the SQS event sources of {sorted(SQS_CONSUMERS)}, found {sorted(found)}")
    overrides: dict[str, Any] = {}
    for (function, event), source in found.items():
        if "Fn::Sub" not in source["Properties"]["Queue"]:
            raise ValueError(f"unexpected SQS queue in {function}.{event}: {source['Properties']['Queue']}")
        queue = {"Fn::Sub": f"${{{SQS_CONSUMERS[function]}.Arn}}"}
        overrides[function] = {"Properties": {"Events": {event: {"Properties": {"Queue": queue}}}}}
    return overrides


# What API Gateway answers by itself, before or instead of the app: the Cognito authorizer's 401,
# and its default 4xx and 5xx (an unknown route, a body over 10 MB, its own throttling, a Lambda
# that crashed or timed out). They are SAM's GatewayResponses, so they live in the API's body:
# SAM names each deployment after a hash of the body, so a change here redeploys the stage. A
# separate AWS::ApiGateway::GatewayResponse would change only after some later redeploy (cfn-lint
# W3660 on the transformed template). Each carries the CORS header the app's public routes send
# (Chalice's cors=True: any origin), so a widget on a customer's site can read the status instead
# of the browser hiding the answer.
CORS_HEADERS = {"Access-Control-Allow-Origin": "'*'"}
GATEWAY_RESPONSES: dict[str, Any] = {
    "UNAUTHORIZED": {
        "StatusCode": 401,
        "ResponseParameters": {"Headers": CORS_HEADERS},
        # The {Code, Message} shape of every other error (docs/openapi.yaml).
        "ResponseTemplates": {"application/json": '{"Code": "unauthorized", "Message": "Unauthorized"}'},
    },
    # API Gateway's own body, spelled out so that customising the headers keeps it.
    "DEFAULT_4XX": {
        "ResponseParameters": {"Headers": CORS_HEADERS},
        "ResponseTemplates": {"application/json": '{"message":$context.error.messageString}'},
    },
    "DEFAULT_5XX": {
        "ResponseParameters": {"Headers": CORS_HEADERS},
        "ResponseTemplates": {"application/json": '{"message":$context.error.messageString}'},
    },
}


def _deep_update(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def merge_template(base: dict[str, Any]) -> dict[str, Any]:
    """What `--merge-template` adds to Chalice's `base` template (deep-merged; lists replace)."""
    doc = load_resources()
    resources: dict[str, Any] = doc["Resources"]
    functions = functions_of(base)
    stage = websocket_stage(base)
    if INBOUND_MAIL_FUNCTION not in functions:
        raise ValueError(
            f"resources.yaml wires the mail bucket to {INBOUND_MAIL_FUNCTION}, which Chalice no "
            f"longer generates (found {functions})"
        )

    generated_tables = tables.resources(table_prefix(base))
    resources.update(generated_tables)
    for logical, table in generated_tables.items():
        resources[f"{logical}ThrottlesAlarm"] = table_alarm(logical, table)
    resources.update(summary_alarms(generated_tables))
    for section, entries in alarm_parameters().items():
        doc.setdefault(section, {}).update(entries)
    for name in functions:
        resources.update(function_resources(name, stage))
    _deep_update(resources, sqs_event_sources(base))

    roles = sorted(n for n, r in base["Resources"].items() if r["Type"] == "AWS::IAM::Role")
    for role in roles:
        # Replaces Chalice's policy (logs in any group, any WebSocket API in the account).
        policies = role_policy(functions, sorted(generated_tables), stage)
        resources[role] = {"Properties": {"Policies": policies}}

    if "RestAPI" in base["Resources"]:
        resources["RestAPI"] = {
            "Properties": {
                # CloudFront sits in front (/api/*), so an edge-optimised API would add a second CDN hop.
                "EndpointConfiguration": "REGIONAL",
                "DefinitionBody": authorizer_override(base),
                "GatewayResponses": GATEWAY_RESPONSES,
            }
        }

    doc["Outputs"]["WebsocketURL"] = {
        "Description": "The URL the widget and console open (runtime.json's `ws`).",
        "Value": {"Fn::Sub": f"wss://${{WebsocketAPI}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{stage}"},
    }
    return doc


def alarm_metrics(template: dict[str, Any], detailed: bool = False) -> tuple[int, int]:
    """(alarms, metrics they watch) with DetailedAlarms false or true: CloudWatch bills each metric."""
    skipped = SUMMARY if detailed else DETAILED
    alarms = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r.get("Condition") != skipped
    ]
    metrics = sum(sum("MetricStat" in m for m in a["Metrics"]) if "Metrics" in a else 1 for a in alarms)
    return len(alarms), metrics


def monthly_cost(metrics: int, free: int = FREE_ALARM_METRICS) -> float:
    return max(metrics - free, 0) * PRICE_PER_ALARM_METRIC


def retained(template: dict[str, Any]) -> list[str]:
    """Logical ids of what outlives the stack: the data."""
    return sorted(n for n, r in template["Resources"].items() if r.get("DeletionPolicy") == "Retain")
