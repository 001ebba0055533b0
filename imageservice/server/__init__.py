"""The embedded ArcGIS-compatible ImageServer (extra `[server]`): folders of GeoTIFFs as services.

    from imageservice.server import create_app            # a Flask app serving /arcgis/...
    from imageservice.server import create_blueprint, open_services   # mount it in your own app

`imageservice-server [DIR]` runs it on its own (see `imageservice.server.__main__`).
"""

from imageservice.server.sampledata import ensure_sample_data
from imageservice.server.server import RedactingRequestHandler, create_app, create_blueprint, open_services

__all__ = ["RedactingRequestHandler", "create_app", "create_blueprint", "ensure_sample_data", "open_services"]
