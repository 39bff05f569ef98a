"""The contract document and the validators every Vercel test leans on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate
from vercel_contract import CONTRACT_PATH, check_mock_response, check_prepared, check_request, check_response, document

from aikinklab_ops.sandbox.contract import Contract, to_jsonschema

PACKAGED = Path(__file__).resolve().parents[2] / "aikinklab_ops" / "sandbox" / "vercel-api-subset.json"
AUTH = {"Authorization": "Bearer t0ken-value"}


def test_the_contract_is_a_valid_openapi_document() -> None:
    validate(document())


def test_the_packaged_copy_is_the_tests_copy_and_the_shared_one(shared: Path) -> None:
    # The sandbox validates with the packaged copy; the tests with theirs: they must not drift.
    assert PACKAGED.read_bytes() == CONTRACT_PATH.read_bytes()
    source = shared / "contracts" / "vercel-api-subset.json"
    assert json.loads(source.read_text()) == document()


def test_every_operation_the_sandbox_serves_is_in_the_contract() -> None:
    ids = {op.operation_id for op in Contract.load().operations}
    assert ids == {
        "uploadFile",
        "createDeployment",
        "getDeployment",
        "getDeployments",
        "getDeploymentEvents",
        "assignAlias",
        "requestPromote",
        "requestRollback",
        "updateProjectsByProjectIdRollbackByDeploymentIdUpdateDescription",
        "cancelDeployment",
        "getProject",
        "filterProjectEnvs",
    }


def test_nullable_becomes_an_explicit_null_branch() -> None:
    converted = to_jsonschema({"type": "string", "nullable": True, "example": "x"}, {})
    assert converted == {"anyOf": [{"type": "null"}, {"type": "string"}]}


def test_references_resolve_and_response_oneof_relaxes_to_anyof() -> None:
    doc = {"components": {"schemas": {"P": {"oneOf": [{"type": "object"}, {"type": "object"}]}}}}
    assert to_jsonschema({"$ref": "#/components/schemas/P"}, doc, one_of_as_any_of=True) == {
        "anyOf": [{"type": "object"}, {"type": "object"}]
    }


def test_a_create_body_with_an_undefined_field_is_a_violation() -> None:
    body = {"name": "aikinklab", "files": [], "prod": True}
    problems = check_request("POST", "https://api.vercel.com/v13/deployments", headers=AUTH, json_body=body)
    assert any("prod" in p for p in problems)
    assert check_request("POST", "/v13/deployments", headers=AUTH, json_body={"name": "aikinklab"}) == []


def test_a_file_entry_must_be_inline_or_uploaded_not_a_mix() -> None:
    body = {"name": "a", "files": [{"file": "x", "sha": "s", "data": "d"}]}
    assert check_request("POST", "/v13/deployments", headers=AUTH, json_body=body)


def test_query_parameters_are_typed_and_undocumented_ones_reported() -> None:
    assert check_request("GET", "/v7/deployments?limit=20&until=1700000000000&projectId=p", headers=AUTH) == []
    assert check_request("GET", "/v7/deployments?limit=twenty", headers=AUTH)
    undocumented = check_request("GET", "/v7/deployments?meta-deployKey=abc", headers=AUTH)
    assert any("meta-deployKey" in p for p in undocumented)
    assert check_request("GET", "/v3/deployments/dpl_1/events?direction=sideways", headers=AUTH)


def test_a_missing_bearer_token_is_a_violation_where_the_api_requires_one() -> None:
    assert any("Bearer" in p for p in check_request("GET", "/v9/projects/p"))
    # update-description declares no security, so no header is fine there.
    assert check_request("PATCH", "/v1/projects/p/rollback/d/update-description", json_body={"description": "x"}) == []


def test_rollback_description_belongs_in_the_query_not_a_body() -> None:
    assert check_request("POST", "/v1/projects/p/rollback/d?description=why", headers=AUTH) == []
    assert check_request("POST", "/v1/projects/p/rollback/d", headers=AUTH, json_body={"description": "why"})


def test_unknown_operations_are_reported() -> None:
    assert check_request("GET", "/v6/deployments", headers=AUTH) == [
        "GET /v6/deployments: no such operation in the contract"
    ]


def test_response_checks_status_schema_and_error_shape() -> None:
    ok = {"id": "dpl_1", "readyState": "READY", "aliasAssigned": True}
    assert check_mock_response("GET", "/v13/deployments/dpl_1", 200, ok) == []
    assert check_mock_response("GET", "/v13/deployments/dpl_1", 200, {**ok, "readyState": "DONE"})
    assert check_mock_response("GET", "/v13/deployments/dpl_1", 201, ok)  # not a documented status
    assert (
        check_response("GET", "/v13/deployments/dpl_1", 404, b'{"error": {"code": "not_found", "message": "x"}}') == []
    )
    assert check_response("GET", "/v13/deployments/dpl_1", 404, b'{"message": "x"}')
    assert check_mock_response("POST", "/v10/projects/p/promote/d", 201, None) == []


@pytest.mark.parametrize(
    "pagination",
    [{"count": 1, "next": None, "prev": 1}, {"count": 1, "next": 5, "prev": None}],
)
def test_list_pagination_allows_null_cursors(pagination: dict[str, object]) -> None:
    item = {
        "uid": "dpl_1",
        "name": "a",
        "url": "a.vercel.app",
        "created": 1,
        "createdAt": 1,
        "creator": {"uid": "u"},
        "inspectorUrl": None,
        "projectId": "p",
        "readyState": "READY",
        "type": "LAMBDAS",
        "target": None,
        "aliasAssigned": 1,
    }
    assert check_mock_response("GET", "/v7/deployments", 200, {"deployments": [item], "pagination": pagination}) == []
    assert check_mock_response("GET", "/v7/deployments", 200, {"deployments": [item]})


def test_check_prepared_reads_a_request_as_requests_sends_it() -> None:
    ok = requests.Request(
        "POST",
        "https://api.vercel.com/v13/deployments",
        params={"teamId": "team_1", "skipAutoDetectionConfirmation": "1"},
        json={"name": "aikinklab", "target": "production"},
        headers=AUTH,
    ).prepare()
    assert check_prepared(ok) == []
    upload = requests.Request(
        "POST", "https://api.vercel.com/v2/files", data=b"abc", headers={**AUTH, "x-vercel-digest": "a" * 41}
    ).prepare()
    assert any("x-vercel-digest" in p for p in check_prepared(upload))


def test_team_scoping_is_accepted_even_where_the_source_omits_it() -> None:
    url = "/v1/projects/p/rollback/d/update-description?teamId=team_1"
    assert check_request("PATCH", url, json_body={"description": "x"}) == []
