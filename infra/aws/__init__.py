"""Charla in an AWS account: one CloudFormation stack, then the static sites and the first admin.

`python -m infra.aws --help` lists the commands; docs/operations.md is the operator's guide.
"""
