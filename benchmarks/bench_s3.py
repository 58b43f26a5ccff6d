"""S3 speed: the local backend vs moto in-process vs the raw file system, in one run.

    python benchmarks/bench_s3.py                 # all: 1 KiB calls, 1 GiB transfers, 100k-key listing
    python benchmarks/bench_s3.py --size-mib 256  # smaller transfers
    python benchmarks/bench_s3.py --only small    # one part: small | transfer | list

Every figure is measured in this run and reported with its ratio to the peers.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from boto3.s3.transfer import TransferConfig  # noqa: E402

from aws_ml import Session  # noqa: E402

KiB, MiB = 1024, 1024 * 1024


def load() -> str:
    """The 1-minute load average: other work on the machine skews every figure of a run."""
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "n/a"


def per_call_us(fn, n: int) -> float:
    """Median of 5 batches, microseconds per call."""
    batches = []
    for _ in range(5):
        t = time.perf_counter()
        for i in range(n // 5):
            fn(i)
        batches.append((time.perf_counter() - t) / (n // 5) * 1e6)
    return statistics.median(batches)


def small_calls(sessions: dict, workdir: Path, n: int) -> dict:
    body = os.urandom(KiB)
    out = {}
    for name, s in sessions.items():
        s3 = s.client("s3")
        s3.create_bucket(Bucket="bench-small")
        put = per_call_us(lambda i: s3.put_object(Bucket="bench-small", Key=f"k/{i}", Body=body), n)
        get = per_call_us(lambda i: s3.get_object(Bucket="bench-small", Key=f"k/{i}")["Body"].read(), n)
        out[name] = (put, get)
    raw = workdir / "raw-small"
    raw.mkdir()

    def raw_put(i):
        with open(raw / f"{i}", "wb") as f:
            f.write(body)

    def raw_get(i):
        with open(raw / f"{i}", "rb") as f:
            f.read()
    out["raw file system"] = (per_call_us(raw_put, n), per_call_us(raw_get, n))
    return out


def warm_page_cache(workdir: Path, size: int) -> None:
    """Write and delete ``size`` bytes, so that the next ``size`` bytes written land in
    memory already in use. On these VMs, memory the kernel freed is soon handed back to the
    host, and the first write to such a page costs several times more than a write to a
    page just freed: without this, a writer's figure depends on what ran before it (an
    upload that only allocates, followed by a download, gets the cold pages)."""
    block = os.urandom(64 * MiB)
    for i in range(max(1, size // len(block))):
        with open(workdir / f"warm-{i}", "wb") as f:
            f.write(block)
    for i in range(max(1, size // len(block))):
        (workdir / f"warm-{i}").unlink()


def timed(workdir: Path, size: int, fn) -> float:
    """MiB/s of ``fn()`` moving ``size`` bytes, every peer's timed step after the same warm-up."""
    warm_page_cache(workdir, 2 * size)
    t = time.perf_counter()
    fn()
    return size / MiB / (time.perf_counter() - t)


def transfers(sessions: dict, workdir: Path, size: int) -> dict:
    src = workdir / "src.bin"
    with open(src, "wb") as f:
        block = os.urandom(8 * MiB)
        for _ in range(size // len(block)):
            f.write(block)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=10)
    out = {}
    for name, s in sessions.items():
        s3 = s.client("s3")
        s3.create_bucket(Bucket="bench-transfer")
        dst = workdir / f"dst-{name.replace(' ', '-')}.bin"

        def upload():
            with open(src, "rb") as f:
                s3.upload_fileobj(f, "bench-transfer", "big.bin", Config=config)

        def download():
            with open(dst, "wb") as f:
                s3.download_fileobj("bench-transfer", "big.bin", f, Config=config)
        up = timed(workdir, size, upload)
        down = timed(workdir, size, download)
        assert dst.stat().st_size == size
        dst.unlink()
        s3.delete_object(Bucket="bench-transfer", Key="big.bin")
        out[name] = (up, down)
    # The raw copy is the denominator of the targets: best of 3 (it takes a fraction of a
    # second, so one unlucky moment on a shared machine would flatter every ratio).
    copies = []
    for _ in range(3):
        copies.append((timed(workdir, size, lambda: shutil.copyfile(src, workdir / "copy.bin")),
                       timed(workdir, size, lambda: shutil.copyfile(workdir / "copy.bin",
                                                                    workdir / "copy2.bin"))))
        for p in ("copy.bin", "copy2.bin"):
            (workdir / p).unlink()
    out["raw file copy"] = (max(c[0] for c in copies), max(c[1] for c in copies))
    src.unlink()
    return out


def listing(sessions: dict, n_keys: int) -> dict:
    out = {}
    for name, s in sessions.items():
        s3 = s.client("s3")
        s3.create_bucket(Bucket="bench-list")
        keys = [f"part={i % 100:03d}/file-{i:07d}.csv" for i in range(n_keys)]
        if name == "moto":
            # Filling moto through its HTTP-free backend API (put_object at ~1 ms a call would take minutes).
            from moto.s3.models import s3_backends
            backend = s3_backends["123456789012"]["aws"]
            for k in keys:
                backend.put_object("bench-list", k, b"")
        else:
            for k in keys:
                s3.put_object(Bucket="bench-list", Key=k, Body=b"")
        t = time.perf_counter()
        count = sum(page["KeyCount"] for page in
                    s3.get_paginator("list_objects_v2").paginate(Bucket="bench-list"))
        full = time.perf_counter() - t
        assert count == n_keys, count
        t = time.perf_counter()
        prefixes = s3.list_objects_v2(Bucket="bench-list", Delimiter="/")["CommonPrefixes"]
        delim = time.perf_counter() - t
        assert len(prefixes) == 100
        out[name] = (full, delim)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--only", choices=["small", "transfer", "list"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        workdir = Path(tmp)
        sessions = {"local": Session(backend="local", home=workdir / "home"),
                    "moto": Session(backend="moto", home=workdir / "home-moto")}
        print(f"# S3 benchmark ({time.strftime('%Y-%m-%d %H:%M')}, python {sys.version.split()[0]}, "
              f"{os.cpu_count()} cores, load {load()})\n")
        if args.only in (None, "small"):
            r = small_calls(sessions, workdir, args.calls)
            lp, lg = r["local"]
            print(f"## put_object / get_object, 1 KiB, {args.calls} calls (median µs per call)\n")
            print("| backend | put µs | get µs | local put speed-up | local get speed-up |")
            print("|---|---:|---:|---:|---:|")
            for name, (p, g) in r.items():
                print(f"| {name} | {p:.1f} | {g:.1f} | {p / lp:.2f}× | {g / lg:.2f}× |")
            print()
        if args.only in (None, "transfer"):
            before = load()
            r = transfers(sessions, workdir, args.size_mib * MiB)
            lu, ld = r["local"]
            print(f"## upload_fileobj / download_fileobj of {args.size_mib} MiB through s3transfer (MiB/s)"
                  f" — load {before} before, {load()} after\n")
            print("Each timed step follows the same page-cache warm-up; the raw copy is the best of 3.\n")
            print("| backend | upload MiB/s | download MiB/s | local / this (up) | local / this (down) |")
            print("|---|---:|---:|---:|---:|")
            for name, (u, d) in r.items():
                print(f"| {name} | {u:.0f} | {d:.0f} | {lu / u:.2f}× | {ld / d:.2f}× |")
            print()
        if args.only in (None, "list"):
            r = listing(sessions, args.keys)
            lf, ldl = r["local"]
            print(f"## list_objects_v2 over {args.keys:,} keys (seconds)\n")
            print("| backend | full listing (paginator) s | delimiter listing s | local speed-up (full) | (delimiter) |")
            print("|---|---:|---:|---:|---:|")
            for name, (f, d) in r.items():
                print(f"| {name} | {f:.3f} | {d:.4f} | {f / lf:.1f}× | {d / ldl:.1f}× |")
            print()
        for s in sessions.values():
            s.close()


if __name__ == "__main__":
    main()
