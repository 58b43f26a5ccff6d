"""``python -m local_backends.sagemaker.model_server``: run one model server."""
import sys

from .app import main

sys.exit(main())
