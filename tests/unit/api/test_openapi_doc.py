"""docs/openapi.yaml is a valid OpenAPI 3.0 document: clients and test generators read it as one, and a
YAML slip (an unquoted comma in a one-line mapping) silently cuts a description and adds a stray key."""

from __future__ import annotations

from pathlib import Path

import yaml
from openapi_spec_validator import OpenAPIV30SpecValidator

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"


def test_the_rest_api_document_is_valid_openapi():
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in OpenAPIV30SpecValidator(yaml.safe_load(DOC.read_text())).iter_errors()
    ]
    assert errors == []
