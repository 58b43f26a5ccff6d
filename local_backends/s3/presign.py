"""Presigned URLs for the local S3: a small HTTP server on 127.0.0.1 that checks the
signature and serves (GET, HEAD) or stores (PUT) the object.

``generate_presigned_url`` never reaches botocore's ``before-call``: on a local client the
URL is built for this server instead of AWS's host, and signed by botocore as usual
(SigV4 query signing). The server is one detached process per state root, started on first
use, so that a URL stays valid after the process that made it exits (a browser, ``curl``
or another program uses it). Run by hand: ``python -m local_backends.s3.presign --home DIR``.
"""
from __future__ import annotations

import argparse
import base64
import fcntl
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape

from botocore.auth import HmacV1Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local_backends.core.errors import AwsError

LOCAL_CREDENTIALS = {"testing": "testing"}  # access key -> secret key the local backend accepts
STATE_FILE = "presign-server.json"


# -- signature ---------------------------------------------------------------------------
def check_signature(method: str, url: str, host: str, now: datetime | None = None,
                    headers: dict | None = None) -> tuple[int, str, str] | None:
    """``None`` if ``url`` is a valid, unexpired presigned URL (SigV4, or SigV2 which boto3
    still uses by default for S3 presigned URLs in most regions); else (status, code, message)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    q = dict(query)
    if "Signature" in q and "AWSAccessKeyId" in q:
        return _check_v2(method, parts, query, headers or {}, now)
    if q.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "X-Amz-Signature" not in q:
        return 403, "AccessDenied", "Query-string authentication version 4 requires the X-Amz-Algorithm, " \
                                    "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, " \
                                    "and X-Amz-Expires parameters."
    try:
        access_key, date, region, service, _ = q["X-Amz-Credential"].split("/")
        signed_at = datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        expires = int(q["X-Amz-Expires"])
    except (KeyError, ValueError):
        return 400, "AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter"
    secret = LOCAL_CREDENTIALS.get(access_key)
    if secret is None:
        return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
    now = now or datetime.now(timezone.utc)
    if (now - signed_at).total_seconds() > expires:
        return 403, "AccessDenied", "Request has expired"
    unsigned = [(k, v) for k, v in query if k != "X-Amz-Signature"]
    req = AWSRequest(method=method, url=f"{parts.scheme}://{host}{parts.path}?{urlencode(unsigned)}",
                     headers={"host": host})
    req.context["timestamp"] = q["X-Amz-Date"]
    auth = S3SigV4QueryAuth(Credentials(access_key, secret), service, region, expires=expires)
    canonical = auth.canonical_request(req)
    expected = auth.signature(auth.string_to_sign(req, canonical), req)
    if not hmac.compare_digest(expected, q["X-Amz-Signature"]):
        return 403, "SignatureDoesNotMatch", ("The request signature we calculated does not match the "
                                              "signature you provided. Check your key and signing method.")
    return None


def _check_v2(method: str, parts, query: list, headers: dict, now: datetime | None):
    q = dict(query)
    secret = LOCAL_CREDENTIALS.get(q["AWSAccessKeyId"])
    if secret is None:
        return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
    try:
        expires = int(q["Expires"])
    except (KeyError, ValueError):
        return 403, "AccessDenied", "Query-string authentication requires the Signature, Expires and " \
                                    "AWSAccessKeyId parameters"
    if (now or datetime.now(timezone.utc)).timestamp() > expires:
        return 403, "AccessDenied", "Request has expired"
    rest = [(k, v) for k, v in query if k not in ("AWSAccessKeyId", "Signature", "Expires")]
    resource = HmacV1Auth(Credentials(q["AWSAccessKeyId"], secret)).canonical_resource(
        urlsplit(f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(rest)}"))
    lower = {k.lower(): v for k, v in headers.items()}
    amz = "".join(f"{k}:{lower[k].strip()}\n" for k in sorted(lower) if k.startswith("x-amz-"))
    string_to_sign = (f"{method}\n{lower.get('content-md5', '')}\n{lower.get('content-type', '')}\n"
                      f"{expires}\n{amz}{resource}")
    expected = base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()
    if not hmac.compare_digest(expected, q["Signature"]):
        return 403, "SignatureDoesNotMatch", ("The request signature we calculated does not match the "
                                              "signature you provided. Check your key and signing method.")
    return None


# -- the server --------------------------------------------------------------------------
def _error_xml(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error>").encode()


def make_handler(backend):
    class Handler(BaseHTTPRequestHandler):
        server_version = "aws-ml-s3-presign"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: one process per state root
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False):
            headers = dict(headers or {})
            headers.setdefault("Content-Length", str(len(body)))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if body and not head:
                self.wfile.write(body)

        def _target(self):
            path = urlsplit(self.path).path
            bucket, _, key = unquote(path.lstrip("/")).partition("/")
            return bucket, key

        def _authorised(self) -> bool:
            if urlsplit(self.path).path == "/__health":
                self._send(200, b"ok")
                return False
            url = f"http://{self.headers.get('Host')}{self.path}"
            headers = dict(self.headers.items())
            problem = check_signature(self.command, url, self.headers.get("Host", ""), headers=headers)
            if problem and self.command == "HEAD":
                # A URL presigned for GET may be used with HEAD, as on S3.
                problem = check_signature("GET", url, self.headers.get("Host", ""), headers=headers)
            if problem:
                status, code, message = problem
                self._send(status, _error_xml(code, message), {"Content-Type": "application/xml"})
                return False
            return True

        def _get(self, head: bool) -> None:
            if not self._authorised():
                return
            bucket, key = self._target()
            params = {}
            if self.headers.get("Range"):
                params["Range"] = self.headers["Range"]
            try:
                method = backend.head_object if head else backend.get_object
                res = method(Bucket=bucket, Key=key, **params)
            except AwsError as err:
                self._send(err.status, _error_xml(err.code, err.message), {"Content-Type": "application/xml"},
                           head=head)
                return
            status = res.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
            headers = {"Content-Type": res["ContentType"], "ETag": res["ETag"],
                       "Last-Modified": res["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT"),
                       "Accept-Ranges": "bytes", "Content-Length": str(res["ContentLength"]),
                       "Access-Control-Allow-Origin": "*"}
            if "ContentRange" in res:
                headers["Content-Range"] = res["ContentRange"]
            for k, v in res.get("Metadata", {}).items():
                headers[f"x-amz-meta-{k}"] = v
            body = b"" if head else res["Body"].read()
            self._send(status, body, headers, head=head)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            self._get(head=False)

        def do_HEAD(self):  # noqa: N802
            self._get(head=True)

        def do_PUT(self):  # noqa: N802
            if not self._authorised():
                return
            bucket, key = self._target()
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            kwargs = {"ContentType": self.headers["Content-Type"]} if self.headers.get("Content-Type") else {}
            try:
                res = backend.put_object(Bucket=bucket, Key=key, Body=body, **kwargs)
            except AwsError as err:
                self._send(err.status, _error_xml(err.code, err.message), {"Content-Type": "application/xml"})
                return
            self._send(200, b"", {"ETag": res["ETag"]})

    return Handler


def serve(home: Path, port: int = 0, host: str = "127.0.0.1") -> None:
    """Serve presigned URLs for the local S3 under ``home`` until killed."""
    from local_backends import backend_class, get_backend

    backend = get_backend(backend_class("s3"), home, "us-east-1")
    server = ThreadingHTTPServer((host, port), make_handler(backend))
    state = {"pid": os.getpid(), "url": f"http://{host}:{server.server_address[1]}"}
    path = Path(home) / "s3" / STATE_FILE
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)
    server.serve_forever()


def _alive(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/__health", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def server_url(home: Path, timeout: float = 15.0) -> str:
    """The URL of the presign server of ``home``, started (detached) if it is not running."""
    root = Path(home) / "s3"
    root.mkdir(parents=True, exist_ok=True)
    state_path = root / STATE_FILE
    with open(root / "presign-server.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if state_path.exists():
            url = json.loads(state_path.read_text())["url"]
            if _alive(url):
                return url
            state_path.unlink(missing_ok=True)
        subprocess.Popen([sys.executable, "-m", "local_backends.s3.presign", "--home", str(home)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, cwd=str(Path(__file__).resolve().parents[2]))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if state_path.exists():
                url = json.loads(state_path.read_text())["url"]
                if _alive(url):
                    return url
            time.sleep(0.05)
    raise TimeoutError(f"the local S3 presign server for {home} did not start within {timeout:.0f} s")


def stop_server(home: Path) -> None:
    """Stop the presign server of ``home`` if it runs."""
    state_path = Path(home) / "s3" / STATE_FILE
    if state_path.exists():
        pid = json.loads(state_path.read_text())["pid"]
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            pass
        state_path.unlink(missing_ok=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Serve presigned URLs of the local S3 on 127.0.0.1.")
    ap.add_argument("--home", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    serve(Path(args.home), args.port, args.host)
