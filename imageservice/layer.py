"""ImageMapLayer: esri-leaflet's L.esri.imageMapLayer API with Python names, without a map.

The layer holds an immutable LayerParams and swaps it on every setter, so a snapshot
(`layer.params`, or `layer.params.to_dict()` in a dcc.Store) never changes under its reader.
Setters return the layer for chaining, set_rendering_rule/set_mosaic_rule included (esri-leaflet
forgot `return this` on those two).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from imageservice import urls
from imageservice.client import ImageServiceClient
from imageservice.errors import InvalidResponse
from imageservice.fetchpolicy import FetchPolicy
from imageservice.metadata import ServiceInfo, parse_service_info
from imageservice.params import LayerParams, parse_no_data
from imageservice.tasks import ComputeHistograms, GetSamples, IdentifyImage, Query

if TYPE_CHECKING:
    import requests


class ImageMapLayer:
    """An ArcGIS ImageServer layer: options, export URLs, identify and query."""

    def __init__(self, url: str, *, client: ImageServiceClient | None = None, policy: FetchPolicy | None = None,
                 session: requests.Session | None = None, **options: Any) -> None:
        """`options` are LayerParams fields (format, band_ids, no_data, ...); `client` is optional
        and otherwise built on first use from the url, token, proxy and request params, with
        `policy` and `session` (see ImageServiceClient)."""
        self.params = LayerParams.from_dict({"url": url, **options})
        self._client = client
        self._policy = policy
        self._session = session

    def _set(self, **changes: Any) -> ImageMapLayer:
        self.params = self.params.replace(**changes)
        return self

    @property
    def client(self) -> ImageServiceClient:
        if self._client is None:
            p = self.params
            self._client = ImageServiceClient(p.url, token=p.token, proxy=p.proxy, request_params=p.request_params,
                                              policy=self._policy, session=self._session)
        return self._client

    # --- options (each setter maps to exactly one wire parameter) ------------------------------

    def get_band_ids(self) -> list[int] | None:
        return None if self.params.band_ids is None else list(self.params.band_ids)

    def set_band_ids(self, band_ids: list[int] | str | None) -> ImageMapLayer:
        """Bands to render, 0-based, as a list or "3,0,1" (sent as bandIds)."""
        return self._set(band_ids=band_ids)

    def get_no_data(self) -> int | float | list[int | float] | None:
        no_data = self.params.no_data
        return list(no_data) if isinstance(no_data, list) else no_data

    def get_no_data_interpretation(self) -> str | None:
        return self.params.no_data_interpretation

    def set_no_data(self, no_data: Any, interpretation: str | None = None) -> ImageMapLayer:
        """Values to render transparent (noData), with their noDataInterpretation.

        Without an interpretation the seed's documented default is stored: esriNoDataMatchAny
        for one number, esriNoDataMatchAll for a list. esri-leaflet itself sends none and the
        server applies that same default, so the picture is the same; storing it makes the
        request explicit.
        """
        value = parse_no_data(no_data)
        if interpretation is None and value is not None:
            interpretation = "esriNoDataMatchAll" if isinstance(value, list) else "esriNoDataMatchAny"
        return self._set(no_data=value, no_data_interpretation=interpretation)

    def get_pixel_type(self) -> str | None:
        return self.params.pixel_type

    def set_pixel_type(self, pixel_type: str | None) -> ImageMapLayer:
        return self._set(pixel_type=pixel_type)

    def get_time_range(self) -> tuple[int | None, int | None]:
        """(from, to) in epoch milliseconds."""
        return self.params.time_from, self.params.time_to

    def set_time_range(self, time_from: Any, time_to: Any) -> ImageMapLayer:
        """Datetimes (naive means UTC) or epoch ms; sent as time=from,to when both are set."""
        return self._set(time_from=time_from, time_to=time_to)

    def get_rendering_rule(self) -> dict | None:
        return copy.deepcopy(self.params.rendering_rule)

    def set_rendering_rule(self, rule: dict | str | None) -> ImageMapLayer:
        return self._set(rendering_rule=rule)

    def get_mosaic_rule(self) -> dict | None:
        return copy.deepcopy(self.params.mosaic_rule)

    def set_mosaic_rule(self, rule: dict | str | None) -> ImageMapLayer:
        return self._set(mosaic_rule=rule)

    def get_opacity(self) -> float:
        return self.params.opacity

    def set_opacity(self, opacity: float) -> ImageMapLayer:
        """Display only: no request parameter changes."""
        return self._set(opacity=opacity)

    def bring_to_front(self) -> ImageMapLayer:
        return self._set(position="front")

    def bring_to_back(self) -> ImageMapLayer:
        return self._set(position="back")

    def authenticate(self, token: str) -> ImageMapLayer:
        """Use a new token everywhere: on the params (export URLs) and on the client, which
        replays the requests that failed with 498/499."""
        self._set(token=token)
        if self._client is not None:
            self._client.authenticate(token)
        return self

    # --- requests ----------------------------------------------------------------------------

    def export_url(self, view: urls.View) -> str:
        """The <img> URL for a view: the exportImage URL itself for f=image, or for f=json the
        returned href (with token and proxy applied)."""
        if self.params.f == "image":
            return urls.export_image_url(self.params, view)
        response = self.client.export_image(urls.export_params(self.params, view))
        if not isinstance(response, dict) or "href" not in response:
            raise InvalidResponse("exportImage f=json response has no href")
        return urls.href_url(self.params, response["href"])

    def metadata(self, max_age: float = 0.0) -> dict:
        """The service root JSON; `max_age` (seconds) reuses a recent one (ImageServiceClient.metadata)."""
        return self.client.metadata(max_age)

    def service_info(self) -> ServiceInfo:
        return parse_service_info(self.metadata())

    def query(self) -> Query:
        """A new catalog Query task bound to this layer's client."""
        return Query(self.client, self.params)

    def compute_histograms(self) -> ComputeHistograms:
        """A new ComputeHistograms task bound to this layer's client (mosaic rule and time forwarded)."""
        return ComputeHistograms(self.client, self.params)

    def identify(self) -> IdentifyImage:
        """A new IdentifyImage task bound to this layer's client (mosaic rule and time forwarded)."""
        return IdentifyImage(self.client, self.params)

    def get_samples(self) -> GetSamples:
        """A new GetSamples task bound to this layer's client (mosaic rule and time forwarded)."""
        return GetSamples(self.client, self.params)
