"""Serve one botocore request from a local backend and answer it as AWS would.

``serve`` returns the ``(http_response, parsed)`` pair that a ``before-call`` handler hands
back to botocore; botocore then runs its ``after-call`` handlers and, for a status of 300
or more, raises the modelled exception for the error code.
"""
from __future__ import annotations

import os
import uuid
from http import HTTPStatus
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel
from botocore.validate import ParamValidator

from .base import Backend
from .errors import AwsError, ValidationException
from .validation import constraint_violations, validation_message

STRICT = os.environ.get("AWS_ML_STRICT", "") not in ("", "0", "false")
"""Check every response against the operation's output shape (set in the test suite)."""


class ResponseShapeError(AssertionError):
    """A local backend answered with a response that does not fit botocore's model."""


def serve(backend: Backend, model: OperationModel, params: dict[str, Any]) -> tuple[AWSResponse, dict]:
    handler = backend.handler(model.name)  # NotImplementedByBackend propagates to the caller
    request_id = uuid.uuid4().hex
    try:
        if backend.validate_constraints:
            problems = constraint_violations(params, model.input_shape)
            if problems:
                raise ValidationException(validation_message(problems),
                                          code=getattr(backend, "validation_error_code", None))
        result = handler(**params)
    except AwsError as err:
        return _error(err, model, request_id)
    if result is None:
        result = {}
    meta = result.pop("ResponseMetadata", {})
    status = meta.get("HTTPStatusCode", 200)
    headers = {"x-amzn-requestid": request_id, **meta.get("HTTPHeaders", {})}
    if STRICT:
        _check_output(model, result)
    result["ResponseMetadata"] = {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": headers,
        "RetryAttempts": 0,
    }
    return AWSResponse("", status, headers, None), result


def _error(err: AwsError, model: OperationModel, request_id: str) -> tuple[AWSResponse, dict]:
    error = err.to_error()
    if model.http.get("method") == "HEAD":
        # A HEAD response has no body: botocore reports the status code as the error code.
        error = {"Code": str(err.status), "Message": HTTPStatus(err.status).phrase}
    headers = {"x-amzn-requestid": request_id, "x-amzn-errortype": err.code}
    parsed = {
        "Error": error,
        "ResponseMetadata": {
            "RequestId": request_id,
            "HTTPStatusCode": err.status,
            "HTTPHeaders": headers,
            "RetryAttempts": 0,
        },
    }
    if model.service_model.protocol in ("query", "ec2", "json", "rest-json"):
        parsed["Error"].setdefault("Type", "Sender" if err.sender_fault else "Receiver")
    shape = model.service_model.shape_for_error_code(err.code)
    if shape is not None:
        # Modelled error members also come at the top level, typed (as botocore's
        # endpoint adds them: e.response["OriginalStatusCode"] == 400).
        for name in shape.members:
            if name in err.extra:
                parsed[name] = err.extra[name]
    return AWSResponse("", err.status, headers, None), parsed


def _check_output(model: OperationModel, result: dict) -> None:
    shape = model.output_shape
    if shape is None:
        if result:
            raise ResponseShapeError(f"{model.name} has no output shape but returned {list(result)}")
        return
    result = {k: v for k, v in result.items() if v is not None}  # botocore's parsers leave None too
    unknown = set(result) - set(shape.members)
    if unknown:
        raise ResponseShapeError(f"{model.name} returned members not in its output shape: {sorted(unknown)}")
    report = ParamValidator().validate(result, shape)
    if report.has_errors():
        raise ResponseShapeError(f"{model.name} response does not fit its model:\n{report.generate_report()}")
