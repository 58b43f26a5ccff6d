"""Endpoint speed, one run, one model: the local endpoint over HTTP, ``invoke_endpoint``
through boto3, ``mlflow models serve``, and in-process ``predict`` (the limit).

    python benchmarks/bench_endpoints.py                   # 3 s per cell
    python benchmarks/bench_endpoints.py --seconds 5 --mlflow-python /path/to/venv/bin/python

The model is a scikit-learn pipeline (StandardScaler + LogisticRegression) fitted on the
bundled fraud claims' numeric columns; each request scores one row. Clients are threads,
each with its own keep-alive connection (``http.client``) or sharing one boto3 client
(thread-safe, with its own connection pool). For each of 1, 8 and 32 concurrent clients
it prints requests per second and p50 / p99 latency. MLflow runs from ``--mlflow-python``
(a venv with ``mlflow`` and the same scikit-learn), else from this interpreter if mlflow
imports, else it is skipped with a note.

Targets: at 32 clients at least 2x MLflow's throughput; at 1 client a p50 overhead over
in-process ``predict`` under 1 ms.
"""
from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import joblib  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from aws_ml import Session, datasets, serving  # noqa: E402

CONCURRENCY = (1, 8, 32)


def fraud_model():
    df = datasets.load("fraud/claims").select_dtypes("number")
    y = df.pop("fraud").to_numpy()
    df = df.drop(columns=[c for c in df.columns if c.endswith("_id")])
    x = df.to_numpy(dtype=float)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y), x, list(df.columns)


def run_threads(n: int, seconds: float, make_call):
    """``(requests/s, p50 ms, p99 ms, errors)`` of ``n`` threads calling for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(n)]
    errors = [0] * n
    stop = time.perf_counter() + seconds
    barrier = threading.Barrier(n + 1)

    def worker(i: int) -> None:
        call = make_call()
        call()  # warm the connection
        barrier.wait()
        lat = latencies[i]
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                break
            try:
                call()
            except Exception:
                errors[i] += 1
                continue
            lat.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    stop = start + seconds
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    allv = sorted(v for lat in latencies for v in lat)
    if not allv:
        return 0.0, float("nan"), float("nan"), sum(errors)
    p50 = allv[len(allv) // 2] * 1e3
    p99 = allv[min(len(allv) - 1, int(len(allv) * 0.99))] * 1e3
    return len(allv) / elapsed, p50, p99, sum(errors)


def http_caller(port: int, path: str, body: bytes, ctype: str):
    def make():
        conn = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"Content-Type": ctype}

        def call():
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                raise RuntimeError(f"{r.status}: {data[:200]!r}")
        return call
    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mlflow(python: str, model_file: Path, workdir: Path):
    """Save the same model with mlflow (in ``python``'s environment) and serve it."""
    mdir = workdir / "mlflow-model"
    code = ("import joblib, sys, mlflow.sklearn\n"
            f"mlflow.sklearn.save_model(joblib.load({str(model_file)!r}), {str(mdir)!r})\n")
    subprocess.run([python, "-c", code], check=True, capture_output=True, timeout=300)
    port = free_port()
    mlflow_bin = str(Path(python).with_name("mlflow"))
    # mlflow starts ``uvicorn`` by name: its environment's bin directory goes first in PATH
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"file://{workdir}/mlruns",
               PATH=os.pathsep.join([str(Path(python).parent), os.environ.get("PATH", "")]))
    log = open(workdir / "mlflow.log", "wb")
    proc = subprocess.Popen([mlflow_bin, "models", "serve", "-m", str(mdir), "-p", str(port),
                             "--env-manager", "local", "-h", "127.0.0.1"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    tail = (workdir / "mlflow.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"mlflow models serve did not answer /ping:\n{tail}")


def find_mlflow_python(arg: str | None) -> str | None:
    if arg:
        return arg
    import importlib.util
    return sys.executable if importlib.util.find_spec("mlflow") else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--mlflow-python", default=None,
                        help="a Python whose environment has mlflow (default: this one, if it has)")
    args = parser.parse_args()

    clf, x, columns = fraud_model()
    row = x[:1]
    csv_body = (",".join(repr(float(v)) for v in row[0])).encode()
    work = Path(tempfile.mkdtemp(prefix="bench-endpoints-"))
    results: dict[str, dict[int, tuple]] = {}
    try:
        joblib.dump(clf, work / "model.joblib")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(work / "model.joblib", arcname="model.joblib")

        session = Session(backend="local", home=work / "home", region="us-east-1")
        s3 = session.client("s3")
        s3.create_bucket(Bucket="bench-models")
        s3.put_object(Bucket="bench-models", Key="model.tar.gz", Body=buf.getvalue())
        t0 = time.perf_counter()
        name = serving.deploy(session, "s3://bench-models/model.tar.gz", name="bench")
        print(f"endpoint InService in {time.perf_counter() - t0:.1f} s")
        url = serving.endpoint_url(session, name)
        port = int(url.rsplit(":", 1)[1])

        # (d) in-process predict: the limit
        results["in-process predict"] = {}
        for n in CONCURRENCY:
            results["in-process predict"][n] = run_threads(
                n, args.seconds, lambda: (lambda: clf.predict(row)))

        # (a) the endpoint over HTTP
        results["endpoint over HTTP"] = {
            n: run_threads(n, args.seconds, http_caller(port, "/invocations", csv_body, "text/csv"))
            for n in CONCURRENCY}

        # (b) invoke_endpoint through boto3
        from botocore.config import Config
        rt = session.client("sagemaker-runtime", config=Config(max_pool_connections=64))

        def boto_make():
            def call():
                rt.invoke_endpoint(EndpointName=name, Body=csv_body, ContentType="text/csv")["Body"].read()
            return call
        results["invoke_endpoint (boto3)"] = {n: run_threads(n, args.seconds, boto_make)
                                              for n in CONCURRENCY}

        # (c) mlflow models serve
        mlflow_python = find_mlflow_python(args.mlflow_python)
        if mlflow_python is None:
            print("note: mlflow is not installed here and --mlflow-python was not given: "
                  "the MLflow row is skipped")
        else:
            proc, mport = start_mlflow(mlflow_python, work / "model.joblib", work)
            try:
                body = json.dumps({"dataframe_split": {"columns": columns,
                                                       "data": row.tolist()}}).encode()
                results["mlflow models serve"] = {
                    n: run_threads(n, args.seconds, http_caller(mport, "/invocations", body,
                                                                "application/json"))
                    for n in CONCURRENCY}
            finally:
                os.killpg(proc.pid, signal.SIGTERM)   # mlflow's CLI and the uvicorn it started
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        serving.delete(session, name)
        session.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\none row per request, {args.seconds:.0f} s per cell, {os.cpu_count()} CPUs")
    print(f"{'target':28s}" + "".join(f"{'c=' + str(n):>28s}" for n in CONCURRENCY))
    for target, cells in results.items():
        line = f"{target:28s}"
        for n in CONCURRENCY:
            rps, p50, p99, errs = cells[n]
            line += f"{rps:>10,.0f} r/s {p50:6.2f}/{p99:6.2f} ms" + (f" ({errs} err)" if errs else "")
        print(line)
    http_ = results["endpoint over HTTP"]
    limit = results["in-process predict"][1][1]
    print(f"\np50 overhead over in-process predict at c=1: endpoint HTTP "
          f"{http_[1][1] - limit:.2f} ms, invoke_endpoint "
          f"{results['invoke_endpoint (boto3)'][1][1] - limit:.2f} ms (target < 1 ms)")
    if "mlflow models serve" in results:
        ml = results["mlflow models serve"]
        for n in CONCURRENCY:
            print(f"throughput ratio endpoint/MLflow at c={n}: {http_[n][0] / ml[n][0]:.1f}x"
                  f"  (invoke_endpoint/MLflow {results['invoke_endpoint (boto3)'][n][0] / ml[n][0]:.1f}x)")
        print("target: >= 2x at c=32")


if __name__ == "__main__":
    main()
