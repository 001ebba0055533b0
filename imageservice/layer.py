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
from imageservice.multidim import (
    INFO_PARAMS,
    MultidimensionalInfo,
    Variable,
    dimension_value,
    parse_multidimensional_info,
    profile_definition,
    slice_definition,
    with_definition,
)
from imageservice.params import LayerParams, parse_no_data
from imageservice.tasks import ComputeHistograms, GetSamples, IdentifyImage, Query

if TYPE_CHECKING:
    import pandas
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

    def get_multidimensional_definition(self) -> list[dict] | None:
        return copy.deepcopy((self.params.mosaic_rule or {}).get("multidimensionalDefinition"))

    def set_multidimensional_definition(self, definition: list[dict] | None) -> ImageMapLayer:
        """The mosaic rule's multidimensionalDefinition (the rest of the rule is kept); None removes it."""
        return self._set(mosaic_rule=with_definition(self.params.mosaic_rule, definition))

    def set_slice(self, variable: str, **dimension_values: Any) -> ImageMapLayer:
        """Show one variable at given dimension values: `set_slice("temperature",
        StdTime=datetime(2025, 3, 15), StdZ=-50)` (times as datetimes, ISO text or epoch ms)."""
        return self.set_multidimensional_definition(slice_definition(variable, **dimension_values))

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

    # --- multidimensional services -------------------------------------------------------------

    def multidimensional_info(self) -> MultidimensionalInfo:
        """The service's variables and dimensions (with every dimension value)."""
        return parse_multidimensional_info(self.client.get("multidimensionalInfo", INFO_PARAMS))

    def slices(self, definition: list[dict] | None = None) -> pandas.DataFrame:
        """The `slices` resource (all, or those a definition selects) as a table: sliceId,
        variable, one column per dimension."""
        from imageservice import tables
        from imageservice.params import parse_multidimensional_definition

        params = {"multidimensionalDefinition": parse_multidimensional_definition(definition)}
        return tables.slices_to_frame(self.client.request("slices", params))

    def profile(self, lat: float, lng: float, variable: str, along: str, *,
                info: MultidimensionalInfo | None = None, **fixed: Any) -> pandas.DataFrame:
        """A pixel's values of `variable` along one dimension, the others held at `fixed` values:
        `profile(lat, lng, "temperature", "StdZ", StdTime=t)` is a depth profile at time t.

        One identify with processAsMultidimensional (every slice's value at once); a server that
        does not answer per slice gets one identify per dimension value instead. The layer's
        time range is not sent: the profile wants every slice. Columns: the dimensions, `value`.
        """
        var = (info or self.multidimensional_info()).variable(variable)
        params = self.params.replace(time_from=None, time_to=None)
        rule = with_definition(params.mosaic_rule, profile_definition(variable, along, fixed))
        task = IdentifyImage(self.client, params).set_mosaic_rule(rule).at(lat, lng)
        response = task.return_catalog_items(True).return_geometry(False).process_as_multidimensional(True).run()
        frame = _slices_along(response, var, along)
        return self._profile_by_value(lat, lng, params, var, along, fixed) if frame is None else frame

    def _profile_by_value(self, lat: float, lng: float, params: LayerParams, variable: Variable, along: str,
                          fixed: dict) -> pandas.DataFrame:
        """The profile from one identify per dimension value (servers older than 10.8.1), in the
        same columns as the per-slice answer."""
        from imageservice import tables

        rows = []
        for value in variable.dimension(along).values:
            selection = {**fixed, along: value}
            rule = with_definition(params.mosaic_rule, slice_definition(variable.name, **selection))
            response = IdentifyImage(self.client, params).set_mosaic_rule(rule).at(lat, lng).return_catalog_items(False).run()
            pixel = tables.parse_pixel_values(response.get("value", tables.NO_DATA))
            attributes = {d.field: dimension_value(d.name, selection.get(d.name)) for d in variable.dimensions}
            rows.append(({"attributes": attributes}, " ".join(tables.NO_DATA if v is None else repr(v) for v in pixel[:1])))
        answer = {"catalogItems": {"features": [r[0] for r in rows]}, "properties": {"Values": [r[1] for r in rows]}}
        return tables.multidimensional_identify_to_frame(answer, variable)


def _slices_along(response: dict, variable: Variable, along: str) -> pandas.DataFrame | None:
    """A per-slice identify answer as a profile along one dimension; None when the server did not
    answer per slice (no slices paired with the values, or none carrying the dimension)."""
    from imageservice import tables

    try:
        frame = tables.multidimensional_identify_to_frame(response, variable)
    except InvalidResponse:  # values without their slices, e.g. from a single multidimensional raster
        return None
    frame = frame[frame[along].notna()].drop_duplicates(subset=[along]).reset_index(drop=True)
    return None if frame.empty and variable.dimension(along).values else frame
