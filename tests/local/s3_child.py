"""Child processes for the S3 durability tests (run as ``python -m tests.local.s3_child``)."""
from __future__ import annotations

import hashlib
import sys
import time

from aws_ml import Session


class SlowBody:
    """A body that announces itself after its first chunk, then trickles forever."""

    def __init__(self, first: bytes) -> None:
        self.sent = False
        self.first = first

    def read(self, n: int = -1) -> bytes:
        if not self.sent:
            self.sent = True
            return self.first
        print("WRITING", flush=True)
        time.sleep(0.05)
        return b"x" * 65536


def main() -> None:
    mode, home = sys.argv[1], sys.argv[2]
    s3 = Session(backend="local", home=home).client("s3")
    if mode == "put":
        s3.put_object(Bucket="durable", Key="obj", Body=SlowBody(b"partial" * 20000))
    elif mode == "multipart":
        uid = s3.create_multipart_upload(Bucket="durable", Key="mp")["UploadId"]
        print(f"UPLOAD {uid}", flush=True)
        s3.upload_part(Bucket="durable", Key="mp", UploadId=uid, PartNumber=1, Body=b"a" * (5 << 20))
        s3.upload_part(Bucket="durable", Key="mp", UploadId=uid, PartNumber=2, Body=SlowBody(b"b" * 1000))
    elif mode == "complete":
        # Complete an upload, pausing inside its transaction (the object row written, not yet
        # committed) so that the parent can kill us there.
        from local_backends.s3 import S3Backend
        original = S3Backend._commit_object

        def slow_commit(self, *args, **kwargs):
            now = original(self, *args, **kwargs)
            print("COMMITTING", flush=True)
            time.sleep(60)
            return now
        S3Backend._commit_object = slow_commit
        uid = sys.argv[3]
        parts = s3.list_parts(Bucket="durable", Key="mp2", UploadId=uid)["Parts"]
        s3.complete_multipart_upload(Bucket="durable", Key="mp2", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]})
    elif mode == "hammer":
        worker = int(sys.argv[3])
        for i in range(100):
            body = (f"{worker}-{i}-".encode() * 5000)[: 20000 + worker * 1000 + i]
            if worker % 2:
                body = body * 5  # some bodies above the inline limit: files and rows both race
            s3.put_object(Bucket="durable", Key="contended", Body=body)
        print("DONE", hashlib.md5(body).hexdigest(), flush=True)


if __name__ == "__main__":
    main()
