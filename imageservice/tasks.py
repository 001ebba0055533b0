"""Chainable one-request tasks bound to a client, in esri-leaflet's Task style.

A task only collects options; the parameters are always built by `urls` and sent by the client.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from imageservice import geojson, urls
from imageservice.errors import InvalidResponse, ParameterError
from imageservice.params import LayerParams, to_epoch_ms

if TYPE_CHECKING:  # for annotations only: tables, and with it pandas, load when a frame is asked for
    import pandas

    from imageservice.client import ImageServiceClient

BBox = urls.View | Sequence[float]
MAX_PAGES = 100


class Query:
    """A catalog (footprint) query: `layer.query().within(view).limit(10).run_frame()`."""

    def __init__(self, client: ImageServiceClient, params: LayerParams) -> None:
        self._client = client
        self._params = params
        self._options: dict[str, Any] = {}
        self._order_by: list[tuple[str, str]] = []

    def where(self, sql: str) -> Query:
        self._options["where"] = sql
        return self

    def within(self, bbox: BBox) -> Query:
        """Footprints inside the box. Like esri-leaflet this sends esriSpatialRelContains: the
        relation reads "query geometry contains feature"."""
        return self._spatial(bbox, "esriSpatialRelContains")

    def intersects(self, geometry: BBox | Mapping[str, Any]) -> Query:
        return self._spatial(geometry, "esriSpatialRelIntersects")

    def _spatial(self, geometry: Any, relation: str) -> Query:
        self._options.update(geometry=geometry, spatial_rel=relation)
        return self

    def between(self, start: Any, end: Any) -> Query:
        """Items whose time overlaps start..end (datetimes, naive = UTC, or epoch ms)."""
        self._options["time"] = (to_epoch_ms(start, "start"), to_epoch_ms(end, "end"))
        return self

    def fields(self, fields: str | Sequence[str]) -> Query:
        self._options["out_fields"] = fields
        return self

    def limit(self, count: int) -> Query:
        self._options["limit"] = count
        return self

    def offset(self, count: int) -> Query:
        self._options["offset"] = count
        return self

    def order_by(self, field: str, order: str = "ASC") -> Query:
        """Adds a sort key; calls accumulate, as in esri-leaflet."""
        if order.upper() not in ("ASC", "DESC"):
            raise ParameterError(f"order must be ASC or DESC; got {order!r}")
        self._order_by.append((field, order.upper()))
        return self

    def return_geometry(self, flag: bool = True) -> Query:
        self._options["return_geometry"] = flag
        return self

    def pixel_size(self, size: Sequence[float] | Mapping[str, float]) -> Query:
        """Only catalog items of this resolution: (x, y) or {"x", "y"}, sent as "x,y" like
        esri-leaflet's pixelSize (the server picks the items whose cell size matches)."""
        if isinstance(size, Mapping):
            size = (size.get("x"), size.get("y"))
        if len(size) != 2 or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in size):
            raise ParameterError(f"pixel size must be (x, y) numbers; got {size!r}")
        self._options["pixel_size"] = list(size)
        return self

    def to_params(self, **extra: Any) -> dict[str, str]:
        """The query parameters this task sends (without f, which the client adds)."""
        order_by = self._order_by or None
        return urls.query_params(self._params, **{**self._options, **extra}, order_by=order_by)

    def run(self) -> dict:
        """The raw FeatureSet JSON; `exceededTransferLimit` true means more items than it holds."""
        return self._client.query(self.to_params())

    def pages(self, max_pages: int = MAX_PAGES) -> Iterator[dict]:
        """Raw FeatureSet pages, by resultOffset, while the server says exceededTransferLimit.

        limit() is the page size (else the server's maxRecordCount). The offset moves by what came
        back, as servers may cap lower than asked. Bounded, and a page equal to the one before
        ends it, because a server that ignores resultOffset would repeat its first page forever.
        """
        offset = self._options.get("offset") or 0
        previous = None
        for _ in range(max_pages):
            page = self._client.query(self.to_params(offset=offset))
            features = page.get("features") or []
            if features and features == previous:
                return
            yield page
            if not page.get("exceededTransferLimit") or not features:
                return
            offset += len(features)
            previous = features

    def run_all(self, max_pages: int = MAX_PAGES) -> dict:
        """Every page merged into one FeatureSet. Its exceededTransferLimit stays true when the
        paging stopped (max_pages, a repeated page) before the server's last page."""
        pages = list(self.pages(max_pages))
        return {**pages[-1], "features": [f for page in pages for f in page.get("features") or []]}

    def run_geojson(self) -> dict:
        return geojson.featureset_to_geojson(self.run())

    def run_frame(self) -> pandas.DataFrame:
        from imageservice import tables

        return tables.featureset_to_frame(self.run())

    def count(self) -> int:
        """The number of matching catalog items (returnCountOnly)."""
        return _field(self._client.query(self.to_params(count_only=True)), "count")

    def ids(self) -> list[int]:
        """The object ids of the matching catalog items (returnIdsOnly)."""
        return _field(self._client.query(self.to_params(ids_only=True)), "objectIds")


class IdentifyImage:
    """Pixel values at a point: `layer.identify().at(lat, lng).return_catalog_items(True).run()`.

    Built from a layer it forwards the layer's mosaic rule and time range but not its rendering
    rule (raw values), like esri-leaflet's popup; set_rendering_rule opts in.
    """

    def __init__(self, client: ImageServiceClient, params: LayerParams) -> None:
        self._client = client
        self._params = params
        self._latlng: tuple[float, float] | None = None
        self._options: dict[str, Any] = {}

    def at(self, lat: float, lng: float) -> IdentifyImage:
        self._latlng = (lat, lng)
        return self

    def set_mosaic_rule(self, rule: Mapping[str, Any] | str | None) -> IdentifyImage:
        self._params = self._params.replace(mosaic_rule=rule)
        return self

    def set_rendering_rule(self, rule: Mapping[str, Any] | str | None) -> IdentifyImage:
        self._params = self._params.replace(rendering_rule=rule)
        self._options["apply_rendering_rule"] = True
        return self

    def set_pixel_size(self, size: float | Sequence[float] | str) -> IdentifyImage:
        """The resolution to identify at: (x, y), "x,y" or one number."""
        self._options["pixel_size"] = size
        return self

    def return_catalog_items(self, flag: bool = True) -> IdentifyImage:
        self._options["return_catalog_items"] = flag
        return self

    def return_geometry(self, flag: bool = True) -> IdentifyImage:
        self._options["return_geometry"] = flag
        return self

    def format(self, flag: bool = True) -> IdentifyImage:
        """format(False) asks for raw numbers instead of display strings (ArcGIS 10.5+):
        esri-leaflet sends returnUnformattedValues as the negation."""
        self._options["formatted"] = flag
        return self

    def process_as_multidimensional(self, flag: bool = True) -> IdentifyImage:
        """True: a multidimensional service answers one value per slice the mosaic rule's
        multidimensionalDefinition selects (with the slices as catalog items)."""
        self._options["process_as_multidimensional"] = flag
        return self

    def get_mosaic_rule(self) -> dict | None:
        return self._params.mosaic_rule

    def get_rendering_rule(self) -> dict | None:
        """The rule this identify sends: a layer's rule counts only after set_rendering_rule."""
        return self._params.rendering_rule if self._options.get("apply_rendering_rule") else None

    def get_pixel_size(self) -> float | Sequence[float] | str | None:
        return self._options.get("pixel_size")

    def between(self, start: Any, end: Any) -> IdentifyImage:
        self._params = self._params.replace(time_from=start, time_to=end)
        self._options["with_time"] = True
        return self

    def to_params(self) -> dict[str, str]:
        """The identify parameters this task sends (without f, which the client adds)."""
        if self._latlng is None:
            raise ParameterError("identify needs a location: call at(lat, lng) before run()")
        return urls.identify_params(self._params, *self._latlng, **self._options)

    def run(self) -> dict:
        """The raw identify JSON."""
        return self._client.identify(self.to_params())


class GetSamples:
    """Pixel values at points or along a line:
    `layer.get_samples().at(lat, lng).return_first_value_only(False).run_frame(band_names)`.

    Built from a layer it forwards the layer's mosaic rule and time range, as IdentifyImage does.
    """

    def __init__(self, client: ImageServiceClient, params: LayerParams) -> None:
        self._client = client
        self._params = params
        self._geometry: Mapping[str, Any] | None = None
        self._options: dict[str, Any] = {}

    def at(self, lat: float, lng: float) -> GetSamples:
        return self.geometry({"x": lng, "y": lat, "spatialReference": {"wkid": 4326}})

    def geometry(self, geometry: Mapping[str, Any]) -> GetSamples:
        """An ArcGIS point, multipoint or polyline; lat/lng unless it names a spatialReference."""
        self._geometry = geometry
        return self

    def set_mosaic_rule(self, rule: Mapping[str, Any] | str | None) -> GetSamples:
        self._params = self._params.replace(mosaic_rule=rule)
        return self

    def between(self, start: Any, end: Any) -> GetSamples:
        self._params = self._params.replace(time_from=start, time_to=end)
        return self

    def return_first_value_only(self, flag: bool = True) -> GetSamples:
        """False: one sample per catalog item with data at each location (a time series)."""
        self._options["return_first_value_only"] = flag
        return self

    def fields(self, fields: str | Sequence[str]) -> GetSamples:
        """Catalog attributes to return with each sample (outFields)."""
        self._options["out_fields"] = fields
        return self

    def sample_count(self, count: int) -> GetSamples:
        self._options["sample_count"] = count
        return self

    def sample_distance(self, distance: float) -> GetSamples:
        self._options["sample_distance"] = distance
        return self

    def set_pixel_size(self, size: float | Sequence[float] | str) -> GetSamples:
        self._options["pixel_size"] = size
        return self

    def set_interpolation(self, interpolation: str) -> GetSamples:
        self._options["interpolation"] = interpolation
        return self

    def to_params(self) -> dict[str, str]:
        """The getSamples parameters this task sends (without f, which the client adds)."""
        if self._geometry is None:
            raise ParameterError("getSamples needs a location: call at(lat, lng) or geometry(...) before run()")
        return urls.samples_params(self._params, self._geometry, **self._options)

    def run(self) -> dict:
        """The raw getSamples JSON."""
        return self._client.request("getSamples", self.to_params())

    def run_frame(
        self, band_names: Sequence[str] | None = None, fields: Sequence[Mapping[str, Any]] | None = None
    ) -> pandas.DataFrame:
        from imageservice import tables

        return tables.samples_to_frame(self.run(), band_names, fields)


def _field(response: dict, key: str) -> Any:
    if key not in response:
        raise InvalidResponse(f"query response has no {key!r}: {str(response)[:200]}")
    return response[key]


class ComputeHistograms:
    """Histograms of the pixels in an area: `layer.compute_histograms().within(view).run_frame(band_names)`.

    Built from a layer it forwards the layer's mosaic rule and time range but not its rendering
    rule (raw values), as IdentifyImage does; set_rendering_rule opts in.
    """

    def __init__(self, client: ImageServiceClient, params: LayerParams) -> None:
        self._client = client
        self._params = params
        self._geometry: BBox | Mapping[str, Any] | None = None
        self._options: dict[str, Any] = {}

    def within(self, geometry: BBox | Mapping[str, Any]) -> ComputeHistograms:
        """A View, a (west, south, east, north) lat/lng bbox, or an ArcGIS envelope or polygon."""
        self._geometry = geometry
        return self

    def set_mosaic_rule(self, rule: Mapping[str, Any] | str | None) -> ComputeHistograms:
        self._params = self._params.replace(mosaic_rule=rule)
        return self

    def set_rendering_rule(self, rule: Mapping[str, Any] | str | None) -> ComputeHistograms:
        self._params = self._params.replace(rendering_rule=rule)
        self._options["apply_rendering_rule"] = True
        return self

    def set_pixel_size(self, size: float | Sequence[float] | Mapping[str, Any] | str) -> ComputeHistograms:
        """The resolution to count at: one number, (x, y), "x,y" or {"x", "y", "spatialReference"};
        the server's default is the service's native resolution."""
        self._options["pixel_size"] = size
        return self

    def between(self, start: Any, end: Any) -> ComputeHistograms:
        self._params = self._params.replace(time_from=start, time_to=end)
        return self

    def to_params(self) -> dict[str, str]:
        """The computeHistograms parameters this task sends (without f, which the client adds)."""
        if self._geometry is None:
            raise ParameterError("computeHistograms needs an area: call within(...) before run()")
        return urls.histogram_params(self._params, self._geometry, **self._options)

    def run(self) -> dict:
        """The raw computeHistograms JSON."""
        return self._client.request("computeHistograms", self.to_params())

    def run_frame(self, band_names: Sequence[str] | None = None) -> pandas.DataFrame:
        from imageservice import tables

        return tables.histograms_to_frame(self.run(), band_names)
