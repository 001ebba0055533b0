"""ArcGIS Image Services from Python: esri-leaflet's ImageMapLayer without a browser (no Dash here).

The public names are re-exported lazily (PEP 562), so importing one submodule, e.g.
`imageservice.params` in a Dash callback, does not pull in requests or pandas. The subpackages:
`imageservice.dash` (the Dash component), `imageservice.server` (the embedded ImageServer, extra
`[server]`) and `imageservice.proxy` (the resource proxy).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

# The Dash component's browser half. Dash reads these lists from the top-level package of every
# component class it has seen (here imageservice.dash.ImageMapLayerAIO) and serves the files from
# /_dash-component-suites/ with a cache-busting fingerprint; they are plain data, not a Dash import.
_js_dist = [{"relative_package_path": "dash/imagemaplayer.js", "namespace": "imageservice"}]
_css_dist = [{"relative_package_path": "dash/imagemaplayer.css", "namespace": "imageservice"}]

_EXPORTS = {
    "ImageMapLayer": "imageservice.layer",
    "LayerParams": "imageservice.params",
    "View": "imageservice.urls",
    "ImageServiceClient": "imageservice.client",
    "ServiceInfo": "imageservice.metadata",
    "MultidimensionalInfo": "imageservice.multidim",
    "ImageServiceError": "imageservice.errors",
    "ParameterError": "imageservice.errors",
    "ArcGISError": "imageservice.errors",
    "AuthenticationRequired": "imageservice.errors",
    "ServiceUnreachable": "imageservice.errors",
    "ServiceTimeout": "imageservice.errors",
    "InvalidResponse": "imageservice.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'imageservice' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
