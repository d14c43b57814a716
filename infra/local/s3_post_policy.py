"""S3 that enforces presigned POST policies, as AWS does; moto stores whatever is posted.

What AWS checks (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html and
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html):

- the policy's `expiration` has not passed;
- `x-amz-signature` is the Signature Version 4 HMAC of the base64 policy, with the signing key of the
  credential named in `x-amz-credential`;
- every condition holds: exact matches (`{"key": v}` or `["eq", "$key", v]`), `starts-with`, and
  `content-length-range` on the file's size;
- every form field except `x-amz-signature`, `file`, `policy` and `x-ignore-*` is named by a condition.

Like every bucket created since 24 June 2020, it accepts only Signature Version 4 POSTs
(https://docs.aws.amazon.com/AmazonS3/latest/API/Appendix-Sigv2.html).

A refused POST stores nothing and answers S3's error XML: 403 `AccessDenied` ("Invalid according to
Policy: ..."), 403 `SignatureDoesNotMatch`, or 400 `EntityTooLarge` / `EntityTooSmall`.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import hmac
import json
import os
from typing import Any

from moto.s3.responses import S3Response

from infra.local import require_patched_moto

_UNCHECKED_FIELDS = {"x-amz-signature", "file", "policy"}


class PolicyRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def answer(self) -> tuple[int, dict[str, str], str]:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{_xml(self.message)}</Message></Error>"
        )
        return self.status, {"Content-Type": "application/xml"}, body


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _refused(message: str) -> PolicyRefused:
    return PolicyRefused(403, "AccessDenied", f"Invalid according to Policy: {message}")


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check(fields: dict[str, str], bucket: str, size: int, secret: str, now: datetime.datetime) -> None:
    """Raises PolicyRefused unless the form `fields` (names as sent) satisfy their signed policy."""
    lower = {name.lower(): value for name, value in fields.items()}
    encoded = lower.get("policy", "")
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
        expiration = datetime.datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
        conditions = list(policy["conditions"])
    except (ValueError, KeyError, TypeError):
        raise _refused("Policy could not be parsed as a valid JSON string.") from None
    if expiration <= now:
        raise _refused("Policy expired.")

    credential = lower.get("x-amz-credential", "").split("/")
    if len(credential) != 5 or lower.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        raise PolicyRefused(403, "AccessDenied", "The request must carry a Signature Version 4 credential.")
    _, date, region, service, _ = credential
    expected = hmac.new(_signing_key(secret, date, region, service), encoded.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, lower.get("x-amz-signature", "")):
        raise PolicyRefused(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )

    values = {**lower, "bucket": bucket}
    covered: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict):
            for name, value in condition.items():
                covered.add(name.lower())
                if values.get(name.lower()) != value:
                    raise _refused(f'Policy Condition failed: ["eq", "${name}", "{value}"]')
        elif isinstance(condition, list) and len(condition) == 3:
            operator, name, value = condition
            if operator == "content-length-range":
                if size > int(value):
                    raise PolicyRefused(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
                if size < int(name):
                    raise PolicyRefused(
                        400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
                    )
                continue
            field = str(name).lstrip("$").lower()
            covered.add(field)
            actual = values.get(field, "")
            if operator == "eq" and actual != value or operator == "starts-with" and not actual.startswith(value):
                raise _refused(f'Policy Condition failed: ["{operator}", "{name}", "{value}"]')
        else:
            raise _refused("Policy could not be parsed as a valid JSON string.")
    extra = sorted(
        name
        for name in lower
        if name not in covered
        and name not in _UNCHECKED_FIELDS
        and not name.startswith("x-ignore-")
        and name not in {"x-amz-credential", "x-amz-algorithm", "x-amz-date", "x-amz-security-token"}
    )
    if extra:
        raise _refused(f"Extra input fields: {', '.join(extra)}")


def _enforced(original: Any) -> Any:
    @functools.wraps(original)
    def post(self: S3Response, request: Any, bucket_name: str) -> Any:
        form = getattr(self, "form_data", None) or {}
        if "policy" in form and "key" in form:
            fields = {name: value for name, value in form.items() if name != "file"}
            body = self.body if isinstance(self.body, bytes | bytearray) else str(self.body or "").encode()
            secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
            try:
                check(fields, bucket_name, len(body), secret, datetime.datetime.now(datetime.UTC))
            except PolicyRefused as refused:
                return refused.answer()
        return original(self, request, bucket_name)

    post._charla_policy = True  # type: ignore[attr-defined]
    return post


def install() -> None:
    require_patched_moto()
    if getattr(S3Response._bucket_response_post, "_charla_policy", False):
        return
    S3Response._bucket_response_post = _enforced(S3Response._bucket_response_post)  # type: ignore[method-assign]
