"""The SAM transform, run offline, so that the template linted is the one CloudFormation deploys.

`chalice package` writes a SAM template (`Transform: AWS::Serverless-2016-10-31`). CloudFormation
expands it into plain resources before it creates anything, and some mistakes exist only in the
expansion: a gateway response beside the REST API that SAM manages, for one, drifts, because
SAM redeploys the API only when its body changes (cfn-lint's W3660). cfn-lint checks the SAM
resources' own properties but does not expand them, so `make template` expands the template with
aws-sam-translator, the library behind the transform, and lints both.

The expansion needs a region and each function's code in S3: the build's `./deployment.zip` is
given a placeholder location here (a deploy uses the uploaded zip's, infra/aws/stack.py).
"""

from __future__ import annotations

import copy
from typing import Any

from infra.aws import stack

PLACEHOLDER_BUCKET = "charla-placeholder-artifacts"
PLACEHOLDER_KEY = "deployment.zip"


def transform(template: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """`template` as CloudFormation expands it, with the placeholder code location."""
    try:
        import boto3
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import Translator
        from samtranslator.utils.py27hash_fix import (
            to_py27_compatible_template,
            undo_mark_unicode_str_in_template,
        )
    except ImportError as error:
        raise RuntimeError("aws-sam-translator is not installed: pip install -r requirements-dev.txt") from error

    located = copy.deepcopy(stack.with_code_in_s3(template, PLACEHOLDER_BUCKET, PLACEHOLDER_KEY))
    parameters: dict[str, Any] = {}
    # What samtranslator.translator.transform.transform() does, with a session that has a region
    # and no managed-policy look-up: every function has its role set, so none is needed.
    to_py27_compatible_template(located, parameters)
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name=region))
    expanded = translator.translate(located, parameter_values=parameters, get_managed_policy_map=dict)
    return dict(undo_mark_unicode_str_in_template(expanded))
