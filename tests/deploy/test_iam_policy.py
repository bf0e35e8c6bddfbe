"""deploy/iam-policy.json grants exactly the EKS actions the code calls, and nothing else.

The calls are read from ``eks/calls.py`` itself (every ``self._client.<method>(...)`` and
``get_paginator("<method>")``), and mapped to EKS operation names with botocore's own service
model, so a new call without a policy line -- or a policy line nobody calls -- fails here.
"""

from __future__ import annotations

import ast
import json

import botocore.session

from eks_oidc_testing.paths import REPO

CLIENT = REPO / "operator" / "eks_oidc_operator" / "eks" / "calls.py"
CLIENTS = REPO / "operator" / "eks_oidc_operator" / "eks" / "factory.py"
POLICY = REPO / "deploy" / "iam-policy.json"


def _called_methods(source: str, receiver: str) -> set[str]:
    methods = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        if ast.unparse(owner) != receiver:
            continue
        if node.func.attr == "get_paginator":
            argument = node.args[0]
            assert isinstance(argument, ast.Constant)
            methods.add(str(argument.value))
        else:
            methods.add(node.func.attr)
    return methods


def _operations(methods: set[str], service: str) -> set[str]:
    model = botocore.session.get_session().get_service_model(service)
    by_method = {botocore.xform_name(name): name for name in model.operation_names}
    return {f"{service}:{by_method[method]}" for method in methods}


def _granted() -> set[str]:
    policy = json.loads(POLICY.read_text())
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def test_the_policy_grants_exactly_what_the_code_calls() -> None:
    eks_calls = _operations(_called_methods(CLIENT.read_text(), "self._client"), "eks")
    sts_calls = _operations(_called_methods(CLIENTS.read_text(), "sts"), "sts")
    assert eks_calls, "no EKS call found: the parser no longer matches the client"
    assert sts_calls == {"sts:AssumeRole"}
    assert _granted() == eks_calls | sts_calls


def test_the_policy_only_allows() -> None:
    policy = json.loads(POLICY.read_text())
    assert policy["Version"] == "2012-10-17"
    assert {statement["Effect"] for statement in policy["Statement"]} == {"Allow"}
