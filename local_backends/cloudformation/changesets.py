"""Change sets: what an update (or a creation) would do, reviewed, then executed."""
from __future__ import annotations

import json
import time
import uuid

from local_backends.core.base import operation

from . import analysis, parameters, template as templates, views
from .changes import resource_changes
from .engine import StackRun
from .errors import AlreadyExistsException, ChangeSetNotFound, InvalidChangeSetStatus, ValidationError

NO_CHANGES = ("The submitted information didn't contain changes. Submit different information to "
              "create a change set.")


class ChangeSets:
    """Change set operations (mixed into :class:`local_backends.cloudformation.CloudFormationBackend`)."""

    def _change_set_row(self, db, name: str, stack_name: str | None):
        if name.startswith("arn:"):
            row = db.execute("SELECT * FROM change_sets WHERE id = ?", (name,)).fetchone()
        else:
            if stack_name is None:
                raise ValidationError("StackName must be specified if ChangeSetName is not specified as an ARN.")
            stack = self._stack_row(db, stack_name)
            row = db.execute("SELECT * FROM change_sets WHERE name = ? AND stack_id = ?",
                             (name, stack["id"])).fetchone()
        if row is None:
            raise ChangeSetNotFound(f"ChangeSet [{name}] does not exist")
        return row

    @operation
    def create_change_set(self, StackName: str, ChangeSetName: str, TemplateBody: str | None = None,
                          TemplateURL: str | None = None, UsePreviousTemplate: bool | None = None,
                          Parameters: list | None = None, Capabilities: list | None = None,
                          Tags: list | None = None, ChangeSetType: str = "UPDATE",
                          Description: str | None = None, NotificationARNs: list | None = None,
                          RoleARN: str | None = None, ClientToken: str | None = None,
                          RollbackConfiguration: dict | None = None, ResourceTypes: list | None = None,
                          IncludeNestedStacks: bool | None = None, OnStackFailure: str | None = None,
                          ImportExistingResources: bool | None = None):
        if ChangeSetType == "IMPORT":
            raise ValidationError("Resource import change sets are not supported by the local "
                                  "CloudFormation engine")
        db = self.store.connection()
        if ChangeSetType == "CREATE":
            existing = db.execute("SELECT * FROM stacks WHERE name = ? AND status != 'DELETE_COMPLETE'",
                                  (StackName,)).fetchone()
            if existing is not None and existing["status"] != "REVIEW_IN_PROGRESS":
                raise ValidationError(f"Stack [{StackName}] already exists and cannot be created again "
                                      f"with the changeSet [{ChangeSetName}].")
            body = self._body(TemplateBody, TemplateURL)
            template = templates.load(body)
            analysis.plan(template)
            values = parameters.bind(template, Parameters)
            stack_row = existing
        else:
            stack_row, body, template, values = self._prepare_update(
                db, StackName, TemplateBody, TemplateURL, UsePreviousTemplate, Parameters, Capabilities)
        analysis.check_capabilities(template, Capabilities)
        cs_id = self.arn(f"changeSet/{ChangeSetName}/{uuid.uuid4()}")
        with self.store.transaction() as db:
            if stack_row is None:
                options = {"OnFailure": OnStackFailure or "ROLLBACK", "NotificationARNs": NotificationARNs or []}
                stack_id = self._new_stack(db, StackName, "REVIEW_IN_PROGRESS", body, template, values,
                                           Capabilities, Tags, options)
                self._event(db, stack_id, StackName, "REVIEW_IN_PROGRESS", "User Initiated")
            else:
                stack_id = stack_row["id"]
            if db.execute("SELECT 1 FROM change_sets WHERE name = ? AND stack_id = ?",
                          (ChangeSetName, stack_id)).fetchone():
                raise AlreadyExistsException(f"ChangeSet [{ChangeSetName}] already exists")
            tags = Tags if Tags is not None else (json.loads(stack_row["tags"]) if stack_row else [])
            kind = "CREATE" if ChangeSetType == "CREATE" else "UPDATE"
            db.execute("INSERT INTO change_sets (id, name, stack_id, kind, status, execution_status, template, "
                       "parameters, capabilities, tags, description, created) "
                       "VALUES (?, ?, ?, ?, 'CREATE_IN_PROGRESS', 'UNAVAILABLE', ?, ?, ?, ?, ?, ?)",
                       (cs_id, ChangeSetName, stack_id, kind, body, json.dumps(values),
                        json.dumps(Capabilities or []), json.dumps(tags), Description, time.time()))
        run = StackRun(self, stack_id)
        if kind == "CREATE":
            run.live = {}
        changes = resource_changes(run, template, values)
        pending = bool(changes) or (stack_row is not None and self._pending(stack_row, template, values, tags))
        with self.store.transaction() as db:
            if pending:
                db.execute("UPDATE change_sets SET status = 'CREATE_COMPLETE', execution_status = 'AVAILABLE', "
                           "changes = ? WHERE id = ?", (json.dumps(changes), cs_id))
            else:
                db.execute("UPDATE change_sets SET status = 'FAILED', reason = ? WHERE id = ?", (NO_CHANGES, cs_id))
        return {"Id": cs_id, "StackId": stack_id}

    @operation
    def describe_change_set(self, ChangeSetName: str, StackName: str | None = None,
                            NextToken: str | None = None, IncludePropertyValues: bool | None = None):
        db = self.store.connection()
        row = self._change_set_row(db, ChangeSetName, StackName)
        stack = db.execute("SELECT * FROM stacks WHERE id = ?", (row["stack_id"],)).fetchone()
        template = templates.load(row["template"])
        out = {"ChangeSetName": row["name"], "ChangeSetId": row["id"], "StackId": stack["id"],
               "StackName": stack["name"], "Parameters": parameters.shown(template, json.loads(row["parameters"])),
               "CreationTime": views.dt(row["created"]), "ExecutionStatus": row["execution_status"],
               "Status": row["status"], "NotificationARNs": [], "RollbackConfiguration": {},
               "Capabilities": json.loads(row["capabilities"]), "Tags": json.loads(row["tags"]),
               "Changes": json.loads(row["changes"]), "IncludeNestedStacks": False}
        if row["description"] is not None:
            out["Description"] = row["description"]
        if row["reason"] is not None:
            out["StatusReason"] = row["reason"]
        return out

    @operation
    def list_change_sets(self, StackName: str, NextToken: str | None = None):
        db = self.store.connection()
        stack = self._stack_row(db, StackName)
        rows = db.execute("SELECT * FROM change_sets WHERE stack_id = ? ORDER BY created", (stack["id"],)).fetchall()
        summaries = []
        for r in rows:
            item = {"StackId": stack["id"], "StackName": stack["name"], "ChangeSetId": r["id"],
                    "ChangeSetName": r["name"], "ExecutionStatus": r["execution_status"], "Status": r["status"],
                    "CreationTime": views.dt(r["created"]), "IncludeNestedStacks": False}
            if r["reason"] is not None:
                item["StatusReason"] = r["reason"]
            if r["description"] is not None:
                item["Description"] = r["description"]
            summaries.append(item)
        from .stacks import page
        return page(summaries, "Summaries", NextToken)

    @operation
    def delete_change_set(self, ChangeSetName: str, StackName: str | None = None):
        with self.store.transaction() as db:
            row = self._change_set_row(db, ChangeSetName, StackName)
            if row["execution_status"] == "EXECUTE_IN_PROGRESS":
                raise InvalidChangeSetStatus(f"Cannot delete ChangeSet {row['id']} because it is in "
                                             "EXECUTE_IN_PROGRESS status")
            db.execute("DELETE FROM change_sets WHERE id = ?", (row["id"],))
        return {}

    @operation
    def execute_change_set(self, ChangeSetName: str, StackName: str | None = None,
                           ClientRequestToken: str | None = None, DisableRollback: bool | None = None,
                           RetainExceptOnCreate: bool | None = None):
        with self.store.transaction() as db:
            row = self._change_set_row(db, ChangeSetName, StackName)
            if row["status"] != "CREATE_COMPLETE" or row["execution_status"] != "AVAILABLE":
                raise InvalidChangeSetStatus(f"ChangeSet [{row['id']}] cannot be executed in its current "
                                             f"status of [{row['status']}]")
            stack = db.execute("SELECT * FROM stacks WHERE id = ?", (row["stack_id"],)).fetchone()
            status = "CREATE_IN_PROGRESS" if row["kind"] == "CREATE" else "UPDATE_IN_PROGRESS"
            expected = {"REVIEW_IN_PROGRESS"} if row["kind"] == "CREATE" else \
                {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}
            if stack["status"] not in expected:
                raise InvalidChangeSetStatus(f"ChangeSet [{row['id']}] cannot be executed while the stack "
                                             f"is in {stack['status']}")
            db.execute("UPDATE change_sets SET execution_status = 'EXECUTE_IN_PROGRESS' WHERE id = ?", (row["id"],))
            db.execute("DELETE FROM change_sets WHERE stack_id = ? AND id != ?", (stack["id"], row["id"]))
            extra = {}
            if row["kind"] == "CREATE":
                extra = {"template": row["template"], "parameters": row["parameters"],
                         "capabilities": row["capabilities"], "tags": row["tags"]}
                if DisableRollback:
                    options = json.loads(stack["options"])
                    options["OnFailure"] = "DO_NOTHING"
                    extra["options"] = json.dumps(options)
            sets = "".join(f", {k} = ?" for k in extra)
            db.execute(f"UPDATE stacks SET status = ?, reason = NULL{sets} WHERE id = ?",
                       (status, *extra.values(), stack["id"]))
            self._event(db, stack["id"], stack["name"], status, "User Initiated")
        cs_id = row["id"]

        def after() -> None:
            final = self.store.query_one("SELECT status FROM stacks WHERE id = ?", (stack["id"],))["status"]
            ok = final in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
            with self.store.transaction() as db:
                db.execute("UPDATE change_sets SET execution_status = ? WHERE id = ?",
                           ("EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED", cs_id))
        if row["kind"] == "CREATE":
            self._launch(stack["id"], "create", after=after)
        else:
            self._launch(stack["id"], "update", after=after, template_body=row["template"],
                         values=json.loads(row["parameters"]), capabilities=json.loads(row["capabilities"]),
                         tags=json.loads(row["tags"]))
        return {}
