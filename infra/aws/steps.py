"""What `deploy` does once the stack is up. Each step takes its boto3 client as a parameter, so the
tests run the very same code against moto with the stack outputs given as a dict.

Every step is idempotent and says what it changed: running a deploy twice changes nothing the
second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from functions.team import user_pool
from infra.aws import assets
from infra.aws.assets import Asset
from infra.aws.progress import Progress

UPLOADED, UPDATED, UNCHANGED, CREATED = "uploaded", "updated", "unchanged", "created"


@dataclass(frozen=True)
class Uploaded:
    asset: Asset
    outcome: str  # uploaded | updated | unchanged

    @property
    def changed(self) -> bool:
        return self.outcome != UNCHANGED


def _current(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return dict(s3.head_object(Bucket=bucket, Key=key))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def upload(s3: Any, bucket: str, planned: Iterable[Asset]) -> list[Uploaded]:
    """Puts each asset unless S3 already holds the same bytes with the same headers.

    With SSE-S3 (the buckets' default) a single-part object's ETag is the MD5 of its bytes.
    """
    results = []
    for asset in planned:
        head = _current(s3, bucket, asset.key)
        same = head is not None and (
            head.get("ETag", "").strip('"') == asset.md5
            and head.get("ContentType") == asset.content_type
            and head.get("CacheControl") == asset.cache_control
        )
        if same:
            results.append(Uploaded(asset, UNCHANGED))
            continue
        s3.put_object(
            Bucket=bucket,
            Key=asset.key,
            Body=asset.body,
            ContentType=asset.content_type,
            CacheControl=asset.cache_control,
        )
        results.append(Uploaded(asset, UPDATED if head is not None else UPLOADED))
    return results


def stale(results: Iterable[Uploaded]) -> list[Uploaded]:
    # Hashed files get new names when they change; only stable URLs can be stale at the edge.
    return sorted((r for r in results if r.changed and r.asset.stable), key=lambda r: r.asset.key)


def invalidate(cloudfront: Any, distribution_id: str, results: Iterable[Uploaded]) -> tuple[str | None, list[str]]:
    """Asks CloudFront to forget the stable URLs that changed: (invalidation id or None, paths)."""
    changed = stale(results)
    if not changed:
        return None, []
    paths = ["/" + r.asset.key for r in changed]
    # The reference covers the new content: a retried deploy of the same change reuses the
    # invalidation, and a later change to the same files gets a new one.
    fingerprint = "\n".join(f"{r.asset.key} {r.asset.md5}" for r in changed)
    reference = "charla-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference},
    )
    return str(answer["Invalidation"]["Id"]), paths


# --- the first admin ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Admin:
    email: str
    outcome: str  # created | updated (added to the group) | unchanged
    temporary_password: str | None = None


def admins(idp: Any, pool_id: str) -> list[str]:
    users = idp.list_users_in_group(UserPoolId=pool_id, GroupName="admin", Limit=10).get("Users", [])
    return [_email(user.get("Attributes", [])) or user["Username"] for user in users]


def _email(attributes: list[dict[str, str]]) -> str | None:
    return next((a["Value"] for a in attributes if a["Name"] == "email"), None)


def create_admin(idp: Any, pool_id: str, email: str, name: str = "Admin") -> Admin:
    """An admin who signs in with `email` and a temporary password, and must choose a new one."""
    try:
        idp.admin_get_user(UserPoolId=pool_id, Username=email)
    except idp.exceptions.UserNotFoundException:
        password = user_pool.temporary_password()
        user_pool.create_invited_user(idp, pool_id, email, name, password)
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName="admin")
        return Admin(email, CREATED, password)
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=email).get("Groups", [])
    if any(group["GroupName"] == "admin" for group in groups):
        return Admin(email, UNCHANGED)
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName="admin")
    return Admin(email, UPDATED)


# --- what the operator reads at the end --------------------------------------------------------


def console_url(outputs: dict[str, str]) -> str:
    return outputs["PublicURL"].rstrip("/") + "/agent/"


def embed_snippet(outputs: dict[str, str]) -> str:
    return f'<script async src="{outputs["PublicURL"].rstrip("/")}/widget/loader.js"></script>'


# --- all of it, in order -----------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    uploads: list[Uploaded]
    invalidation: str | None
    invalidated: list[str]
    admin: Admin | None


def summary(results: list[Uploaded]) -> str:
    counts = {o: sum(r.outcome == o for r in results) for o in (UPLOADED, UPDATED, UNCHANGED)}
    return ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n) or "nothing to upload"


def after_stack(
    *,
    s3: Any,
    cloudfront: Any,
    idp: Any,
    outputs: dict[str, str],
    widget_dist: Path,
    console_dist: Path,
    progress: Progress,
    admin_email: str | None = None,
    admin_name: str = "Admin",
) -> Report:
    """Uploads both sites with their runtime config, invalidates what changed, makes the first admin."""
    runtime = assets.runtime_config(outputs["PublicURL"], outputs["WebsocketURL"])
    uploads: list[Uploaded] = []
    for title, dist, site, bucket in (
        ("Uploading the widget", widget_dist, assets.WIDGET, outputs["WidgetBucketName"]),
        ("Uploading the console", console_dist, assets.CONSOLE, outputs["ConsoleBucketName"]),
    ):
        progress.step(title)
        results = upload(s3, bucket, assets.plan(dist, site, runtime))
        for result in results:
            if result.changed:
                progress.detail(f"{result.outcome:<9} {result.asset.key}  ({result.asset.cache_control})")
        progress.detail(summary(results))
        uploads += results

    progress.step("Invalidating CloudFront")
    # A deploy that dies between upload and invalidation leaves nothing "changed" for the rerun;
    # the edge then refreshes within the objects' own max-age (5 minutes at most).
    invalidation, paths = invalidate(cloudfront, outputs["DistributionId"], uploads)
    progress.detail(f"{invalidation}: {', '.join(paths)}" if invalidation else "nothing changed at a stable URL")

    progress.step("Checking the first admin")
    admin = None
    existing = admins(idp, outputs["UserPoolId"])
    if admin_email:
        admin = create_admin(idp, outputs["UserPoolId"], admin_email, admin_name)
        progress.detail(f"{admin.email}: {admin.outcome}")
        if admin.temporary_password:
            progress.detail(f"temporary password (shown once; changed at first sign-in): {admin.temporary_password}")
    elif existing:
        progress.detail(f"admins: {', '.join(existing)}")
    else:
        progress.detail("no admin yet: run `python -m infra.aws create-admin --stage <stage> --email <you>`")
    return Report(uploads, invalidation, paths, admin)
