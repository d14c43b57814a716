"""The CloudFormation side of deploy, status and destroy.

This is the part that can only really run against AWS: the SAM transform and the stack itself
exist nowhere else. It is kept thin on purpose: upload the code and the template, make a change
set, refuse one that would replace or remove data, run it, and print the stack's events.
The helpers that do not need CloudFormation itself (code location, confirmation, data deletion)
are tested against moto.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Collection
from typing import Any

from botocore.exceptions import ClientError

from infra.aws.progress import Progress

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # the role, and the SAM transform
TERMINAL = ("_COMPLETE", "_FAILED")
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


# The data buckets are named "<stack>-attachments-<account>-<region>" (template.py): S3 takes lower
# case, digits and hyphens, at most 63 characters, which leaves 16 for the stage.
_STAGE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$")


def stack_name(stage: str) -> str:
    if not _STAGE.match(stage):
        raise ValueError(
            f"stage {stage!r}: use 1 to 16 lower-case letters, digits or inner hyphens "
            "(it names the stack's S3 buckets)"
        )
    return f"charla-{stage}"


# --- code and template -------------------------------------------------------------------------


def artifacts_bucket(s3: Any, account: str, region: str) -> str:
    """The bucket CloudFormation reads the code zip and the template from (it must be in-region)."""
    name = f"charla-artifacts-{account}-{region}"
    try:
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
        return name
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    create: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**create)
    block = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict.fromkeys(block, True))
    # Only the latest deploys' artifacts matter (rollbacks use the previous one).
    rule = {"ID": "ForgetOldArtifacts", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [rule]})
    return name


def put_artifact(s3: Any, bucket: str, folder: str, body: bytes, suffix: str) -> str:
    """Stores `body` under its own hash, once: an unchanged zip is neither uploaded nor redeployed."""
    key = f"{folder}/{hashlib.sha256(body).hexdigest()}{suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def with_code_in_s3(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """The template with every function's `./deployment.zip` replaced by the uploaded zip."""
    located = json.loads(json.dumps(template))
    for resource in located["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
    return located


def template_url(bucket: str, key: str, region: str) -> str:
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


# --- the stack ---------------------------------------------------------------------------------


def describe(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return dict(stacks[0]) if stacks else None


def outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = describe(cfn, name)
    if stack is None:
        raise LookupError(f"there is no stack {name}: run deploy first")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def parameters(
    given: dict[str, str], known: list[str], updating: bool, previous: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Given values win; on an update, anything not given keeps its previous value, not the default.

    A parameter new in this version (not in `previous`, the stack's own) has no previous value:
    CloudFormation refuses UsePreviousValue for it ("Cannot specify usePreviousValue as true for a
    parameter key not in the previous template", rackerlabs/ebs_snapper#56), so it takes its default.
    """
    result: list[dict[str, Any]] = []
    for key in known:
        if key in given:
            result.append({"ParameterKey": key, "ParameterValue": given[key]})
        elif updating and (previous is None or key in previous):
            result.append({"ParameterKey": key, "UsePreviousValue": True})
    return result


def risky(changes: list[dict[str, Any]], data: list[str]) -> list[str]:
    """Changes that would remove or replace a data resource (a table, a data bucket, the user pool)."""
    found = []
    for change in changes:
        rc = change.get("ResourceChange", {})
        if rc.get("LogicalResourceId") not in data:
            continue
        if rc.get("Action") == "Remove" or rc.get("Replacement") in ("True", "Conditional"):
            logical, replacement = rc["LogicalResourceId"], rc.get("Replacement")
            found.append(f"{rc.get('Action')} {logical} (replacement: {replacement})")
    return found


def _wait_change_set(cfn: Any, name: str, change_set: str, poll: float) -> dict[str, Any]:
    while True:
        described = dict(cfn.describe_change_set(StackName=name, ChangeSetName=change_set))
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            changes = list(described.get("Changes", []))
            while described.get("NextToken"):
                described = dict(
                    cfn.describe_change_set(StackName=name, ChangeSetName=change_set, NextToken=described["NextToken"])
                )
                changes += described.get("Changes", [])
            described["Changes"] = changes
            return described
        time.sleep(poll)


def _events(cfn: Any, name: str) -> list[dict[str, Any]] | None:
    """The stack's latest events, newest first; None once the stack is gone."""
    try:
        return list(cfn.describe_stack_events(StackName=name)["StackEvents"])
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def latest_event(cfn: Any, name: str) -> str | None:
    events = _events(cfn, name)
    return events[0]["EventId"] if events else None


def wait(cfn: Any, name: str, progress: Progress, after: str | None, poll: float = 5) -> str:
    """Prints the stack's events newer than the event `after` as they happen; returns its final status.

    Events are told apart by id, not by time, so a skewed local clock cannot hide or repeat one.
    """
    seen: set[str] = set()
    while True:
        events = _events(cfn, name)
        if events is None:
            return "DELETE_COMPLETE"
        fresh = []
        for event in events:
            if event["EventId"] == after:
                break
            fresh.append(event)
        for event in reversed(fresh):
            if event["EventId"] in seen:
                continue
            seen.add(event["EventId"])
            reason = f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
            progress.detail(f"{event['ResourceStatus']:<28} {event['LogicalResourceId']}{reason}")
        stack = describe(cfn, name)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        if status.endswith(TERMINAL):
            return str(status)
        time.sleep(poll)


def deploy(
    cfn: Any,
    name: str,
    url: str,
    given: dict[str, str],
    known: list[str],
    data: list[str],
    progress: Progress,
    poll: float = 5,
) -> str:
    """Creates or updates the stack through a change set. Returns created, updated or unchanged."""
    stack = describe(cfn, name)
    status = stack["StackStatus"] if stack else None
    if status == "ROLLBACK_COMPLETE":
        raise RuntimeError(f"{name} failed to create and was rolled back: run destroy, then deploy again")
    if status and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise RuntimeError(f"{name} is busy ({status}): wait for it to finish")
    updating = status not in (None, "REVIEW_IN_PROGRESS")
    previous = {p["ParameterKey"] for p in stack.get("Parameters", [])} if stack else set()
    change_set = f"charla-{int(time.time())}"
    cfn.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        TemplateURL=url,
        Capabilities=CAPABILITIES,
        ChangeSetType="UPDATE" if updating else "CREATE",
        Parameters=parameters(given, known, updating, previous),
        Tags=[{"Key": "app", "Value": "charla"}],
    )
    described = _wait_change_set(cfn, name, change_set, poll)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        if any(text in reason for text in NO_CHANGES):
            return "unchanged"
        raise RuntimeError(f"the change set failed: {reason}")
    danger = risky(described["Changes"], data)
    if danger:
        cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        raise RuntimeError(
            "refusing a change that would replace or remove data:\n  "
            + "\n  ".join(danger)
            + "\nSee docs/operations.md, 'Upgrading'."
        )
    for change in described["Changes"]:
        rc = change.get("ResourceChange", {})
        replace = "  (replaced)" if rc.get("Replacement") == "True" else ""
        action, logical, kind = rc.get("Action", "?"), rc.get("LogicalResourceId"), rc.get("ResourceType")
        progress.detail(f"{action:<7} {logical} {kind}{replace}")
    after = latest_event(cfn, name)
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    final = wait(cfn, name, progress, after, poll=poll)
    if final not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise RuntimeError(f"{name} ended in {final}: the events above say why")
    return "updated" if updating else "created"


# --- destroy -----------------------------------------------------------------------------------


def confirm_delete_data(name: str, *, yes: bool, interactive: bool, ask: Callable[[str], str]) -> bool:
    """Deleting data needs the stack's name typed at a terminal, or --yes (for scripts)."""
    if yes:
        return True
    if not interactive:
        raise PermissionError(
            "--delete-data deletes every chat, ticket, attachment and agent account: "
            "run it at a terminal to confirm, or add --yes"
        )
    typed = ask(
        f"This deletes every chat, ticket, attachment, mail and agent account of {name}.\n"
        f"Type the stack name ({name}) to confirm: "
    )
    return typed.strip() == name


def retained_resources(cfn: Any, name: str) -> list[tuple[str, str, str]]:
    """(logical id, type, physical id) of the resources the stack keeps when deleted."""
    body = cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
    template = body if isinstance(body, dict) else json.loads(body)
    keep = {n for n, r in template.get("Resources", {}).items() if r.get("DeletionPolicy") == "Retain"}
    return [resource for resource in stack_resources(cfn, name) if resource[0] in keep]


def stack_resources(cfn: Any, name: str) -> list[tuple[str, str, str]]:
    found = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        for r in page["StackResourceSummaries"]:
            found.append((r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", "")))
    return found


def empty_bucket(s3: Any, bucket: str) -> int:
    """Deletes every object version and delete marker; returns how many went."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        items = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(items), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": items[start : start + 1000], "Quiet": True})
        deleted += len(items)
    return deleted


def delete_data(resources: list[tuple[str, str, str]], *, s3: Any, dynamodb: Any, idp: Any, progress: Progress) -> None:
    for logical, kind, physical in resources:
        if kind == "AWS::DynamoDB::Table":
            dynamodb.update_table(TableName=physical, DeletionProtectionEnabled=False)
            dynamodb.delete_table(TableName=physical)
        elif kind == "AWS::S3::Bucket":
            empty_bucket(s3, physical)
            s3.delete_bucket(Bucket=physical)
        elif kind == "AWS::Cognito::UserPool":
            idp.delete_user_pool(UserPoolId=physical)
        else:
            progress.detail(f"left alone: {logical} ({kind}) {physical}")
            continue
        progress.detail(f"deleted {logical}: {physical}")


def destroy(
    name: str, *, cfn: Any, s3: Any, dynamodb: Any, idp: Any, delete: bool, progress: Progress, poll: float = 5
) -> list[tuple[str, str, str]]:
    """Deletes the stack; deletes the retained data too if `delete`. Returns what was retained."""
    progress.step(f"Reading {name}")
    if describe(cfn, name) is None:
        progress.detail("no such stack")
        return []
    kept = retained_resources(cfn, name)
    progress.detail(f"{len(kept)} data resources: {', '.join(logical for logical, _, _ in kept)}")

    progress.step("Emptying the asset buckets (CloudFormation only deletes empty buckets)")
    for logical, kind, physical in stack_resources(cfn, name):
        if kind == "AWS::S3::Bucket" and logical not in {k[0] for k in kept} and physical:
            progress.detail(f"{logical}: {empty_bucket(s3, physical)} objects deleted")

    progress.step(f"Deleting the stack {name} (CloudFront takes a while)")
    after = latest_event(cfn, name)
    cfn.delete_stack(StackName=name)
    final = wait(cfn, name, progress, after, poll=poll)
    if final != "DELETE_COMPLETE":
        raise RuntimeError(f"{name} ended in {final}: the events above say why")

    progress.step("Deleting the data" if delete else "Keeping the data")
    if delete:
        delete_data(kept, s3=s3, dynamodb=dynamodb, idp=idp, progress=progress)
    else:
        for logical, kind, physical in kept:
            progress.detail(f"kept {logical} ({kind}): {physical}")
    return kept
