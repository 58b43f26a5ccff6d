"""Policy documents: checked for the grammar IAM requires, returned URL-encoded as on the wire.

IAM answers policy documents URL-encoded; botocore's ``json_decode_policies`` handler
decodes them, so boto3 users get a dict, as from AWS.
"""
from __future__ import annotations

import json
import urllib.parse

from .errors import MalformedPolicyDocument

VERSIONS = ("2008-10-17", "2012-10-17")
STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                  "Resource", "NotResource", "Condition"}


def encode(document: str) -> str:
    """A document as IAM puts it on the wire (botocore decodes it into a dict)."""
    return urllib.parse.quote(document, safe="")


def check(document: str, *, trust: bool = False) -> dict:
    """The parsed document, or ``MalformedPolicyDocument`` with IAM's wording."""
    try:
        doc = json.loads(document)
    except ValueError:
        raise MalformedPolicyDocument("Syntax errors in policy.") from None
    if not isinstance(doc, dict):
        raise MalformedPolicyDocument("Syntax errors in policy.")
    unknown = set(doc) - {"Version", "Id", "Statement"}
    if unknown:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise MalformedPolicyDocument("Policy document must be version 2012-10-17 or greater.")
    statements = doc.get("Statement")
    if statements is None:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    for st in statements:
        if not isinstance(st, dict) or set(st) - STATEMENT_KEYS:
            raise MalformedPolicyDocument("Syntax errors in policy.")
        if st.get("Effect") not in ("Allow", "Deny"):
            raise MalformedPolicyDocument("Policy statement must contain a valid Effect.")
        if "Action" not in st and "NotAction" not in st:
            raise MalformedPolicyDocument("Policy statement must contain actions.")
        if trust:
            if "Principal" not in st and "NotPrincipal" not in st:
                raise MalformedPolicyDocument("Has prohibited field Resource."
                                              if "Resource" in st else
                                              "Missing required field Principal")
            if "Resource" in st:
                raise MalformedPolicyDocument("Has prohibited field Resource.")
        else:
            if "Principal" in st or "NotPrincipal" in st:
                raise MalformedPolicyDocument("Policy document should not specify a principal.")
            if "Resource" not in st and "NotResource" not in st:
                raise MalformedPolicyDocument("Policy statement must contain resources.")
    return doc
