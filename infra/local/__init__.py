"""Charla's local stack: one process that plays the AWS services the app runs on.

`python -m infra.local` serves it; tests use `infra.local.stack.LocalStack`.
"""
