"""The stack operations of the CloudFormation API (create, update, delete, describe...)."""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
import uuid

from local_backends.core.base import operation
from local_backends.core.state import encode_token, token_value

from . import analysis, parameters, template as templates, views
from .changes import outputs_change, resource_changes
from .engine import StackRun
from .errors import AlreadyExistsException, ValidationError

STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE"}
PAGE = 100


def page(items: list, key: str, token: str | None) -> dict:
    start = 0
    if token is not None:
        start = token_value(token, "i", int, ValidationError("Invalid NextToken"))
    out = {key: items[start:start + PAGE]}
    if start + PAGE < len(items):
        out["NextToken"] = encode_token({"i": start + PAGE})
    return out


class Stacks:
    """Stack operations (mixed into :class:`local_backends.cloudformation.CloudFormationBackend`)."""

    settle_seconds: float = 0.0
    """How long an operation call waits for the stack operation to end before answering.
    AWS answers at once (the default); the waiters of local clients poll every 0.2 s."""
    poll_seconds: float = 0.2
    """How often resource handlers poll an asynchronous resource (endpoint, feature group)."""

    # -- helpers -----------------------------------------------------------------------
    def _stack_row(self, db, name_or_id: str):
        """A stack by id (deleted ones too) or by name (live ones only), as AWS finds them."""
        if name_or_id.startswith("arn:"):
            row = db.execute("SELECT * FROM stacks WHERE id = ?", (name_or_id,)).fetchone()
        else:
            row = db.execute("SELECT * FROM stacks WHERE name = ? AND status != 'DELETE_COMPLETE'",
                             (name_or_id,)).fetchone()
        if row is None:
            raise ValidationError(f"Stack with id {name_or_id} does not exist")
        return row

    def _body(self, TemplateBody: str | None, TemplateURL: str | None) -> str:
        if (TemplateBody is None) == (TemplateURL is None):
            raise ValidationError("Exactly one of TemplateBody or TemplateUrl must be specified.")
        if TemplateBody is not None:
            return TemplateBody
        url = urllib.parse.urlparse(TemplateURL)
        host, path = url.netloc, url.path.lstrip("/")
        if ".s3" in host:
            bucket, key = host.split(".s3", 1)[0], path
        elif host.startswith("s3") and "/" in path:
            bucket, key = path.split("/", 1)
        else:
            raise ValidationError("TemplateURL must be a supported URL.")
        try:
            obj = self.peers.client("s3").get_object(Bucket=bucket, Key=urllib.parse.unquote(key))
        except Exception as exc:  # AWS answers a ValidationError naming the URL
            raise ValidationError(f"Template could not be retrieved from {TemplateURL}: {exc}") from None
        return obj["Body"].read().decode()

    def _launch(self, stack_id: str, kind: str, after=None, **kwargs) -> None:
        run = StackRun(self, stack_id)

        def work() -> None:
            run.run(kind, **kwargs)
            if after is not None:
                after()
        thread = threading.Thread(target=work, name=f"cloudformation-{kind}-{run.name}")
        thread.start()
        thread.join(self.settle_seconds)

    def _new_stack(self, db, name: str, status: str, body: str, template: dict, values: dict,
                   capabilities: list | None, tags: list | None, options: dict) -> str:
        if not STACK_NAME.match(name) or len(name) > 128:
            raise ValidationError(f"1 validation error detected: Value '{name}' at 'stackName' failed to "
                                  "satisfy constraint: Member must satisfy regular expression pattern: "
                                  "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*")
        if db.execute("SELECT 1 FROM stacks WHERE name = ? AND status != 'DELETE_COMPLETE'", (name,)).fetchone():
            raise AlreadyExistsException(f"Stack [{name}] already exists")
        stack_id = self.arn(f"stack/{name}/{uuid.uuid4()}")
        db.execute("INSERT INTO stacks (id, name, status, template, parameters, capabilities, tags, "
                   "description, options, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (stack_id, name, status, body, json.dumps(values), json.dumps(capabilities or []),
                    json.dumps(tags or []), template.get("Description"), json.dumps(options), time.time()))
        return stack_id

    def _event(self, db, stack_id: str, name: str, status: str, reason: str | None = None) -> None:
        db.execute("INSERT INTO events (id, stack_id, logical_id, physical_id, type, status, reason, ts) "
                   "VALUES (?, ?, ?, ?, 'AWS::CloudFormation::Stack', ?, ?, ?)",
                   (str(uuid.uuid4()), stack_id, name, stack_id, status, reason, time.time()))

    # -- templates ---------------------------------------------------------------------
    @operation
    def validate_template(self, TemplateBody: str | None = None, TemplateURL: str | None = None):
        template = templates.load(self._body(TemplateBody, TemplateURL))
        analysis.plan(template)
        out = {"Parameters": [], "DeclaredTransforms": []}
        for name, spec in parameters.declared(template).items():
            item = {"ParameterKey": name, "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true"}
            if "Default" in spec:
                item["DefaultValue"] = str(spec["Default"]) if not isinstance(spec["Default"], list) \
                    else ",".join(map(str, spec["Default"]))
            if "Description" in spec:
                item["Description"] = spec["Description"]
            out["Parameters"].append(item)
        if "Description" in template:
            out["Description"] = template["Description"]
        capabilities, reason = analysis.capabilities_needed(template)
        if capabilities:
            out["Capabilities"] = capabilities
            out["CapabilitiesReason"] = reason
        return out

    @operation
    def get_template(self, StackName: str | None = None, ChangeSetName: str | None = None,
                     TemplateStage: str | None = None):
        db = self.store.connection()
        if ChangeSetName is not None:
            body = self._change_set_row(db, ChangeSetName, StackName)["template"]
        elif StackName is None:
            raise ValidationError("Either StackName or ChangeSetName must be specified")
        else:
            body = self._stack_row(db, StackName)["template"]
        return {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}

    # -- stacks ------------------------------------------------------------------------
    @operation
    def create_stack(self, StackName: str, TemplateBody: str | None = None, TemplateURL: str | None = None,
                     Parameters: list | None = None, DisableRollback: bool | None = None,
                     TimeoutInMinutes: int | None = None, NotificationARNs: list | None = None,
                     Capabilities: list | None = None, OnFailure: str | None = None,
                     Tags: list | None = None, EnableTerminationProtection: bool = False,
                     RoleARN: str | None = None, ClientRequestToken: str | None = None,
                     RollbackConfiguration: dict | None = None, ResourceTypes: list | None = None,
                     StackPolicyBody: str | None = None, StackPolicyURL: str | None = None,
                     RetainExceptOnCreate: bool | None = None):
        if DisableRollback is not None and OnFailure is not None:
            raise ValidationError("You cannot specify both DisableRollback and OnFailure.")
        body = self._body(TemplateBody, TemplateURL)
        template = templates.load(body)
        analysis.plan(template)
        values = parameters.bind(template, Parameters)
        analysis.check_capabilities(template, Capabilities)
        options = {"OnFailure": OnFailure or ("DO_NOTHING" if DisableRollback else "ROLLBACK"),
                   "NotificationARNs": NotificationARNs or [], "TimeoutInMinutes": TimeoutInMinutes,
                   "EnableTerminationProtection": EnableTerminationProtection, "RoleARN": RoleARN}
        with self.store.transaction() as db:
            stack_id = self._new_stack(db, StackName, "CREATE_IN_PROGRESS", body, template, values,
                                       Capabilities, Tags, options)
            self._event(db, stack_id, StackName, "CREATE_IN_PROGRESS", "User Initiated")
        self._launch(stack_id, "create")
        return {"StackId": stack_id}

    def _pending(self, row, template: dict, values: dict, tags: list) -> bool:
        """Whether an update to ``template`` with ``values`` would change anything."""
        run = StackRun(self, row["id"])
        if resource_changes(run, template, values):
            return True
        if tags != json.loads(row["tags"]):
            return True
        return outputs_change(run, template, values, json.loads(row["outputs"]))

    def _prepare_update(self, db, StackName, TemplateBody, TemplateURL, UsePreviousTemplate, Parameters,
                        Capabilities):
        row = self._stack_row(db, StackName)
        if row["status"] not in UPDATABLE:
            raise ValidationError(f"Stack:{row['id']} is in {row['status']} state and can not be updated.")
        if UsePreviousTemplate:
            if TemplateBody is not None or TemplateURL is not None:
                raise ValidationError("You cannot specify both usePreviousTemplate and Template Body/Template URL.")
            body = row["template"]
        else:
            body = self._body(TemplateBody, TemplateURL)
        template = templates.load(body)
        analysis.plan(template)
        values = parameters.bind(template, Parameters, json.loads(row["parameters"]))
        analysis.check_capabilities(template, Capabilities)
        return row, body, template, values

    @operation
    def update_stack(self, StackName: str, TemplateBody: str | None = None, TemplateURL: str | None = None,
                     UsePreviousTemplate: bool | None = None, Parameters: list | None = None,
                     Capabilities: list | None = None, Tags: list | None = None,
                     DisableRollback: bool | None = None, NotificationARNs: list | None = None,
                     RoleARN: str | None = None, ClientRequestToken: str | None = None,
                     RollbackConfiguration: dict | None = None, ResourceTypes: list | None = None,
                     StackPolicyBody: str | None = None, StackPolicyURL: str | None = None,
                     StackPolicyDuringUpdateBody: str | None = None,
                     StackPolicyDuringUpdateURL: str | None = None, RetainExceptOnCreate: bool | None = None):
        db = self.store.connection()
        row, body, template, values = self._prepare_update(db, StackName, TemplateBody, TemplateURL,
                                                            UsePreviousTemplate, Parameters, Capabilities)
        tags = json.loads(row["tags"]) if Tags is None else Tags
        if not self._pending(row, template, values, tags):
            raise ValidationError("No updates are to be performed.")
        with self.store.transaction() as db:
            current = db.execute("SELECT status FROM stacks WHERE id = ?", (row["id"],)).fetchone()["status"]
            if current not in UPDATABLE:
                raise ValidationError(f"Stack:{row['id']} is in {current} state and can not be updated.")
            db.execute("UPDATE stacks SET status = 'UPDATE_IN_PROGRESS', reason = NULL WHERE id = ?", (row["id"],))
            self._event(db, row["id"], row["name"], "UPDATE_IN_PROGRESS", "User Initiated")
        self._launch(row["id"], "update", template_body=body, values=values,
                     capabilities=Capabilities or [], tags=tags)
        return {"StackId": row["id"]}

    @operation
    def delete_stack(self, StackName: str, RetainResources: list | None = None, RoleARN: str | None = None,
                     ClientRequestToken: str | None = None, DeletionMode: str | None = None):
        with self.store.transaction() as db:
            try:
                row = self._stack_row(db, StackName)
            except ValidationError:
                return {}  # deleting a stack that does not exist succeeds, as on AWS
            if row["status"] == "DELETE_COMPLETE":
                return {}
            if json.loads(row["options"]).get("EnableTerminationProtection"):
                raise ValidationError(f"Stack [{row['name']}] cannot be deleted while TerminationProtection "
                                      "is enabled")
            if row["status"].endswith("_IN_PROGRESS") and row["status"] != "REVIEW_IN_PROGRESS":
                if row["status"] == "DELETE_IN_PROGRESS":
                    return {}
                raise ValidationError(f"Stack [{row['name']}] cannot be deleted while in status {row['status']}")
            db.execute("UPDATE stacks SET status = 'DELETE_IN_PROGRESS', reason = NULL WHERE id = ?", (row["id"],))
            self._event(db, row["id"], row["name"], "DELETE_IN_PROGRESS", "User Initiated")
        self._launch(row["id"], "delete")
        return {}

    @operation
    def update_termination_protection(self, EnableTerminationProtection: bool, StackName: str):
        with self.store.transaction() as db:
            row = self._stack_row(db, StackName)
            options = json.loads(row["options"])
            options["EnableTerminationProtection"] = EnableTerminationProtection
            db.execute("UPDATE stacks SET options = ? WHERE id = ?", (json.dumps(options), row["id"]))
        return {"StackId": row["id"]}

    # -- descriptions ------------------------------------------------------------------
    @operation
    def describe_stacks(self, StackName: str | None = None, NextToken: str | None = None):
        db = self.store.connection()
        if StackName is not None:
            rows = [self._stack_row(db, StackName)]
        else:
            rows = db.execute("SELECT * FROM stacks WHERE status != 'DELETE_COMPLETE' ORDER BY created DESC").fetchall()
        return page([views.stack(r) for r in rows], "Stacks", NextToken)

    @operation
    def list_stacks(self, NextToken: str | None = None, StackStatusFilter: list | None = None):
        rows = self.store.query("SELECT * FROM stacks ORDER BY created DESC")
        if StackStatusFilter:
            rows = [r for r in rows if r["status"] in StackStatusFilter]
        return page([views.summary(r) for r in rows], "StackSummaries", NextToken)

    def _resource_rows(self, db, stack) -> list:
        return db.execute("SELECT * FROM resources WHERE stack_id = ? AND NOT "
                          "(status = 'DELETE_COMPLETE' AND ? != 'DELETE_COMPLETE') ORDER BY rowid",
                          (stack["id"], stack["status"])).fetchall()

    @operation
    def describe_stack_resources(self, StackName: str | None = None, LogicalResourceId: str | None = None,
                                 PhysicalResourceId: str | None = None):
        db = self.store.connection()
        if StackName is None:
            if PhysicalResourceId is None:
                raise ValidationError("Either StackName or PhysicalResourceId must be specified")
            found = db.execute("SELECT stack_id FROM resources WHERE physical_id = ?", (PhysicalResourceId,)).fetchone()
            if found is None:
                raise ValidationError(f"Stack for {PhysicalResourceId} does not exist")
            StackName = found["stack_id"]
        stack = self._stack_row(db, StackName)
        rows = self._resource_rows(db, stack)
        if LogicalResourceId is not None:
            rows = [r for r in rows if r["logical_id"] == LogicalResourceId]
        if PhysicalResourceId is not None:
            rows = [r for r in rows if r["physical_id"] == PhysicalResourceId]
        return {"StackResources": [views.resource(r, stack["name"]) for r in rows]}

    @operation
    def describe_stack_resource(self, StackName: str, LogicalResourceId: str):
        db = self.store.connection()
        stack = self._stack_row(db, StackName)
        rows = [r for r in self._resource_rows(db, stack) if r["logical_id"] == LogicalResourceId]
        if not rows:
            raise ValidationError(f"Resource {LogicalResourceId} does not exist for stack {stack['name']}")
        return {"StackResourceDetail": views.resource(rows[0], stack["name"], detail=True)}

    @operation
    def list_stack_resources(self, StackName: str, NextToken: str | None = None):
        db = self.store.connection()
        stack = self._stack_row(db, StackName)
        return page([views.resource(r, stack["name"], summary_form=True) for r in self._resource_rows(db, stack)],
                    "StackResourceSummaries", NextToken)

    @operation
    def describe_stack_events(self, StackName: str, NextToken: str | None = None):
        db = self.store.connection()
        stack = self._stack_row(db, StackName)
        rows = db.execute("SELECT * FROM events WHERE stack_id = ? ORDER BY seq DESC", (stack["id"],)).fetchall()
        return page([views.event(r, stack["name"]) for r in rows], "StackEvents", NextToken)

    @operation
    def list_exports(self, NextToken: str | None = None):
        rows = self.store.query("SELECT * FROM exports ORDER BY name")
        return page([{"ExportingStackId": r["stack_id"], "Name": r["name"], "Value": r["value"]} for r in rows],
                    "Exports", NextToken)

    @operation
    def list_imports(self, ExportName: str, NextToken: str | None = None):
        rows = self.store.query("SELECT DISTINCT s.name FROM imports i JOIN stacks s ON s.id = i.stack_id "
                                "WHERE i.export_name = ? AND s.status != 'DELETE_COMPLETE' ORDER BY s.name",
                                (ExportName,))
        if not rows:
            raise ValidationError(f"Export '{ExportName}' is not imported by any stack.")
        return page([r["name"] for r in rows], "Imports", NextToken)
