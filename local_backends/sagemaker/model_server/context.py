"""The request context handed to user handlers that ask for it, as the inference toolkit does.

The SageMaker inference toolkit calls ``input_fn(body, content_type, context)`` (and
``predict_fn``, ``output_fn``, ``transform_fn`` likewise) when the function takes one more
parameter than the usual ones; ``context`` is the model server's (Multi Model Server's)
``Context``. :class:`RequestContext` offers the parts of it user code reads and writes:

* ``context.get_request_header(0, "X-Amzn-SageMaker-Custom-Attributes")``,
  ``context.get_all_request_header(0)``, ``context.request_processor[0].get_request_properties()``
  (the request's headers, lower-case names);
* ``context.set_response_header(0, "X-Amzn-SageMaker-Custom-Attributes", "...")`` (what
  ``InvokeEndpoint`` answers as ``CustomAttributes``), ``context.set_response_content_type``;
* ``context.system_properties["model_dir"]``.
"""
from __future__ import annotations

from typing import Mapping


class RequestProcessor:
    """The headers of one request and of its response (MMS's ``RequestProcessor``)."""

    def __init__(self, request_headers: Mapping[str, str]) -> None:
        self._request = {k.lower(): v for k, v in request_headers.items()}
        self._response: dict[str, str] = {}

    def get_request_property(self, key: str) -> str | None:
        return self._request.get(key.lower())

    def get_request_properties(self) -> dict[str, str]:
        return dict(self._request)

    def add_response_property(self, key: str, value: str) -> None:
        self._response[key.lower()] = str(value)

    def get_response_header(self) -> dict[str, str]:
        return self._response


class RequestContext:
    """One request's context (MMS's ``Context`` for a batch of one request)."""

    def __init__(self, request_headers: Mapping[str, str], model_dir: str | None = None) -> None:
        self.request_processor = [RequestProcessor(request_headers)]
        self.system_properties = {"model_dir": model_dir, "gpu_id": None, "batch_size": 1,
                                  "server_name": "aws_ml model server"}

    def get_request_header(self, idx: int, key: str) -> str | None:
        return self.request_processor[idx].get_request_property(key)

    def get_all_request_header(self, idx: int = 0) -> dict[str, str]:
        return self.request_processor[idx].get_request_properties()

    def set_response_header(self, idx: int, key: str, value: str) -> None:
        self.request_processor[idx].add_response_property(key, value)

    def set_response_content_type(self, idx: int, value: str) -> None:
        self.request_processor[idx].add_response_property("content-type", value)

    def get_response_content_type(self, idx: int = 0) -> str | None:
        return self.request_processor[idx].get_response_header().get("content-type")

    @property
    def response_headers(self) -> dict[str, str]:
        """The headers user code set on the response (lower-case names)."""
        return self.request_processor[0].get_response_header()
