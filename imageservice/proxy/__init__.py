"""A resource proxy for the dashboard: `<app>/proxy?<url>`, as Esri's resource-proxy and
esri-leaflet's `proxy` option compose it.

It forwards only to an allow-list of ArcGIS services, adds the operator's token server-side (so it
never reaches the browser), caps size and time, and caches exportImage, identify and metadata.
`install(server, ProxyConfig.from_env())` puts it on a Flask server; see docs/proxy.md.
"""

from imageservice.proxy.config import ProxyConfig, ServiceEntry
from imageservice.proxy.routes import install

__all__ = ["ProxyConfig", "ServiceEntry", "install"]
