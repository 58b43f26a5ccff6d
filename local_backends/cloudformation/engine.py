"""Stack operations as CloudFormation runs them: create, update, delete, and rollback.

A :class:`StackRun` works on one stack in a thread of its own. Resources are created in
dependency order through the resource types of :mod:`.resources`; each change is recorded
(resource status, event) in SQLite as it happens. A failure rolls back what the operation
did: a failed create deletes what it created (``ROLLBACK_COMPLETE``), a failed update
restores each changed resource (``UPDATE_ROLLBACK_COMPLETE``); the failing resource's
reason is in the events and the stack's status reason.
"""
from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from typing import Any

from botocore.exceptions import ClientError

from . import analysis, template as templates
from .intrinsics import Resolver, ResolveError
from .resources import RESOURCE_TYPES, Context, NeedsReplacement, ResourceType

logger = logging.getLogger("aws_ml.cloudformation")
STACK_TYPE = "AWS::CloudFormation::Stack"


class Failed(Exception):
    """A resource or the stack's outputs failed; ``logical_id`` names the culprit."""

    def __init__(self, logical_id: str | None, reason: str, verb: str = "create") -> None:
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason
        self.verb = verb


def reason_of(exc: BaseException) -> str:
    """The message CloudFormation would show for a resource handler's failure."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        return (f"Resource handler returned message: \"{err.get('Message', '')}\" (Service: "
                f"{exc.operation_name}, Status Code: {meta.get('HTTPStatusCode', 400)}, "
                f"Request ID: {meta.get('RequestId', '')}) (HandlerErrorCode: {err.get('Code', '')})")
    if isinstance(exc, NotImplementedError):
        return f"Resource handler returned message: \"not supported by the backend serving it: {exc}\""
    return str(exc) or type(exc).__name__


class StackRun:
    """One operation on one stack (see the module docstring)."""

    def __init__(self, backend, stack_id: str) -> None:
        self.backend = backend
        self.store = backend.store
        self.stack_id = stack_id
        row = self.store.query_one("SELECT * FROM stacks WHERE id = ?", (stack_id,))
        self.name = row["name"]
        self.options = json.loads(row["options"])
        self.live: dict[str, dict] = {}
        for r in self.store.query("SELECT * FROM resources WHERE stack_id = ? AND physical_id IS NOT NULL "
                                  "AND status NOT IN ('DELETE_COMPLETE', 'DELETE_SKIPPED')", (stack_id,)):
            self.live[r["logical_id"]] = {
                "physical_id": r["physical_id"], "type": r["type"], "ref": r["ref"],
                "properties": json.loads(r["properties"]), "attributes": json.loads(r["attributes"]),
                "deletion_policy": r["deletion_policy"]}
        self.imports: set[str] = set()

    # -- records -----------------------------------------------------------------------
    def event(self, db, logical_id: str, rtype: str, status: str, reason: str | None = None,
              physical_id: str | None = None, properties: dict | None = None) -> None:
        db.execute("INSERT INTO events (id, stack_id, logical_id, physical_id, type, status, reason, "
                   "properties, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (str(uuid.uuid4()), self.stack_id, logical_id, physical_id, rtype, status, reason,
                    json.dumps(properties) if properties is not None else None, time.time()))

    def stack_status(self, status: str, reason: str | None = None, **columns: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in columns)
        with self.store.transaction() as db:
            db.execute(f"UPDATE stacks SET status = ?, reason = ?{', ' + sets if sets else ''} WHERE id = ?",
                       (status, reason, *columns.values(), self.stack_id))
            self.event(db, self.name, STACK_TYPE, status, reason, self.stack_id)

    def resource_status(self, logical_id: str, rtype: str, status: str, reason: str | None = None,
                        record: dict | None = None, properties: dict | None = None,
                        write_row: bool = True) -> None:
        """Record a resource's new status (its row, unless ``write_row`` is false) and its event."""
        with self.store.transaction() as db:
            if not write_row:
                pass
            elif record is not None:
                db.execute("INSERT INTO resources (stack_id, logical_id, physical_id, type, status, reason, "
                           "properties, attributes, ref, deletion_policy, updated) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stack_id, logical_id) DO UPDATE SET "
                           "physical_id = excluded.physical_id, type = excluded.type, status = excluded.status, "
                           "reason = excluded.reason, properties = excluded.properties, "
                           "attributes = excluded.attributes, ref = excluded.ref, "
                           "deletion_policy = excluded.deletion_policy, updated = excluded.updated",
                           (self.stack_id, logical_id, record.get("physical_id"), rtype, status, reason,
                            json.dumps(record.get("properties", {}), default=str),
                            json.dumps(record.get("attributes", {}), default=str), record.get("ref"),
                            record.get("deletion_policy"), time.time()))
            else:
                db.execute("UPDATE resources SET status = ?, reason = ?, updated = ? "
                           "WHERE stack_id = ? AND logical_id = ?",
                           (status, reason, time.time(), self.stack_id, logical_id))
            physical = (record or self.live.get(logical_id) or {}).get("physical_id")
            self.event(db, logical_id, rtype, status, reason, physical, properties)

    # -- evaluation --------------------------------------------------------------------
    def resolver(self, template: dict, values: dict[str, str]) -> Resolver:
        scope = analysis.base_scope(template, values, self.backend.region, self.backend.account_id,
                                    self.name, self.stack_id)

        def ref(name: str) -> Any:
            rec = self.live.get(name)
            if rec is None:
                raise ResolveError(f"Template error: resource {name} is not created (its condition "
                                   "is false or it failed)")
            return rec["ref"] or rec["physical_id"]

        def getatt(name: str, attribute: str) -> Any:
            rec = self.live.get(name)
            if rec is None:
                raise ResolveError(f"Template error: resource {name} is not created (its condition "
                                   "is false or it failed)")
            if attribute not in rec["attributes"]:
                raise ResolveError(f"Template error: resource {name} does not support attribute type "
                                   f"{attribute} in Fn::GetAtt")
            return rec["attributes"][attribute]

        def import_value(name: str) -> str:
            row = self.store.query_one("SELECT value FROM exports WHERE name = ?", (name,))
            if row is None:
                raise ResolveError(f"No export named {name} found.")
            self.imports.add(name)
            return row["value"]

        scope.ref, scope.getatt, scope.import_value = ref, getatt, import_value
        return Resolver(scope)

    def handler(self, logical_id: str, rtype: str) -> ResourceType:
        cls = RESOURCE_TYPES.get(rtype)
        if cls is None:
            raise Failed(logical_id, f"Resource type {rtype} is not supported by the local "
                                     f"CloudFormation engine (supported: {', '.join(sorted(RESOURCE_TYPES))})")
        ctx = Context(client=self.backend.peers.client, region=self.backend.region,
                      account_id=self.backend.account_id, stack_name=self.name, logical_id=logical_id,
                      poll_seconds=self.backend.poll_seconds)
        return cls(ctx)

    def properties(self, logical_id: str, spec: dict, resolver: Resolver) -> dict:
        try:
            props = resolver.resolve(spec.get("Properties", {}))
        except ResolveError as exc:
            raise Failed(logical_id, str(exc)) from None
        if not isinstance(props, dict):
            raise Failed(logical_id, f"Properties of {logical_id} must be an object")
        return props

    # -- resource actions --------------------------------------------------------------
    def create_resource(self, logical_id: str, spec: dict, resolver: Resolver, *, props: dict | None = None,
                        replacing: bool = False) -> dict:
        rtype = spec["Type"]
        if props is None:
            try:
                props = self.properties(logical_id, spec, resolver)
            except Failed as failure:
                self.resource_status(logical_id, rtype, "CREATE_FAILED", failure.reason, record={})
                raise
        self.resource_status(logical_id, rtype,
                             "UPDATE_IN_PROGRESS" if replacing else "CREATE_IN_PROGRESS",
                             "Requested update requires the creation of a new physical resource; "
                             "hence creating one." if replacing else None,
                             record=None if replacing else {"properties": props}, properties=props)
        try:
            handler = self.handler(logical_id, rtype)
            handler.check(props)
            made = handler.create(props)
        except Exception as exc:  # every failure becomes the resource's reason (never swallowed)
            logger.debug("resource %s failed: %s", logical_id, traceback.format_exc())
            reason = exc.reason if isinstance(exc, Failed) else reason_of(exc)
            self.resource_status(logical_id, rtype, "UPDATE_FAILED" if replacing else "CREATE_FAILED", reason)
            raise Failed(logical_id, reason, "update" if replacing else "create") from None
        record = {"physical_id": made.physical_id, "type": rtype, "ref": made.ref,
                  "properties": props, "attributes": made.attributes,
                  "deletion_policy": spec.get("DeletionPolicy")}
        self.live[logical_id] = record
        self.resource_status(logical_id, rtype, "UPDATE_COMPLETE" if replacing else "CREATE_COMPLETE",
                             record=record)
        return record

    def delete_resource(self, logical_id: str, record: dict, *, honour_retain: bool = True,
                        write_row: bool = True) -> bool:
        """Delete one physical resource; False if it failed (recorded as DELETE_FAILED).

        ``write_row=False`` for a replaced resource's old physical resource: events only."""
        rtype = record["type"]
        if honour_retain and record.get("deletion_policy") == "Retain":
            self.resource_status(logical_id, rtype, "DELETE_SKIPPED", record=record, write_row=write_row)
            return True
        self.resource_status(logical_id, rtype, "DELETE_IN_PROGRESS", record=record, write_row=write_row)
        try:
            self.handler(logical_id, rtype).delete(record["physical_id"], record["properties"])
        except Exception as exc:  # recorded as the resource's DELETE_FAILED reason
            reason = exc.reason if isinstance(exc, Failed) else reason_of(exc)
            self.resource_status(logical_id, rtype, "DELETE_FAILED", reason, record=record, write_row=write_row)
            return False
        self.resource_status(logical_id, rtype, "DELETE_COMPLETE", record=record, write_row=write_row)
        return True

    # -- outputs and exports -----------------------------------------------------------
    def outputs(self, template: dict, resolver: Resolver) -> list[dict]:
        out = []
        for key, spec in template.get("Outputs", {}).items():
            try:
                if "Condition" in spec and not resolver.condition(spec["Condition"]):
                    continue
                value = resolver.resolve(spec["Value"])
                item = {"OutputKey": key,
                        "OutputValue": ",".join(map(str, value)) if isinstance(value, list) else str(value)}
                if "Description" in spec:
                    item["Description"] = resolver.resolve(spec["Description"])
                if "Export" in spec:
                    item["ExportName"] = str(resolver.resolve(spec["Export"]["Name"]))
            except ResolveError as exc:
                raise Failed(None, f"Template error in output {key}: {exc}") from None
            out.append(item)
        return out

    def publish(self, db, outputs: list[dict]) -> None:
        """Replace this stack's exports and imports (``Failed`` if another stack objects)."""
        new = {o["ExportName"]: o["OutputValue"] for o in outputs if "ExportName" in o}
        old = {r["name"]: r["value"] for r in db.execute("SELECT * FROM exports WHERE stack_id = ?",
                                                          (self.stack_id,))}
        for name, value in new.items():
            row = db.execute("SELECT s.name FROM exports e JOIN stacks s ON s.id = e.stack_id "
                             "WHERE e.name = ? AND e.stack_id != ?", (name, self.stack_id)).fetchone()
            if row is not None:
                raise Failed(None, f"Export with name {name} is already exported by stack {row['name']}")
        for name in old:
            users = importers(db, name, exclude=self.stack_id)
            if users and name not in new:
                raise Failed(None, f"Export {name} cannot be deleted as it is in use by {', '.join(users)}")
            if users and new[name] != old[name]:
                raise Failed(None, f"Cannot update export {name} as it is in use by {', '.join(users)}")
        db.execute("DELETE FROM exports WHERE stack_id = ?", (self.stack_id,))
        db.executemany("INSERT INTO exports (name, value, stack_id) VALUES (?, ?, ?)",
                       [(n, v, self.stack_id) for n, v in new.items()])
        db.execute("DELETE FROM imports WHERE stack_id = ?", (self.stack_id,))
        db.executemany("INSERT INTO imports (stack_id, export_name) VALUES (?, ?)",
                       [(self.stack_id, n) for n in sorted(self.imports)])

    def finish(self, status: str, outputs: list[dict], **columns: Any) -> None:
        with self.store.transaction() as db:
            self.publish(db, outputs)
            sets = "".join(f", {k} = ?" for k in columns)
            db.execute(f"UPDATE stacks SET status = ?, reason = NULL, outputs = ?{sets} WHERE id = ?",
                       (status, json.dumps(outputs), *columns.values(), self.stack_id))
            self.event(db, self.name, STACK_TYPE, status, None, self.stack_id)

    # -- operations --------------------------------------------------------------------
    def run(self, kind: str, **kwargs: Any) -> None:
        """Run ``create``, ``update`` or ``delete``; an unexpected error fails the stack loudly."""
        try:
            getattr(self, kind)(**kwargs)
        except Exception as exc:
            logger.exception("local CloudFormation: %s of stack %s failed unexpectedly", kind, self.name)
            status = {"create": "CREATE_FAILED", "update": "UPDATE_ROLLBACK_FAILED",
                      "delete": "DELETE_FAILED"}[kind]
            self.stack_status(status, f"Internal error of the local CloudFormation engine: {exc!r}")

    def create(self) -> None:
        row = self.store.query_one("SELECT * FROM stacks WHERE id = ?", (self.stack_id,))
        template = templates.load(row["template"])
        values = json.loads(row["parameters"])
        created: list[str] = []
        try:
            resolver = self.resolver(template, values)
            active = self._active(template, resolver)
            for logical_id in analysis.plan(template).order:
                if active[logical_id]:
                    self.create_resource(logical_id, template["Resources"][logical_id], resolver)
                    created.append(logical_id)
            outputs = self.outputs(template, resolver)
            self.finish("CREATE_COMPLETE", outputs)
        except Failed as failure:
            reason = (f"The following resource(s) failed to create: [{failure.logical_id}]. "
                      if failure.logical_id else failure.reason)
            on_failure = self.options.get("OnFailure", "ROLLBACK")
            if on_failure == "DO_NOTHING":
                self.stack_status("CREATE_FAILED", reason)
                return
            if on_failure == "DELETE":
                self.stack_status("CREATE_FAILED", reason)
                self.delete()
                return
            self.stack_status("ROLLBACK_IN_PROGRESS", reason + ("Rollback requested by user."
                                                                if failure.logical_id else ""))
            ok = all([self.delete_resource(n, self.live.pop(n), honour_retain=False)
                      for n in reversed(created) if n in self.live])
            self.stack_status("ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED",
                              None if ok else "The following resource(s) failed to delete during rollback.")

    def _active(self, template: dict, resolver: Resolver) -> dict[str, bool]:
        try:
            return {name: resolver.condition(r["Condition"]) if "Condition" in r else True
                    for name, r in template["Resources"].items()}
        except ResolveError as exc:
            raise Failed(None, str(exc)) from None

    def update(self, template_body: str, values: dict[str, str], capabilities: list[str],
               tags: list[dict]) -> None:
        old_row = self.store.query_one("SELECT * FROM stacks WHERE id = ?", (self.stack_id,))
        old_template = templates.load(old_row["template"])
        template = templates.load(template_body)
        journal: list[tuple[str, str, dict | None]] = []  # (action, logical id, previous record)
        try:
            resolver = self.resolver(template, values)
            active = self._active(template, resolver)
            for logical_id in analysis.plan(template).order:
                if active[logical_id]:
                    self._update_resource(logical_id, template["Resources"][logical_id], resolver, journal)
            outputs = self.outputs(template, resolver)
            with self.store.transaction() as db:
                self.publish(db, outputs)
        except Failed as failure:
            self._roll_back_update(failure, journal)
            return
        self.stack_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None, template=template_body,
                          parameters=json.dumps(values), capabilities=json.dumps(capabilities),
                          tags=json.dumps(tags), description=template.get("Description"),
                          outputs=json.dumps(outputs), updated=time.time())
        for action, logical_id, previous in reversed(journal):
            if action == "replace":  # the old physical resource goes, unless UpdateReplacePolicy keeps it
                retain = previous.get("replace_policy") == "Retain"
                self.delete_resource(logical_id, {**previous, "deletion_policy": "Retain" if retain else None},
                                     write_row=False)
        old_order = analysis.plan(old_template).order
        for logical_id in reversed(old_order):
            if logical_id in self.live and (logical_id not in template["Resources"] or not active[logical_id]):
                self.delete_resource(logical_id, self.live.pop(logical_id))
        self.stack_status("UPDATE_COMPLETE")

    def _update_resource(self, logical_id: str, spec: dict, resolver: Resolver,
                         journal: list) -> None:
        previous = self.live.get(logical_id)
        if previous is None:
            self.create_resource(logical_id, spec, resolver)
            journal.append(("add", logical_id, None))
            return
        try:
            props = self.properties(logical_id, spec, resolver)
        except Failed as failure:
            self.resource_status(logical_id, spec["Type"], "UPDATE_FAILED", failure.reason)
            raise Failed(logical_id, failure.reason, "update") from None
        policy = spec.get("DeletionPolicy")
        if props == previous["properties"] and spec["Type"] == previous["type"]:
            if policy != previous.get("deletion_policy"):
                self.live[logical_id] = {**previous, "deletion_policy": policy}
            return
        try:
            handler = self.handler(logical_id, spec["Type"])
        except Failed as failure:
            self.resource_status(logical_id, spec["Type"], "UPDATE_FAILED", failure.reason)
            raise
        replace = spec["Type"] != previous["type"] or handler.requires_replacement(previous["properties"], props)
        if not replace:
            self.resource_status(logical_id, spec["Type"], "UPDATE_IN_PROGRESS", properties=props)
            try:
                made = handler.update(previous["physical_id"], previous["properties"], props)
            except NeedsReplacement:
                replace = True
            except Exception as exc:  # the resource's UPDATE_FAILED reason
                reason = exc.reason if isinstance(exc, Failed) else reason_of(exc)
                self.resource_status(logical_id, spec["Type"], "UPDATE_FAILED", reason)
                # the update may have been applied in part: the rollback restores the old properties
                self.live[logical_id] = {**previous, "properties": props}
                journal.append(("modify", logical_id, previous))
                raise Failed(logical_id, reason, "update") from None
            else:
                record = {**previous, "physical_id": made.physical_id, "ref": made.ref,
                          "properties": props, "attributes": made.attributes, "deletion_policy": policy}
                self.live[logical_id] = record
                journal.append(("modify", logical_id, previous))
                self.resource_status(logical_id, spec["Type"], "UPDATE_COMPLETE", record=record)
                return
        name_prop = handler.name_property
        if name_prop and name_prop in props and props.get(name_prop) == previous["properties"].get(name_prop):
            reason = (f"CloudFormation cannot update a stack when a custom-named resource requires "
                      f"replacing. Rename {props[name_prop]} and update the stack again.")
            self.resource_status(logical_id, spec["Type"], "UPDATE_FAILED", reason)
            raise Failed(logical_id, reason, "update")
        self.live.pop(logical_id)
        try:
            self.create_resource(logical_id, spec, resolver, props=props, replacing=True)
        except Failed:
            self.live[logical_id] = previous
            raise
        journal.append(("replace", logical_id, {**previous, "replace_policy": spec.get("UpdateReplacePolicy")}))

    def _roll_back_update(self, failure: Failed, journal: list) -> None:
        """Undo the journal's changes, newest first; the stack keeps its previous template."""
        reason = (f"The following resource(s) failed to {failure.verb}: [{failure.logical_id}]. "
                  if failure.logical_id else failure.reason)
        self.stack_status("UPDATE_ROLLBACK_IN_PROGRESS", reason)
        ok = True
        replacements: list[tuple[str, dict]] = []
        for action, logical_id, previous in reversed(journal):
            current = self.live.get(logical_id)
            if action == "add":
                ok &= self.delete_resource(logical_id, self.live.pop(logical_id), honour_retain=False)
            elif action == "modify":
                rtype = previous["type"]
                self.resource_status(logical_id, rtype, "UPDATE_IN_PROGRESS")
                try:
                    made = self.handler(logical_id, rtype).update(current["physical_id"], current["properties"],
                                                                  previous["properties"])
                except Exception as exc:  # recorded: the rollback of this resource failed
                    ok = False
                    self.resource_status(logical_id, rtype, "UPDATE_FAILED", reason_of(exc))
                    continue
                restored = {**previous, "physical_id": made.physical_id, "attributes": made.attributes}
                self.live[logical_id] = restored
                self.resource_status(logical_id, rtype, "UPDATE_COMPLETE", record=restored)
            else:  # replace: the old physical resource is still there; the new one goes in cleanup
                replacements.append((logical_id, current))
                previous = {k: v for k, v in previous.items() if k != "replace_policy"}
                self.live[logical_id] = previous
                self.resource_status(logical_id, previous["type"], "UPDATE_COMPLETE", record=previous)
        failed = failure.logical_id
        if failed in self.live and not any(entry[1] == failed for entry in journal):
            # a replacement that failed to create: the old resource never changed
            self.resource_status(failed, self.live[failed]["type"], "UPDATE_COMPLETE", record=self.live[failed])
        self.stack_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        for logical_id, record in replacements:
            ok &= self.delete_resource(logical_id, record, honour_retain=False, write_row=False)
        self.stack_status("UPDATE_ROLLBACK_COMPLETE" if ok else "UPDATE_ROLLBACK_FAILED")

    def delete(self) -> None:
        with self.store.transaction() as db:
            names = [r["name"] for r in db.execute("SELECT name FROM exports WHERE stack_id = ?", (self.stack_id,))]
            for name in names:
                users = importers(db, name, exclude=self.stack_id)
                if users:
                    reason = f"Export {name} cannot be deleted as it is in use by {', '.join(users)}"
                    db.execute("UPDATE stacks SET status = 'DELETE_FAILED', reason = ? WHERE id = ?",
                               (reason, self.stack_id))
                    self.event(db, self.name, STACK_TYPE, "DELETE_FAILED", reason, self.stack_id)
                    return
        row = self.store.query_one("SELECT template FROM stacks WHERE id = ?", (self.stack_id,))
        try:
            order = analysis.plan(templates.load(row["template"])).order
        except Exception:  # a template that no longer plans: delete what exists, newest last
            order = list(self.live)
        order = [n for n in order if n in self.live] + [n for n in self.live if n not in order]
        failed = [n for n in reversed(order) if not self.delete_resource(n, self.live[n])]
        for n in order:
            if n not in failed:
                self.live.pop(n, None)
        if failed:
            self.stack_status("DELETE_FAILED", f"The following resource(s) failed to delete: "
                                               f"[{', '.join(failed)}]. ")
            return
        with self.store.transaction() as db:
            db.execute("DELETE FROM exports WHERE stack_id = ?", (self.stack_id,))
            db.execute("DELETE FROM imports WHERE stack_id = ?", (self.stack_id,))
            db.execute("UPDATE stacks SET status = 'DELETE_COMPLETE', reason = NULL, deleted = ? WHERE id = ?",
                       (time.time(), self.stack_id))
            self.event(db, self.name, STACK_TYPE, "DELETE_COMPLETE", None, self.stack_id)


def importers(db, export_name: str, exclude: str | None = None) -> list[str]:
    """The names of the live stacks that import ``export_name``."""
    rows = db.execute("SELECT DISTINCT s.name FROM imports i JOIN stacks s ON s.id = i.stack_id "
                      "WHERE i.export_name = ? AND s.status != 'DELETE_COMPLETE' AND s.id != ? "
                      "ORDER BY s.name", (export_name, exclude or "")).fetchall()
    return [r["name"] for r in rows]
