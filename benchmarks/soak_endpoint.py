"""A 60-second load at 32 clients on one local endpoint: errors and the server's memory.

    python benchmarks/soak_endpoint.py [--seconds 60] [--clients 32]

Samples the model server's resident memory (VmRSS) every 5 s while the load runs.
"""
from __future__ import annotations

import argparse
import io
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import joblib  # noqa: E402

from aws_ml import Session, serving  # noqa: E402
from bench_endpoints import fraud_model, http_caller, run_threads  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=32)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, Session(backend="local", home=Path(tmp)) as s:
        model, x, _ = fraud_model()
        raw, buf = io.BytesIO(), io.BytesIO()
        joblib.dump(model, raw)
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            info = tarfile.TarInfo("model.joblib")
            info.size = len(raw.getvalue())
            tar.addfile(info, io.BytesIO(raw.getvalue()))
        s3 = s.client("s3")
        s3.create_bucket(Bucket="soak-models")
        s3.put_object(Bucket="soak-models", Key="model.tar.gz", Body=buf.getvalue())
        name = serving.deploy(s, "s3://soak-models/model.tar.gz", name="soak")
        try:
            url = serving.endpoint_url(s, name)
            backend = s.router.backend("sagemaker", s.region)
            (server,) = backend.hosting_store.servers(backend.account_id, s.region, name)
            body = ",".join(str(v) for v in x[0]).encode()
            samples: list[tuple[float, float]] = []
            done = threading.Event()

            def sample() -> None:
                t0 = time.monotonic()
                while not done.wait(5):
                    samples.append((time.monotonic() - t0, rss_mib(server["pid"])))
            before = rss_mib(server["pid"])
            sampler = threading.Thread(target=sample)
            sampler.start()
            rps, p50, p99, errors = run_threads(args.clients, args.seconds,
                                                http_caller(urlsplit(url).port, "/invocations", body, "text/csv"))
            done.set()
            sampler.join()
            after = rss_mib(server["pid"])
            print(f"# soak: {args.clients} clients for {args.seconds:.0f} s on one local endpoint\n")
            print(f"requests/s {rps:,.0f}, p50 {p50:.2f} ms, p99 {p99:.2f} ms, errors {errors}")
            print(f"server RSS: {before:.1f} MiB before, {after:.1f} MiB after; samples (s, MiB): "
                  + ", ".join(f"({t:.0f}, {m:.1f})" for t, m in samples))
        finally:
            serving.delete(s, name)


if __name__ == "__main__":
    main()
