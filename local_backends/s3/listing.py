"""S3 listings: ``list_objects_v2`` and ``list_objects`` with prefixes, delimiters and paging.

Keys are compared as S3 does, in UTF-8 byte order (SQLite's BINARY collation on UTF-8
text is exactly that). A common prefix counts as one entry towards ``MaxKeys`` and the
whole range of keys under it is skipped with one index seek.
"""
from __future__ import annotations

import json
from urllib.parse import quote

from local_backends.core.base import operation
from local_backends.core.state import decode_token, encode_token

from . import errors
from .buckets import utc

MAX_KEYS = 1000
_TOP = chr(0x10FFFF)


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``."""
    p = prefix.rstrip(_TOP)
    if not p:
        return None
    nxt = ord(p[-1]) + 1
    if 0xD800 <= nxt <= 0xDFFF:
        nxt = 0xE000
    return p[:-1] + chr(nxt)


def _enc(value: str | None, encoding: str | None) -> str | None:
    if value is None or encoding != "url":
        return value
    return quote(value, safe="/")


class Listing:
    """Listing operations (mixed into :class:`local_backends.s3.S3Backend`)."""

    def _scan(self, bucket: str, prefix: str, delimiter: str | None, after: str,
              inclusive: bool, max_keys: int) -> tuple[list, list[str], dict | None]:
        """Up to ``max_keys`` entries from ``after``: (object rows, common prefixes, the
        cursor to resume from if the listing is truncated, else ``None``)."""
        db = self.store.db.connection()
        if db.execute("SELECT 1 FROM buckets WHERE name = ?", (bucket,)).fetchone() is None:
            raise errors.NoSuchBucket("The specified bucket does not exist", BucketName=bucket)
        upper = successor(prefix) if prefix else None
        rows: list = []
        prefixes: list[str] = []
        cursor = after
        grow = 2 if delimiter else max_keys + 1
        while True:
            room = max_keys - len(rows) - len(prefixes)
            # With a delimiter one row may stand for a whole common prefix (then the scan
            # seeks past it): batches start small after each seek and double while plain
            # keys keep coming, so that skipped rows are hardly read at all.
            batch = self._batch(db, bucket, prefix, upper, cursor, inclusive, min(room + 1, grow))
            grow = min(grow * 2, 4096)
            if not batch:
                return rows, prefixes, None
            if room == 0:
                return rows, prefixes, {"after": cursor, "inclusive": inclusive}
            for row in batch:
                if len(rows) + len(prefixes) == max_keys:
                    return rows, prefixes, {"after": cursor, "inclusive": inclusive}
                key = row["key"]
                i = key.find(delimiter, len(prefix)) if delimiter else -1
                if i < 0:
                    rows.append(row)
                    cursor, inclusive = key, False
                    continue
                cp = key[: i + len(delimiter)]
                prefixes.append(cp)
                nxt = successor(cp)
                if nxt is None:
                    return rows, prefixes, None
                cursor, inclusive = nxt, True
                grow = 2
                break  # seek past every key under the common prefix

    @staticmethod
    def _batch(db, bucket, prefix, upper, cursor, inclusive, n):
        op = ">=" if inclusive else ">"
        sql = (f"SELECT key, size, etag, modified, storage_class, checksum FROM objects "
               f"WHERE bucket = ? AND key {op} ? AND key >= ?")
        args: list = [bucket, cursor, prefix]
        if upper is not None:
            sql += " AND key < ?"
            args.append(upper)
        return db.execute(sql + " ORDER BY key LIMIT ?", (*args, n)).fetchall()

    def _contents(self, rows, encoding, fetch_owner: bool) -> list[dict]:
        out = []
        for r in rows:
            item = {"Key": _enc(r["key"], encoding), "LastModified": utc(r["modified"]),
                    "ETag": f'"{r["etag"]}"', "Size": r["size"], "StorageClass": r["storage_class"]}
            if r["checksum"]:
                item["ChecksumAlgorithm"] = [json.loads(r["checksum"])["algorithm"]]
            if fetch_owner:
                item["Owner"] = self.owner
            out.append(item)
        return out

    @operation
    def list_objects_v2(self, Bucket: str, Prefix: str = "", Delimiter: str | None = None,
                        MaxKeys: int | None = None, ContinuationToken: str | None = None,
                        StartAfter: str | None = None, EncodingType: str | None = None,
                        FetchOwner: bool = False, **_):
        max_keys = MAX_KEYS if MaxKeys is None else min(MaxKeys, MAX_KEYS)
        after, inclusive = StartAfter or "", False
        if ContinuationToken is not None:
            state = decode_token(ContinuationToken)
            if state is None or "after" not in state:
                raise errors.InvalidArgument("The continuation token provided is incorrect",
                                             ArgumentName="continuation-token")
            if state["after"] >= after:
                after, inclusive = state["after"], bool(state.get("inclusive"))
        rows, prefixes, resume = self._scan(Bucket, Prefix or "", Delimiter or None,
                                            after, inclusive, max_keys)
        truncated = resume is not None
        out = {
            "IsTruncated": truncated,
            "Name": Bucket,
            "Prefix": _enc(Prefix or "", EncodingType),
            "MaxKeys": MaxKeys if MaxKeys is not None else MAX_KEYS,
            "KeyCount": len(rows) + len(prefixes),
        }
        if rows:
            out["Contents"] = self._contents(rows, EncodingType, FetchOwner)
        if Delimiter:
            out["Delimiter"] = _enc(Delimiter, EncodingType)
        if prefixes:
            out["CommonPrefixes"] = [{"Prefix": _enc(p, EncodingType)} for p in prefixes]
        if EncodingType:
            out["EncodingType"] = EncodingType
        if ContinuationToken is not None:
            out["ContinuationToken"] = ContinuationToken
        if StartAfter is not None:
            out["StartAfter"] = _enc(StartAfter, EncodingType)
        if truncated:
            out["NextContinuationToken"] = encode_token(resume)
        return out

    @operation
    def list_objects(self, Bucket: str, Prefix: str = "", Delimiter: str | None = None,
                     MaxKeys: int | None = None, Marker: str | None = None,
                     EncodingType: str | None = None, **_):
        max_keys = MAX_KEYS if MaxKeys is None else min(MaxKeys, MAX_KEYS)
        marker = Marker or ""
        inclusive = False
        if Delimiter and marker.endswith(Delimiter):
            nxt = successor(marker)  # a marker that is a common prefix skips the keys under it
            if nxt is not None:
                marker, inclusive = nxt, True
        rows, prefixes, resume = self._scan(Bucket, Prefix or "", Delimiter or None,
                                            marker, inclusive, max_keys)
        truncated = resume is not None
        last = max([r["key"] for r in rows[-1:]] + prefixes[-1:], default=None)
        out = {
            "IsTruncated": truncated,
            "Marker": _enc(Marker or "", EncodingType),
            "Name": Bucket,
            "Prefix": _enc(Prefix or "", EncodingType),
            "MaxKeys": MaxKeys if MaxKeys is not None else MAX_KEYS,
        }
        if rows:
            out["Contents"] = self._contents(rows, EncodingType, True)
        if Delimiter:
            out["Delimiter"] = _enc(Delimiter, EncodingType)
        if prefixes:
            out["CommonPrefixes"] = [{"Prefix": _enc(p, EncodingType)} for p in prefixes]
        if EncodingType:
            out["EncodingType"] = EncodingType
        if truncated and Delimiter:
            out["NextMarker"] = _enc(last, EncodingType)  # S3 sends NextMarker only with a delimiter
        return out
