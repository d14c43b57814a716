"""The stack's S3 buckets in moto: inbound mail (what SES stores) and ticket attachments."""

from __future__ import annotations

import boto3

MAIL_BUCKET = "charla-local-mail"
ATTACHMENTS_BUCKET = "charla-local-attachments"


def create(region: str, origins: list[str]) -> dict[str, str]:
    """Creates both buckets (if missing), sets their CORS and returns the environment the app reads their names from."""
    s3 = boto3.session.Session().client("s3", region_name=region)
    present = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    for name in (MAIL_BUCKET, ATTACHMENTS_BUCKET):
        if name not in present:  # restored data already has them
            s3.create_bucket(Bucket=name)
    # The console uploads straight to the bucket (a presigned POST) and downloads from it.
    s3.put_bucket_cors(
        Bucket=ATTACHMENTS_BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": origins,
                    "AllowedMethods": ["POST", "GET"],
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    return {"MAIL_BUCKET": MAIL_BUCKET, "ATTACHMENTS_BUCKET": ATTACHMENTS_BUCKET}
