"""``python -m local_backends.sagemaker.labeling.portal --home DIR [--port N]``: serve the worker
portal of a local state root on 127.0.0.1 until interrupted."""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", default=os.environ.get("AWS_ML_HOME", str(Path.home() / ".aws_ml")),
                        help="the local state root (default: AWS_ML_HOME, else ~/.aws_ml)")
    parser.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    args = parser.parse_args(argv)
    from .app import PortalServer
    server = PortalServer(Path(args.home), port=args.port)
    print(f"labeling portal for {args.home}:", flush=True)
    print(server.url, flush=True)
    server.server.run(sockets=[server.sock])


if __name__ == "__main__":
    main()
