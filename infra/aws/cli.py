"""`python -m infra.aws deploy|status|destroy|create-admin|template --stage prod`.

Credentials and region come from the usual AWS places (environment, profile, SSO); nothing here
stores them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.aws import stack, steps, template
from infra.aws.progress import Progress

ROOT = template.ROOT
WIDGET_DIST = ROOT / "widget" / "dist"
CONSOLE_DIST = ROOT / "agent-ui" / "dist"


def _session(region: str | None) -> Any:
    import boto3

    # botocore reads AWS_DEFAULT_REGION and profiles; Lambda-style AWS_REGION is honoured here too.
    session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION") or None)
    if not session.region_name:
        raise SystemExit("No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or pass --region.")
    return session


def _params(pairs: list[str]) -> dict[str, str]:
    given = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param takes Key=Value, got {pair!r}")
        given[key] = value
    return given


def build_dir(stage: str) -> Path:
    return ROOT / "build" / f"aws-{stage}"


def lint(package: template.Package, progress: Progress) -> None:
    """cfn-lint, when installed (requirements-dev.txt), on the SAM template and on its expansion.

    Any error or warning stops here: the template is kept at none of either.
    """
    linter = Path(sys.executable).with_name("cfn-lint")
    if not linter.exists():
        progress.detail("cfn-lint is not installed: skipped (pip install -r requirements-dev.txt)")
        return
    paths = [package.template_path, package.transformed_path]
    result = subprocess.run([str(linter), *map(str, paths)], capture_output=True, text=True)
    if result.returncode:
        kind = "errors" if result.returncode & 2 else "warnings"
        raise SystemExit(f"cfn-lint found {kind}:\n{result.stdout}{result.stderr}")
    progress.detail(f"no errors, no warnings ({', '.join(p.name for p in paths)})")


def _describe(package: template.Package, progress: Progress) -> None:
    progress.detail(f"{package.zip_path.stat().st_size // 1024} KB zip, {len(package.template['Resources'])} resources")
    for detailed in (False, True):
        alarms, metrics = template.alarm_metrics(package.template, detailed=detailed)
        which = f"{template.DETAILED_ALARMS_PARAMETER}=true" if detailed else "by default"
        progress.detail(
            f"alarms {which}: {alarms} on {metrics} metrics, "
            f"${template.monthly_cost(metrics):.2f} a month within CloudWatch's "
            f"{template.FREE_ALARM_METRICS} free, ${template.monthly_cost(metrics, free=0):.2f} past them"
        )


# --- commands ----------------------------------------------------------------------------------


def cmd_template(args: argparse.Namespace) -> int:
    progress = Progress(2)
    progress.step("Building the package and the merged template")
    package = template.build(args.stage, build_dir(args.stage), region=args.region or "us-east-1")
    progress.detail(str(package.template_path.relative_to(ROOT)))
    _describe(package, progress)
    progress.step("Linting the template")
    lint(package, progress)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    session = _session(args.region)
    region = session.region_name
    name = stack.stack_name(args.stage)
    progress = Progress(9)

    progress.step(f"Building the package and the merged template for {name}")
    package = template.build(args.stage, build_dir(args.stage), region=region)
    _describe(package, progress)

    progress.step("Linting the template")
    lint(package, progress)

    progress.step("Uploading the code and the template")
    s3, cfn = session.client("s3"), session.client("cloudformation")
    account = session.client("sts").get_caller_identity()["Account"]
    bucket = stack.artifacts_bucket(s3, account, region)
    code_key = stack.put_artifact(s3, bucket, name, package.zip_path.read_bytes(), ".zip")
    located = stack.with_code_in_s3(package.template, bucket, code_key)
    body = template_json(located)
    template_key = stack.put_artifact(s3, bucket, name, body, ".json")
    progress.detail(f"s3://{bucket}/{code_key}")

    progress.step(f"Creating or updating the stack {name}")
    if stack.describe(cfn, name) is None:
        _refuse_orphaned_tables(session.client("dynamodb"), package.template)
    outcome = stack.deploy(
        cfn,
        name,
        stack.template_url(bucket, template_key, region),
        _params(args.param),
        sorted(package.template.get("Parameters", {})),
        template.retained(package.template),
        progress,
    )
    progress.detail(outcome)
    outputs = stack.outputs(cfn, name)

    report = steps.after_stack(
        s3=s3,
        cloudfront=session.client("cloudfront"),
        idp=session.client("cognito-idp"),
        outputs=outputs,
        widget_dist=Path(args.widget_dist),
        console_dist=Path(args.console_dist),
        progress=progress,
        admin_email=args.admin_email,
        admin_name=args.admin_name,
    )
    progress.step("Ready")
    _print_endpoints(outputs)
    if report.admin and report.admin.temporary_password:
        print(f"\nSign in as {report.admin.email} with the temporary password above; the console asks for a new one.")
    return 0


def template_json(located: dict[str, Any]) -> bytes:
    return json.dumps(located, indent=1, sort_keys=True).encode()


def _refuse_orphaned_tables(dynamodb: Any, built: dict[str, Any]) -> None:
    """Tables kept by an earlier destroy would make the create fail halfway: say so up front."""
    names = [r["Properties"]["TableName"] for r in built["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    existing = []
    for table_name in names:
        try:
            dynamodb.describe_table(TableName=table_name)
            existing.append(table_name)
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
    if existing:
        raise SystemExit(
            "These tables already exist, kept by an earlier destroy: "
            + ", ".join(existing)
            + "\nImport them (docs/operations.md, 'Destroy') or delete them first."
        )


def _print_endpoints(outputs: dict[str, str]) -> None:
    print(f"\nConsole:   {steps.console_url(outputs)}")
    print(f"REST:      {outputs['PublicURL'].rstrip('/')}/api")
    print(f"WebSocket: {outputs['WebsocketURL']}")
    print("\nPaste this into every page that should show the chat, just before </body>:\n")
    print(f"  {steps.embed_snippet(outputs)}\n")


def cmd_status(args: argparse.Namespace) -> int:
    session = _session(args.region)
    cfn = session.client("cloudformation")
    name = stack.stack_name(args.stage)
    described = stack.describe(cfn, name)
    if described is None:
        print(f"{name}: not deployed")
        return 1
    print(
        f"{name}: {described['StackStatus']} (last change "
        f"{described.get('LastUpdatedTime', described['CreationTime']):%Y-%m-%d %H:%M} UTC)"
    )
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if "PublicURL" in outputs:
        _print_endpoints(outputs)
    alarms = session.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{name}-")
    metric_alarms = alarms.get("MetricAlarms", [])
    firing = [a["AlarmName"] for a in metric_alarms if a["StateValue"] == "ALARM"]
    print(f"Alarms: {len(metric_alarms)}, in ALARM: {', '.join(firing) if firing else 'none'}")
    return 2 if firing else 0


def cmd_destroy(args: argparse.Namespace) -> int:
    name = stack.stack_name(args.stage)
    interactive = sys.stdin.isatty()
    try:
        if args.delete_data:
            if not stack.confirm_delete_data(name, yes=args.yes, interactive=interactive, ask=input):
                print("Not confirmed: nothing was deleted.")
                return 1
        elif not args.yes:
            if not interactive:
                raise PermissionError(f"destroy takes {name} offline: run it at a terminal, or add --yes")
            if input(f"Delete the stack {name}? Its data is kept. [y/N] ").strip().lower() != "y":
                print("Nothing was deleted.")
                return 1
    except PermissionError as error:
        print(f"Refusing: {error}", file=sys.stderr)
        return 2
    session = _session(args.region)
    stack.destroy(
        name,
        cfn=session.client("cloudformation"),
        s3=session.client("s3"),
        dynamodb=session.client("dynamodb"),
        idp=session.client("cognito-idp"),
        delete=args.delete_data,
        progress=Progress(4),
    )
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    session = _session(args.region)
    outputs = stack.outputs(session.client("cloudformation"), stack.stack_name(args.stage))
    admin = steps.create_admin(session.client("cognito-idp"), outputs["UserPoolId"], args.email, args.name)
    print(f"{admin.email}: {admin.outcome}")
    if admin.temporary_password:
        print(f"Temporary password (shown once; changed at first sign-in): {admin.temporary_password}")
    print(f"Console: {steps.console_url(outputs)}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m infra.aws", description="Charla in your AWS account.")
    commands = root.add_subparsers(dest="command", required=True)

    def command(name: str, help_: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.add_argument("--stage", default="dev", help="a stage of .chalice/config.json (default: dev)")
        sub.add_argument("--region", help="default: AWS_REGION, AWS_DEFAULT_REGION or the profile's")
        return sub

    deploy = command("deploy", "Build, create or update the stack, upload the sites, make the first admin.")
    deploy.add_argument("--admin-email", help="the first admin (asked for nothing if one exists)")
    deploy.add_argument("--admin-name", default="Admin")
    deploy.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack parameter: AlarmEmail, DetailedAlarms, MailDomain, DomainName, "
        "CertificateArn, LogRetentionDays, PriceClass (kept from the last deploy "
        "when not given)",
    )
    deploy.add_argument("--widget-dist", default=str(WIDGET_DIST))
    deploy.add_argument("--console-dist", default=str(CONSOLE_DIST))
    deploy.set_defaults(run=cmd_deploy)

    command("status", "The stack's state, URLs and alarms.").set_defaults(run=cmd_status)

    destroy = command("destroy", "Delete the stack. Tables, data buckets and the user pool are kept.")
    destroy.add_argument("--delete-data", action="store_true", help="also delete the kept data (asks first)")
    destroy.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    destroy.set_defaults(run=cmd_destroy)

    admin = command("create-admin", "Add an admin to the stack's user pool.")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Admin")
    admin.set_defaults(run=cmd_create_admin)

    command("template", "Build the merged template into build/aws-<stage>/ and lint it; no AWS needed.").set_defaults(
        run=cmd_template
    )
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (RuntimeError, LookupError, FileNotFoundError, ValueError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        # No credentials, an expired session, a missing permission: AWS's own words say which.
        print(f"AWS: {error}", file=sys.stderr)
        return 1
