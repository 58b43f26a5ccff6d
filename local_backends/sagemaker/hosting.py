"""SageMaker hosting: models, endpoint configs and endpoints served by real local processes.

Every instance of an endpoint's production variant is a model server process
(:mod:`.model_server`: Starlette + uvicorn on ``127.0.0.1``, ``GET /ping`` and ``POST
/invocations``), started detached so it outlives the process that created the endpoint.
Its record (pid, port, URL, model) is in ``<home>/sagemaker/hosting.db``, where the
``sagemaker-runtime`` backend of any process finds it.

* ``CreateEndpoint`` fetches each variant's ``model.tar.gz`` (and the entry point's source
  directory) from S3, extracts it, starts the servers and returns ``Creating``; the
  endpoint goes ``InService`` once every server has loaded its model and listens, or
  ``Failed`` with the server's error as ``FailureReason``.
* ``UpdateEndpoint`` starts the new servers on the same ports (``SO_REUSEPORT``), switches
  the routing record when they all answer, then stops the old ones: no request is
  dropped and a variant's URL does not change. A failed update rolls back (the endpoint
  stays ``InService`` on its previous config, with the ``FailureReason``).
* ``DeleteEndpoint`` stops the servers (SIGTERM, then SIGKILL) and frees their ports
  before it returns.
* A server that dies is reported: the endpoint becomes ``Failed`` with its last error.

:meth:`Hosting.endpoint_url` gives the URL of a variant's server (AWS's API has no place
for it), for ``curl`` and load generators.
"""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from local_backends.core.base import operation
from local_backends.core.errors import NotImplementedByBackend, ValidationException
from local_backends.core.state import encode_token, token_value
from local_backends.core.times import epoch_seconds as _ts, utc_datetime as _dt

from .model_server import logship, supervisor
from .model_server.artifacts import ArtifactError, extract, fetch
from .model_server.store import HostingStore
_SORT_KEYS = {"Name": lambda r: r["name"], "CreationTime": lambda r: r["created"],
              "Status": lambda r: r["status"]}


def _page(records: list[dict], NextToken, MaxResults, SortBy, SortOrder, NameContains,
          CreationTimeBefore, CreationTimeAfter, default_sort: str = "CreationTime") -> tuple[list, str | None]:
    """Filter, sort and page records as SageMaker's List* operations do."""
    if NameContains:
        records = [r for r in records if NameContains.lower() in r["name"].lower()]
    if CreationTimeBefore is not None:
        records = [r for r in records if r["created"] < _ts(CreationTimeBefore)]
    if CreationTimeAfter is not None:
        records = [r for r in records if r["created"] > _ts(CreationTimeAfter)]
    records.sort(key=_SORT_KEYS[SortBy or default_sort],
                 reverse=(SortOrder or "Descending") == "Descending")
    start = 0
    if NextToken:
        start = token_value(NextToken, "offset", int, ValidationException(f"Invalid pagination token {NextToken!r}."))
    size = MaxResults or 10
    page = records[start:start + size]
    more = start + size < len(records)
    return page, encode_token({"offset": start + size}) if more else None


class Hosting:
    """The hosting operations of the local SageMaker backend (a mixin)."""

    _hosting_store: HostingStore | None = None
    _reserved_ports: dict | None = None

    @property
    def hosting_store(self) -> HostingStore:
        if self._hosting_store is None:
            self._hosting_store = HostingStore(self.home)
            self._reserved_ports = {}
        return self._hosting_store

    def _arn_of(self, kind: str, name: str) -> str:
        return self.arn(f"{kind}/{name.lower()}", service="sagemaker")

    # -- models ---------------------------------------------------------------------------
    @operation
    def create_model(self, ModelName: str, PrimaryContainer: dict | None = None,
                     Containers: list | None = None, ExecutionRoleArn: str | None = None,
                     Tags: list | None = None, VpcConfig: dict | None = None,
                     EnableNetworkIsolation: bool = False,
                     InferenceExecutionConfig: dict | None = None) -> dict:
        if PrimaryContainer is None and not Containers:
            raise ValidationException("Either PrimaryContainer or Containers must be specified.")
        if PrimaryContainer is not None and Containers:
            raise ValidationException("PrimaryContainer and Containers cannot both be specified.")
        arn = self._arn_of("model", ModelName)
        spec = {"PrimaryContainer": PrimaryContainer, "Containers": Containers,
                "ExecutionRoleArn": ExecutionRoleArn, "VpcConfig": VpcConfig,
                "EnableNetworkIsolation": bool(EnableNetworkIsolation),
                "InferenceExecutionConfig": InferenceExecutionConfig, "Tags": Tags or []}
        if not self.hosting_store.insert_resource("models", self.account_id, self.region,
                                                  ModelName, arn, spec):
            raise ValidationException(f'Cannot create already existing model "{arn}".')
        return {"ModelArn": arn}

    def _model(self, name: str) -> dict:
        rec = self.hosting_store.get_resource("models", self.account_id, self.region, name)
        if rec is None:
            raise ValidationException(f'Could not find model "{self._arn_of("model", name)}".')
        return rec

    @operation
    def describe_model(self, ModelName: str) -> dict:
        rec = self._model(ModelName)
        spec = rec["spec"]
        out = {"ModelName": rec["name"], "ModelArn": rec["arn"], "CreationTime": _dt(rec["created"]),
               "EnableNetworkIsolation": spec["EnableNetworkIsolation"]}
        for key in ("PrimaryContainer", "Containers", "ExecutionRoleArn", "VpcConfig",
                    "InferenceExecutionConfig"):
            if spec.get(key):
                out[key] = spec[key]
        return out

    @operation
    def list_models(self, SortBy: str | None = None, SortOrder: str | None = None,
                    NextToken: str | None = None, MaxResults: int | None = None,
                    NameContains: str | None = None, CreationTimeBefore=None,
                    CreationTimeAfter=None) -> dict:
        recs = self.hosting_store.list_resources("models", self.account_id, self.region)
        page, token = _page(recs, NextToken, MaxResults, SortBy, SortOrder, NameContains,
                            CreationTimeBefore, CreationTimeAfter)
        out = {"Models": [{"ModelName": r["name"], "ModelArn": r["arn"],
                           "CreationTime": _dt(r["created"])} for r in page]}
        if token:
            out["NextToken"] = token
        return out

    @operation
    def delete_model(self, ModelName: str) -> dict:
        if not self.hosting_store.delete_resource("models", self.account_id, self.region, ModelName):
            raise ValidationException(f'Could not find model "{self._arn_of("model", ModelName)}".')
        return {}

    # -- endpoint configs -----------------------------------------------------------------
    @operation
    def create_endpoint_config(self, EndpointConfigName: str, ProductionVariants: list,
                               DataCaptureConfig: dict | None = None, Tags: list | None = None,
                               KmsKeyId: str | None = None, **rest) -> dict:
        unsupported = sorted(k for k, v in rest.items() if v and k in (
            "AsyncInferenceConfig", "ExplainerConfig", "ShadowProductionVariants"))
        if unsupported:
            raise NotImplementedByBackend("sagemaker", f"CreateEndpointConfig with {unsupported}")
        names = [v["VariantName"] for v in ProductionVariants]
        if len(set(names)) != len(names):
            raise ValidationException("The variant names of an endpoint configuration must be "
                                      f"unique; got {names}.")
        for v in ProductionVariants:
            self._model(v["ModelName"])
            if not v.get("ServerlessConfig") and not v.get("InstanceType"):
                raise ValidationException(f"Either InstanceType or ServerlessConfig must be "
                                          f"specified for production variant {v['VariantName']}.")
        if DataCaptureConfig is not None:
            pct = DataCaptureConfig["InitialSamplingPercentage"]
            if not 0 <= pct <= 100:
                raise ValidationException(f"1 validation error detected: Value '{pct}' at "
                                          f"'dataCaptureConfig.initialSamplingPercentage' failed to "
                                          f"satisfy constraint: Member must have value less than or "
                                          f"equal to 100")
        arn = self._arn_of("endpoint-config", EndpointConfigName)
        variants = []
        for v in ProductionVariants:
            v = dict(v)
            v.setdefault("InitialVariantWeight", 1.0)
            if not v.get("ServerlessConfig"):
                v.setdefault("InitialInstanceCount", 1)
            variants.append(v)
        spec = {"ProductionVariants": variants, "DataCaptureConfig": DataCaptureConfig,
                "KmsKeyId": KmsKeyId, "Tags": Tags or [],
                **{k: v for k, v in rest.items() if v is not None}}
        if not self.hosting_store.insert_resource("endpoint_configs", self.account_id, self.region,
                                                  EndpointConfigName, arn, spec):
            raise ValidationException(f'Cannot create already existing endpoint configuration "{arn}".')
        return {"EndpointConfigArn": arn}

    def _config(self, name: str) -> dict:
        rec = self.hosting_store.get_resource("endpoint_configs", self.account_id, self.region, name)
        if rec is None:
            raise ValidationException(
                f'Could not find endpoint configuration "{self._arn_of("endpoint-config", name)}".')
        return rec

    @operation
    def describe_endpoint_config(self, EndpointConfigName: str) -> dict:
        rec = self._config(EndpointConfigName)
        spec = rec["spec"]
        out = {"EndpointConfigName": rec["name"], "EndpointConfigArn": rec["arn"],
               "ProductionVariants": spec["ProductionVariants"], "CreationTime": _dt(rec["created"])}
        for key in ("DataCaptureConfig", "KmsKeyId", "ExecutionRoleArn", "VpcConfig",
                    "EnableNetworkIsolation", "MetricsConfig"):
            if spec.get(key) is not None:
                out[key] = spec[key]
        return out

    @operation
    def list_endpoint_configs(self, SortBy: str | None = None, SortOrder: str | None = None,
                              NextToken: str | None = None, MaxResults: int | None = None,
                              NameContains: str | None = None, CreationTimeBefore=None,
                              CreationTimeAfter=None) -> dict:
        recs = self.hosting_store.list_resources("endpoint_configs", self.account_id, self.region)
        page, token = _page(recs, NextToken, MaxResults, SortBy, SortOrder, NameContains,
                            CreationTimeBefore, CreationTimeAfter)
        out = {"EndpointConfigs": [{"EndpointConfigName": r["name"], "EndpointConfigArn": r["arn"],
                                    "CreationTime": _dt(r["created"])} for r in page]}
        if token:
            out["NextToken"] = token
        return out

    @operation
    def delete_endpoint_config(self, EndpointConfigName: str) -> dict:
        if not self.hosting_store.delete_resource("endpoint_configs", self.account_id, self.region,
                                                  EndpointConfigName):
            arn = self._arn_of("endpoint-config", EndpointConfigName)
            raise ValidationException(f'Could not find endpoint configuration "{arn}".')
        return {}

    # -- endpoints ------------------------------------------------------------------------
    @operation
    def create_endpoint(self, EndpointName: str, EndpointConfigName: str,
                        DeploymentConfig: dict | None = None, Tags: list | None = None) -> dict:
        config = self._config(EndpointConfigName)
        arn = self._arn_of("endpoint", EndpointName)
        store = self.hosting_store
        now = time.time()
        with store.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO endpoints (account, region, name, arn, config_name, "
                "pending_config, status, created, modified, generation) "
                "VALUES (?,?,?,?,?,?, 'Creating', ?, ?, 1)",
                (self.account_id, self.region, EndpointName, arn, EndpointConfigName,
                 EndpointConfigName, now, now))
            if cur.rowcount != 1:
                raise ValidationException(f'Cannot create already existing endpoint "{arn}".')
        self._deploy(EndpointName, config, generation=1)
        return {"EndpointArn": arn}

    @operation
    def update_endpoint(self, EndpointName: str, EndpointConfigName: str,
                        RetainAllVariantProperties: bool | None = None,
                        ExcludeRetainedVariantProperties: list | None = None,
                        DeploymentConfig: dict | None = None,
                        RetainDeploymentConfig: bool | None = None) -> dict:
        store = self.hosting_store
        ep = self._endpoint(EndpointName)
        config = self._config(EndpointConfigName)
        with store.transaction() as db:
            cur = db.execute(
                "UPDATE endpoints SET status='Updating', pending_config=?, modified=?, "
                "generation=generation+1, failure_reason=NULL "
                "WHERE account=? AND region=? AND name=? AND status='InService'",
                (EndpointConfigName, time.time(), self.account_id, self.region, EndpointName))
            if cur.rowcount != 1:
                status = db.execute("SELECT status FROM endpoints WHERE account=? AND region=? "
                                    "AND name=?", (self.account_id, self.region, EndpointName)
                                    ).fetchone()
                if status is not None and status["status"] == "Failed":
                    raise ValidationException(f'Cannot update failed endpoint "{ep["arn"]}".')
                raise ValidationException(f'Cannot update in-progress endpoint "{ep["arn"]}".')
            generation = db.execute("SELECT generation FROM endpoints WHERE account=? AND region=? "
                                    "AND name=?", (self.account_id, self.region, EndpointName)
                                    ).fetchone()["generation"]
        self._deploy(EndpointName, config, generation)
        return {"EndpointArn": ep["arn"]}

    def _endpoint(self, name: str) -> dict:
        ep = self.hosting_store.get_endpoint(self.account_id, self.region, name)
        if ep is None:
            raise ValidationException(f'Could not find endpoint "{self._arn_of("endpoint", name)}".')
        return ep

    def _deploy(self, name: str, config: dict, generation: int) -> None:
        """Fetch the variants' models and start their servers as ``pending``."""
        store = self.hosting_store
        base = store.endpoint_dir(self.region, name) / f"g{generation}"
        live_ports = {s["variant"]: s["port"] for s in store.servers(self.account_id, self.region, name)}
        reserved = []
        try:
            plans = []
            for variant in config["spec"]["ProductionVariants"]:
                plans.append(self._prepare_variant(variant, base / variant["VariantName"]))
        except (ArtifactError, ValidationException) as exc:
            self._fail_deploy(name, generation, str(exc.message if hasattr(exc, "message") else exc))
            shutil.rmtree(base, ignore_errors=True)
            return
        try:
            self._start_servers(name, config, generation, plans, live_ports, reserved)
        except OSError as exc:
            self._fail_deploy(name, generation, f"the model server could not be started: {exc}")
            for sock in reserved:
                sock.close()
            raise
        self._watch(name, reserved)

    def _start_servers(self, name: str, config: dict, generation: int, plans: list,
                       live_ports: dict, reserved: list) -> None:
        store = self.hosting_store
        with store.transaction() as db:
            for variant, plan in zip(config["spec"]["ProductionVariants"], plans):
                vname = variant["VariantName"]
                port = live_ports.get(vname)
                if port is None:
                    sock = supervisor.reserve_port()
                    reserved.append(sock)
                    port = sock.getsockname()[1]
                count = variant.get("InitialInstanceCount") or 1
                for i in range(count):
                    proc, status_file, log_file = supervisor.spawn(
                        plan["dir"] / f"instance-{i + 1}", plan["model_dir"], port,
                        plan["environment"], plan["code_dir"], plan["program"])
                    store.add_server(
                        db, account=self.account_id, region=self.region, endpoint=name,
                        variant=vname, instance=i + 1, generation=generation, role="pending",
                        model_name=variant["ModelName"],
                        weight=float(variant.get("InitialVariantWeight", 1.0)), port=port,
                        url=f"http://127.0.0.1:{port}", pid=proc.pid,
                        token=supervisor.process_token(proc.pid), dir=str(plan["dir"]),
                        status_file=str(status_file), log_file=str(log_file), started=time.time())

    def _prepare_variant(self, variant: dict, vdir: Path) -> dict:
        model = self._model(variant["ModelName"])
        spec = model["spec"]
        containers = spec.get("Containers") or []
        container = spec.get("PrimaryContainer") or (containers[0] if len(containers) == 1 else None)
        if container is None:
            raise ValidationException(f"Model {model['name']}: the local backend serves models "
                                      f"with one container (got {len(containers)}).")
        env = dict(container.get("Environment") or {})
        url = container.get("ModelDataUrl") or (
            (container.get("ModelDataSource") or {}).get("S3DataSource", {}).get("S3Uri"))
        model_dir = vdir / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        if url:
            try:
                archive = fetch(self.peers, url, vdir / "model.tar.gz")
                extract(archive, model_dir)
                archive.unlink()
            except ArtifactError as exc:
                raise ArtifactError(
                    f'Failed to download model data for container "container_1" from URL: "{url}". '
                    f"Please ensure that there is an object located at the URL and that the role "
                    f"passed to CreateModel has permissions to download the object. ({exc})") from None
        program = env.get("SAGEMAKER_PROGRAM") or env.get("sagemaker_program")
        submit = env.get("SAGEMAKER_SUBMIT_DIRECTORY") or env.get("sagemaker_submit_directory")
        code_dir = None
        if submit:
            if submit.startswith("/") and Path(submit).is_dir():
                code_dir = Path(submit)
            elif submit.endswith(".tar.gz") or submit.startswith("s3://"):
                try:
                    archive = fetch(self.peers, submit, vdir / "sourcedir.tar.gz")
                    code_dir = extract(archive, vdir / "code")
                except ArtifactError as exc:
                    raise ArtifactError(f"Failed to download the source directory {submit}: "
                                        f"{exc}") from None
            elif submit.startswith("file://") and Path(submit[7:]).is_dir():
                code_dir = Path(submit[7:])
            elif (model_dir / "code").is_dir():
                code_dir = model_dir / "code"  # /opt/ml/model/code, as the containers resolve it
        if program and code_dir is None and (model_dir / "code" / program).is_file():
            code_dir = model_dir / "code"
        env.setdefault("SAGEMAKER_REGION", self.region)
        return {"dir": vdir, "model_dir": model_dir, "code_dir": code_dir, "program": program,
                "environment": env}

    def _fail_deploy(self, name: str, generation: int, reason: str) -> None:
        with self.hosting_store.transaction() as db:
            db.execute("UPDATE endpoints SET status=CASE status WHEN 'Creating' THEN 'Failed' "
                       "ELSE 'InService' END, failure_reason=?, pending_config=NULL, modified=? "
                       "WHERE account=? AND region=? AND name=? AND generation=?",
                       (reason[:1024], time.time(), self.account_id, self.region, name, generation))

    def _watch(self, name: str, reserved: list) -> None:
        """Move the endpoint forward in the background while this process lives."""
        store, account, region = self.hosting_store, self.account_id, self.region

        def run() -> None:
            try:
                while True:
                    draining = supervisor.advance(store, account, region, name)
                    supervisor.drain(store, draining, delay=supervisor.DRAIN_DELAY_SECONDS)
                    ep = store.get_endpoint(account, region, name)
                    if ep is None or ep["status"] not in supervisor.IN_PROGRESS:
                        return
                    time.sleep(0.05)
            finally:
                for sock in reserved:
                    sock.close()

        threading.Thread(target=run, name=f"watch-endpoint-{name}", daemon=True).start()

    def _refresh(self, name: str) -> None:
        draining = supervisor.advance(self.hosting_store, self.account_id, self.region, name)
        supervisor.drain(self.hosting_store, draining)

    @operation
    def describe_endpoint(self, EndpointName: str) -> dict:
        self._endpoint(EndpointName)
        self._refresh(EndpointName)
        ep = self._endpoint(EndpointName)
        self._ship_logs(EndpointName)
        out = {"EndpointName": ep["name"], "EndpointArn": ep["arn"],
               "EndpointConfigName": ep["config_name"], "EndpointStatus": ep["status"],
               "CreationTime": _dt(ep["created"]), "LastModifiedTime": _dt(ep["modified"])}
        if ep["failure_reason"]:
            out["FailureReason"] = ep["failure_reason"]
        config = self.hosting_store.get_resource("endpoint_configs", self.account_id, self.region,
                                                 ep["config_name"])
        live = self.hosting_store.servers(self.account_id, self.region, EndpointName)
        variants = []
        for v in (config["spec"]["ProductionVariants"] if config else []):
            mine = [s for s in live if s["variant"] == v["VariantName"]]
            summary = {"VariantName": v["VariantName"],
                       "DesiredWeight": float(v.get("InitialVariantWeight", 1.0)),
                       "DesiredInstanceCount": v.get("InitialInstanceCount") or 1}
            if mine:
                image = self._image_of(mine[0]["model_name"])
                if image:
                    summary["DeployedImages"] = [{"SpecifiedImage": image, "ResolvedImage": image,
                                                  "ResolutionTime": _dt(mine[0]["started"])}]
                summary["CurrentWeight"] = mine[0]["weight"]
                summary["CurrentInstanceCount"] = len(mine)
            if v.get("ServerlessConfig"):
                summary["DesiredServerlessConfig"] = v["ServerlessConfig"]
                if mine:
                    summary["CurrentServerlessConfig"] = v["ServerlessConfig"]
            variants.append(summary)
        if variants and ep["status"] != "Creating":
            out["ProductionVariants"] = variants
        capture = (config or {}).get("spec", {}).get("DataCaptureConfig")
        if capture:
            enabled = capture.get("EnableCapture", True)
            out["DataCaptureConfig"] = {
                "EnableCapture": enabled, "CaptureStatus": "Started" if enabled else "Stopped",
                "CurrentSamplingPercentage": capture["InitialSamplingPercentage"],
                "DestinationS3Uri": capture["DestinationS3Uri"],
                "KmsKeyId": capture.get("KmsKeyId", "")}
        return out

    def _image_of(self, model_name: str) -> str | None:
        rec = self.hosting_store.get_resource("models", self.account_id, self.region, model_name)
        if rec is None:
            return None
        spec = rec["spec"]
        container = spec.get("PrimaryContainer") or (spec.get("Containers") or [{}])[0]
        return container.get("Image")

    def _ship_logs(self, name: str) -> None:
        servers = self.hosting_store.all_servers(self.account_id, self.region, name)
        if servers:
            logship.ship(self.hosting_store, self.peers.client("logs"), name, servers)

    @operation
    def list_endpoints(self, SortBy: str | None = None, SortOrder: str | None = None,
                       NextToken: str | None = None, MaxResults: int | None = None,
                       NameContains: str | None = None, CreationTimeBefore=None,
                       CreationTimeAfter=None, LastModifiedTimeBefore=None,
                       LastModifiedTimeAfter=None, StatusEquals: str | None = None) -> dict:
        store = self.hosting_store
        for ep in store.list_endpoints(self.account_id, self.region):
            if ep["status"] in supervisor.IN_PROGRESS + ("InService",):
                self._refresh(ep["name"])
        recs = store.list_endpoints(self.account_id, self.region)
        if StatusEquals:
            recs = [r for r in recs if r["status"] == StatusEquals]
        if LastModifiedTimeBefore is not None:
            recs = [r for r in recs if r["modified"] < _ts(LastModifiedTimeBefore)]
        if LastModifiedTimeAfter is not None:
            recs = [r for r in recs if r["modified"] > _ts(LastModifiedTimeAfter)]
        page, token = _page(recs, NextToken, MaxResults, SortBy, SortOrder, NameContains,
                            CreationTimeBefore, CreationTimeAfter)
        out = {"Endpoints": [{"EndpointName": r["name"], "EndpointArn": r["arn"],
                              "CreationTime": _dt(r["created"]),
                              "LastModifiedTime": _dt(r["modified"]),
                              "EndpointStatus": r["status"]} for r in page]}
        if token:
            out["NextToken"] = token
        return out

    @operation
    def delete_endpoint(self, EndpointName: str) -> dict:
        store = self.hosting_store
        ep = self._endpoint(EndpointName)
        with store.transaction() as db:
            db.execute("UPDATE endpoints SET status='Deleting', modified=? WHERE account=? AND "
                       "region=? AND name=?", (time.time(), self.account_id, self.region, EndpointName))
            db.execute("UPDATE servers SET role='draining', drain_started=NULL WHERE account=? AND "
                       "region=? AND endpoint=?", (self.account_id, self.region, EndpointName))
        servers = store.all_servers(self.account_id, self.region, EndpointName)
        stop_threads = [threading.Thread(target=supervisor.stop, args=(s,), daemon=True)
                        for s in servers]
        for t in stop_threads:
            t.start()
        for t in stop_threads:
            t.join()
        self._ship_logs(EndpointName)
        with store.transaction() as db:
            db.execute("DELETE FROM servers WHERE account=? AND region=? AND endpoint=?",
                       (self.account_id, self.region, EndpointName))
            db.execute("DELETE FROM endpoints WHERE account=? AND region=? AND name=? AND arn=?",
                       (self.account_id, self.region, EndpointName, ep["arn"]))
        shutil.rmtree(store.endpoint_dir(self.region, EndpointName), ignore_errors=True)
        return {}

    # -- beyond AWS's API -------------------------------------------------------------------
    def endpoint_url(self, name: str, variant: str | None = None) -> str:
        """The ``http://127.0.0.1:<port>`` of an endpoint variant's model server (the first
        variant unless ``variant`` is given); ``POST <url>/invocations`` scores."""
        self._endpoint(name)
        self._refresh(name)
        servers = self.hosting_store.servers(self.account_id, self.region, name)
        if variant is not None:
            servers = [s for s in servers if s["variant"] == variant]
        if not servers:
            ep = self._endpoint(name)
            raise ValidationException(f"Endpoint {name} has no server in service "
                                      f"(status {ep['status']}"
                                      f"{': ' + ep['failure_reason'] if ep['failure_reason'] else ''}).")
        return servers[0]["url"]
