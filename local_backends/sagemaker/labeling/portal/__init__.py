"""The Ground Truth worker portal served locally (see :mod:`.app`)."""
from .app import make_app, serve_portal, stop_portal

__all__ = ["make_app", "serve_portal", "stop_portal"]
