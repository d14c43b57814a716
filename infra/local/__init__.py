"""Charla's local stack: one process that plays the AWS services the app runs on.

`python -m infra.local` serves it; tests use `infra.local.stack.LocalStack`.

Which module plays which AWS service:

- DynamoDB, Cognito, S3, SES, SQS: moto, `moto_server.py` (in a child process: `moto_process.py`); made as
  strict as AWS by `moto_isolation.py` (per-request isolation), `moto_cognito.py` (RevokeToken, the app
  client's writable attributes, per-user TOTP secrets and checked codes), `s3_post_policy.py` (presigned POST
  policies) and `ses_sandbox.py` (a new account's SES sandbox), and faster by `moto_speedups.py`.
- API Gateway REST and its Cognito authorizer: `rest.py`, verifying tokens with `jwt_verify.py`.
- API Gateway WebSocket and its `@connections` API: `websocket.py` and `management.py` (410 Gone, frame
  limits, idle timeout).
- Lambda (concurrent invocations, their context): `invoker.py`, with AWS-shaped events from `events.py`.
- EventBridge schedules: `scheduler.py`. Lambda's SQS event source mapping: `queues.py`.
- SES receiving (SMTP, then S3, then Lambda): `smtp.py`, into the buckets of `buckets.py`.
- SES sending, as mail an operator can read: `outbox.py` (`/_local/outbox`).
- The Cognito user pool, app client and groups: `cognito.py`.
- CloudFront and S3 for the widget, the console and the demo site: `static.py`.
- What a deploy creates inside the app (tables, the first admin, settings): `appdata.py`.
- What AWS answers under contention and load (DynamoDB conflicts and throttling, failed posts, SES
  throttling), off unless `CHARLA_FAULTS` names rates: `faults.py`.
- Data that outlives a restart (`make run` keeps `.local/data/`): `snapshot.py` pickles moto's backends.
- The whole stack, started and stopped as one: `stack.py`; `env.py` undoes its environment changes and
  `collector.py` tunes garbage collection.
"""

# The moto release whose internals moto_isolation.py and moto_speedups.py patch. requirements-dev.txt
# pins exactly this version and a test holds the two together: a moto upgrade must re-check the patches.
PATCHED_MOTO_VERSION = "5.2.5"


def require_patched_moto() -> None:
    """Refuses to patch a moto whose internals nobody has checked against the patches."""
    import moto

    if moto.__version__ != PATCHED_MOTO_VERSION:
        raise RuntimeError(
            f"the local stack patches moto {PATCHED_MOTO_VERSION}'s internals, but moto {moto.__version__} is "
            "installed: re-check infra/local/moto_isolation.py and moto_speedups.py, then update "
            "PATCHED_MOTO_VERSION and the pin in requirements-dev.txt together"
        )
