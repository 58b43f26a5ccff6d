"""S3 bucket operations: create (with AWS's naming rules), list, head, locate, delete."""
from __future__ import annotations

import ipaddress
import re
import shutil
import time
import uuid
from datetime import datetime, timezone

from local_backends.core.base import operation
from local_backends.core.state import decode_token, encode_token

from . import errors

_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` breaks S3's general-purpose bucket naming rules, or ``None``."""
    if not 3 <= len(name) <= 63:
        return "Bucket name must be between 3 and 63 characters long"
    if not _NAME.fullmatch(name):
        return ("Bucket name can consist only of lowercase letters, numbers, periods (.) and "
                "hyphens (-), and must begin and end with a letter or number")
    if ".." in name or ".-" in name or "-." in name:
        return "Bucket name must not contain two adjacent periods or a period next to a hyphen"
    try:
        ipaddress.IPv4Address(name)
        return "Bucket name must not be formatted as an IP address"
    except ValueError:
        pass
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "Bucket name uses a reserved prefix or suffix"
    return None


def utc(ts: float) -> datetime:
    """S3 timestamps have one-second resolution in headers: keep it everywhere."""
    return datetime.fromtimestamp(int(ts), tz=timezone.utc)


class Buckets:
    """Bucket operations (mixed into :class:`local_backends.s3.S3Backend`)."""

    def _bucket(self, name: str, db=None):
        row = (db or self.store.db.connection()).execute(
            "SELECT name, id, region, created, config FROM buckets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=name)
        return row

    @operation
    def create_bucket(self, Bucket: str, CreateBucketConfiguration: dict | None = None, **_):
        problem = bucket_name_problem(Bucket)
        if problem:
            raise errors.InvalidBucketName(f"The specified bucket is not valid. {problem}.",
                                           BucketName=Bucket)
        location = (CreateBucketConfiguration or {}).get("LocationConstraint")
        if self.region == "us-east-1":
            if location is not None:
                raise errors.InvalidLocationConstraint(
                    "The specified location-constraint is not valid", LocationConstraint=location)
        elif location is None:
            raise errors.IllegalLocationConstraintException(
                "The unspecified location constraint is incompatible for the region specific "
                "endpoint this request was sent to.")
        elif location != self.region:
            raise errors.IllegalLocationConstraintException(
                f"The {location} location constraint is incompatible for the region specific "
                f"endpoint this request was sent to.")
        bucket_id = uuid.uuid4().hex
        with self.store.db.transaction() as db:
            row = db.execute("SELECT region FROM buckets WHERE name = ?", (Bucket,)).fetchone()
            if row is not None:
                if row["region"] == "us-east-1" and self.region == "us-east-1":
                    # AWS's legacy behaviour in us-east-1: 200 OK for a bucket you own.
                    return {"Location": f"/{Bucket}", "BucketArn": f"arn:aws:s3:::{Bucket}"}
                raise errors.BucketAlreadyOwnedByYou(
                    "Your previous request to create the named bucket succeeded and you already own it.",
                    BucketName=Bucket)
            self.store.bucket_dir(bucket_id).mkdir(parents=True)
            db.execute("INSERT INTO buckets (name, id, region, created) VALUES (?, ?, ?, ?)",
                       (Bucket, bucket_id, self.region, time.time()))
        location_url = f"/{Bucket}" if self.region == "us-east-1" else f"http://{Bucket}.s3.amazonaws.com/"
        return {"Location": location_url, "BucketArn": f"arn:aws:s3:::{Bucket}"}

    @operation
    def list_buckets(self, MaxBuckets: int | None = None, ContinuationToken: str | None = None,
                     Prefix: str | None = None, BucketRegion: str | None = None, **_):
        after = ""
        if ContinuationToken:
            state = decode_token(ContinuationToken)
            if state is None or "after" not in state:
                raise errors.InvalidArgument("The continuation token provided is incorrect",
                                             ArgumentName="continuation-token")
            after = state["after"]
        sql = "SELECT name, region, created FROM buckets WHERE name > ?"
        args: list = [after]
        if Prefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(Prefix), Prefix]
        if BucketRegion:
            sql += " AND region = ?"
            args.append(BucketRegion)
        sql += " ORDER BY name"
        limit = MaxBuckets if MaxBuckets else 10000
        rows = self.store.db.query(sql + " LIMIT ?", (*args, limit + 1))
        out = {
            "Buckets": [{"Name": r["name"], "CreationDate": utc(r["created"]), "BucketRegion": r["region"],
                         "BucketArn": f"arn:aws:s3:::{r['name']}"}
                        for r in rows[:limit]],
            "Owner": self.owner,
        }
        if Prefix is not None:
            out["Prefix"] = Prefix
        if len(rows) > limit:
            out["ContinuationToken"] = encode_token({"after": rows[limit - 1]["name"]})
        return out

    @operation
    def head_bucket(self, Bucket: str, **_):
        row = self._bucket(Bucket)
        return {"BucketRegion": row["region"], "BucketArn": f"arn:aws:s3:::{Bucket}",
                "AccessPointAlias": False}

    @operation
    def get_bucket_location(self, Bucket: str, **_):
        region = self._bucket(Bucket)["region"]
        return {"LocationConstraint": None if region == "us-east-1" else region}

    @operation
    def delete_bucket(self, Bucket: str, **_):
        with self.store.db.transaction() as db:
            row = self._bucket(Bucket, db)
            if db.execute("SELECT 1 FROM objects WHERE bucket = ? UNION ALL "
                          "SELECT 1 FROM versions WHERE bucket = ? LIMIT 1", (Bucket, Bucket)).fetchone():
                raise errors.BucketNotEmpty("The bucket you tried to delete is not empty",
                                            BucketName=Bucket)
            uploads = [r[0] for r in db.execute("SELECT upload_id FROM uploads WHERE bucket = ?", (Bucket,))]
            for upload_id in uploads:
                db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            db.execute("DELETE FROM uploads WHERE bucket = ?", (Bucket,))
            db.execute("DELETE FROM buckets WHERE name = ?", (Bucket,))
        shutil.rmtree(self.store.bucket_dir(row["id"]), ignore_errors=True)
        return {"ResponseMetadata": {"HTTPStatusCode": 204}}
