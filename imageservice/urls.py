"""Pure request builders: LayerParams + a map view -> the parameters esri-leaflet sends.

No I/O here. Each builder returns an ordered dict of wire strings (insertion order is the query
string order), and `prepare` turns path + parameters into a GET or POST. Values are written by
`wire`, never by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from imageservice.errors import ParameterError
from imageservice.params import LayerParams
from imageservice.wire import encode_query, serialize_params

EARTH_RADIUS = 6378137.0
MAX_LATITUDE = 85.0511287798  # Leaflet's SphericalMercator clamp
CRS_CODES = {"EPSG:3857": 3857, "EPSG:4326": 4326}
_DEG = math.pi / 180  # Leaflet multiplies by this constant; (x * pi) / 180 differs in the last digit


@dataclass(frozen=True)
class View:
    """What the map shows: lat/lng bounds and the viewport size in CSS pixels."""

    south: float
    west: float
    north: float
    east: float
    width: int
    height: int
    crs: str = "EPSG:3857"

    def __post_init__(self) -> None:
        if self.crs not in CRS_CODES:
            raise ParameterError(f"crs must be one of {', '.join(CRS_CODES)}; got {self.crs!r}")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in (self.width, self.height)):
            raise ParameterError(f"width and height must be positive integers; got {self.width!r}x{self.height!r}")
        if not (self.south <= self.north and self.west <= self.east):
            raise ParameterError(
                f"view bounds must have south <= north and west <= east; got "
                f"south={self.south}, west={self.west}, north={self.north}, east={self.east}"
            )


@dataclass(frozen=True)
class PreparedRequest:
    """One HTTP request, ready for any transport."""

    method: str  # "GET" | "POST"
    url: str  # full URL; for GET includes the query string; proxy-prefixed
    data: dict[str, str] | None  # form body for POST, else None


# --- Leaflet's projection arithmetic (copied step by step so the bbox digits match) -----------


def _project(lat: float, lng: float, crs: str) -> tuple[float, float]:
    """crs.project: lat/lng to projected units (metres for 3857, degrees for 4326)."""
    if crs == "EPSG:4326":
        return lng, lat
    return EARTH_RADIUS * lng * _DEG, _mercator_y(max(min(MAX_LATITUDE, lat), -MAX_LATITUDE))


def _mercator_y(lat: float) -> float:
    sin = math.sin(lat * _DEG)
    return EARTH_RADIUS * math.log((1 + sin) / (1 - sin)) / 2


def _unproject(x: float, y: float, crs: str) -> tuple[float, float]:
    """crs.unproject: projected units back to (lat, lng)."""
    if crs == "EPSG:4326":
        return y, x
    d = 180 / math.pi
    return (2 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2) * d, x * d / EARTH_RADIUS


def _transformation(crs: str) -> tuple[float, float, float, float]:
    if crs == "EPSG:4326":
        return 1 / 180, 1, -1 / 180, 0.5
    s = 0.5 / (math.pi * EARTH_RADIUS)
    return s, 0.5, -s, 0.5


def _to_pixel(lat: float, lng: float, zoom: float, crs: str) -> tuple[float, float]:
    a, b, c, d = _transformation(crs)
    x, y = _project(lat, lng, crs)
    scale = 256 * 2**zoom
    return scale * (a * x + b), scale * (c * y + d)


def _from_pixel(px: float, py: float, zoom: float, crs: str) -> tuple[float, float]:
    a, b, c, d = _transformation(crs)
    scale = 256 * 2**zoom
    return _unproject((px / scale - b) / a, (py / scale - d) / c, crs)


def _js_round(x: float) -> int:
    """JavaScript Math.round: halves round up."""
    return math.floor(x + 0.5)


def view_from_center_zoom(
    lat: float, lng: float, zoom: float, width: int, height: int, crs: str = "EPSG:3857",
    zoom_snap: float = 1,
) -> View:
    """The view Leaflet has after setView(center, zoom) on a width x height map.

    The zoom snaps to a multiple of `zoom_snap` as the map's own `zoomSnap` does (Leaflet's
    default 1 rounds a fractional zoom; 0 keeps it as given). Reproduces Leaflet's rounded pixel
    origin and esri-leaflet's height trim when the world is shorter than the viewport; the
    trimmed view's latitudes are clamped to the world edge.
    """
    if zoom_snap:  # Map._limitZoom: Math.round(zoom / snap) * snap
        zoom = _js_round(zoom / zoom_snap) * zoom_snap
    cx, cy = _to_pixel(lat, lng, zoom, crs)
    left, top = _js_round(cx - width / 2), _js_round(cy - height / 2)
    north, east = _from_pixel(left + width, top, zoom, crs)
    south, west = _from_pixel(left, top + height, zoom, crs)
    # latLngToLayerPoint of the corners: project (clamping latitude), round, minus the origin.
    world_top = _js_round(_to_pixel(north, east, zoom, crs)[1]) - top
    world_bottom = _js_round(_to_pixel(south, west, zoom, crs)[1]) - top
    if world_top > 0 or world_bottom < height:
        height = world_bottom - world_top
        north, south = min(north, MAX_LATITUDE), max(south, -MAX_LATITUDE)
    return View(south=south, west=west, north=north, east=east, width=width, height=height, crs=crs)


def _world_height(view: View) -> int:
    """The image height for a view, trimmed when it reaches past Web Mercator's world edge.

    A browser reports unclamped bounds at low zooms; asking for the full height with a clamped
    bbox would make the server widen the picture.
    """
    if view.crs != "EPSG:3857" or (view.north <= MAX_LATITUDE and view.south >= -MAX_LATITUDE):
        return view.height
    pole = 89.9999999  # Leaflet never reports the pole itself; keep the log finite anyway
    full = _mercator_y(min(view.north, pole)) - _mercator_y(max(view.south, -pole))
    clamped = _project(view.north, 0, view.crs)[1] - _project(view.south, 0, view.crs)[1]
    return max(1, round(view.height * clamped / full))


def view_bbox(view: View) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of a view in its CRS units."""
    x1, y1 = _project(view.south, view.west, view.crs)
    x2, y2 = _project(view.north, view.east, view.crs)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


# --- request parameter builders ----------------------------------------------------------------


def _time(params: LayerParams) -> list[int] | None:
    """esri-leaflet sends time only when both ends are set."""
    if params.time_from is None or params.time_to is None:
        return None
    return [params.time_from, params.time_to]


def _extend(built: dict[str, str], request_params: Mapping[str, Any] | None) -> dict[str, str]:
    """esri-leaflet's L.extend: an existing key keeps its place and takes the new value."""
    return {**built, **serialize_params(request_params or {})}


def _with_proxy(proxy: str | None, url: str) -> str:
    return f"{proxy}?{url}" if proxy else url


def export_params(params: LayerParams, view: View) -> dict[str, str]:
    """exportImage parameters in esri-leaflet's order, with its omission rules.

    bbox is written xmin,ymax,xmax,ymin as esri-leaflet does since its polar patch (the server
    normalises the envelope).
    """
    xmin, ymin, xmax, ymax = view_bbox(view)
    return _export_query(params, [xmin, ymax, xmax, ymin], [view.width, _world_height(view)], CRS_CODES[view.crs])


def _export_query(params: LayerParams, bbox: Any, size: Any, sr: int) -> dict[str, str]:
    built = serialize_params(
        {
            "bbox": bbox,
            "size": size,
            "format": params.format,
            "transparent": params.transparent,
            "bboxSR": sr,
            "imageSR": sr,
            "time": _time(params),
            "pixelType": params.pixel_type,
            "interpolation": params.interpolation,
            # esri-leaflet drops a falsy compressionQuality, losing 0; 0 is a valid quality, kept.
            "compressionQuality": params.compression_quality,
            "bandIds": params.band_ids,
            "noData": params.no_data,  # 0 is kept, as in esri-leaflet
            "noDataInterpretation": params.no_data_interpretation,
            "token": params.token,
            "renderingRule": params.rendering_rule,
            "mosaicRule": params.mosaic_rule,
        }
    )
    query = _extend(built, params.request_params)
    query.pop("f", None)
    query["f"] = params.f
    return query


def export_url_template(params: LayerParams, crs: str = "EPSG:3857") -> str:
    """The exportImage URL with `{bbox}` and `{size}` left for the browser to fill in.

    The server renders everything that depends on the layer's options once; pan and zoom then
    only substitute the view (URL-encoded "xmin,ymax,xmax,ymin" and "width,height"), with no
    round trip. The f value is the layer's: for f=json the browser fetches this URL, then the href.
    """
    if crs not in CRS_CODES:
        raise ParameterError(f"crs must be one of {', '.join(CRS_CODES)}; got {crs!r}")
    query = _export_query(params, "__bbox__", "__size__", CRS_CODES[crs])
    url = f"{params.url}exportImage?{encode_query(query, xhr=False)}"
    return _with_proxy(params.proxy, url).replace("__bbox__", "{bbox}").replace("__size__", "{size}")


def export_image_url(params: LayerParams, view: View) -> str:
    """The f=image exportImage URL that goes straight into an <img> (never through prepare)."""
    query = export_params(params, view)
    query["f"] = "image"
    return _with_proxy(params.proxy, f"{params.url}exportImage?{encode_query(query, xhr=False)}")


def href_url(params: LayerParams, href: str) -> str:
    """The <img> URL for an f=json export's href: the token appended, then the proxy prefix.

    esri-leaflet appends only a constructor token (not one from authenticate()); any known
    token is appended here.
    """
    if params.token:
        separator = "&" if "?" in href else "?"
        href = f"{href}{separator}{encode_query({'token': params.token}, xhr=False)}"
    return _with_proxy(params.proxy, href)


def identify_params(
    params: LayerParams,
    lat: float,
    lng: float,
    *,
    apply_rendering_rule: bool = False,
    with_time: bool = True,
    return_catalog_items: bool | None = None,
    return_geometry: bool = False,
    pixel_size: float | Sequence[float] | str | None = None,
    formatted: bool | None = None,
    process_as_multidimensional: bool | None = None,
) -> dict[str, str]:
    """identify parameters for a clicked lat/lng, as esri-leaflet's popup identify builds them.

    The mosaic rule is forwarded and the rendering rule is not (raw pixel values), unless asked.
    Time: esri-leaflet's popup does not send it, but a time-filtered layer must identify the
    scene that is on screen, so it is sent by default when both ends are set.
    """
    return serialize_params(
        {
            "returnGeometry": return_geometry,
            "geometry": {"x": lng, "y": lat, "spatialReference": {"wkid": 4326}},
            "geometryType": "esriGeometryPoint",
            "mosaicRule": params.mosaic_rule,
            "renderingRule": params.rendering_rule if apply_rendering_rule else None,
            "pixelSize": pixel_size,
            "returnCatalogItems": return_catalog_items,
            # esri-leaflet's format(bool): the positive name, sent as its negation
            "returnUnformattedValues": None if formatted is None else not formatted,
            # true: one value per slice of a multidimensional service (ArcGIS 10.8.1+)
            "processAsMultidimensional": process_as_multidimensional,
            "time": _time(params) if with_time else None,
            "token": params.token,
        }
    )


def samples_params(
    params: LayerParams,
    geometry: Mapping[str, Any],
    *,
    return_first_value_only: bool | None = None,
    out_fields: str | Sequence[str] | None = None,
    sample_count: int | None = None,
    sample_distance: float | None = None,
    pixel_size: float | Sequence[float] | str | None = None,
    interpolation: str | None = None,
    with_time: bool = True,
) -> dict[str, str]:
    """getSamples parameters for an ArcGIS point, multipoint or polyline (lat/lng when it names no
    spatialReference).

    Like identify, the mosaic rule and time are forwarded; getSamples takes no rendering rule.
    `return_first_value_only=False` gives one sample per catalog item at each location.
    """
    _, shape, geometry_type = _query_geometry(geometry)
    shape.setdefault("spatialReference", {"wkid": 4326})
    return serialize_params(
        {
            "geometry": shape,
            "geometryType": geometry_type,
            "sampleCount": sample_count,
            "sampleDistance": sample_distance,
            "mosaicRule": params.mosaic_rule,
            "pixelSize": pixel_size,
            "returnFirstValueOnly": return_first_value_only,
            "interpolation": interpolation,
            "outFields": out_fields,
            "time": _time(params) if with_time else None,
            "token": params.token,
        }
    )


_GEOMETRY_TYPES = {
    "xmin": "esriGeometryEnvelope",
    "x": "esriGeometryPoint",
    "rings": "esriGeometryPolygon",
    "paths": "esriGeometryPolyline",
    "points": "esriGeometryMultipoint",
}


def _query_geometry(geometry: View | Sequence[float] | Mapping[str, Any]) -> tuple[int, dict, str]:
    """(inSR, ArcGIS geometry, geometryType) for a View, a (west, south, east, north) bbox or a geometry."""
    if isinstance(geometry, View):
        geometry = (geometry.west, geometry.south, geometry.east, geometry.north)
    if isinstance(geometry, Mapping):
        geometry_type = next((t for key, t in _GEOMETRY_TYPES.items() if key in geometry), None)
        if geometry_type is None:
            raise ParameterError(
                f"geometry must be an ArcGIS envelope, point, polygon, polyline or multipoint; got {geometry!r}"
            )
        wkid = (geometry.get("spatialReference") or {}).get("wkid", 4326)
        return wkid, dict(geometry), geometry_type
    if len(geometry) != 4:
        raise ParameterError(f"a bbox must be (west, south, east, north); got {geometry!r}")
    west, south, east, north = geometry
    envelope = {"xmin": west, "ymin": south, "xmax": east, "ymax": north, "spatialReference": {"wkid": 4326}}
    return 4326, envelope, "esriGeometryEnvelope"


def _order_by(order_by: str | Sequence[str | tuple[str, str]] | None) -> str | None:
    if order_by is None or isinstance(order_by, str):
        return order_by
    return ",".join(item if isinstance(item, str) else f"{item[0]} {item[1]}" for item in order_by)


def query_params(
    params: LayerParams,
    *,
    where: str = "1=1",
    geometry: View | Sequence[float] | Mapping[str, Any] | None = None,
    spatial_rel: str = "esriSpatialRelIntersects",
    time: tuple[int, int] | None = None,
    pixel_size: Sequence[float] | None = None,
    out_fields: str | Sequence[str] = "*",
    return_geometry: bool = True,
    out_sr: int = 4326,
    order_by: str | Sequence[str | tuple[str, str]] | None = None,
    offset: int | None = None,
    limit: int | None = None,
    object_ids: Sequence[int] | None = None,
    count_only: bool = False,
    ids_only: bool = False,
) -> dict[str, str]:
    """Catalog query parameters in the Query task's order (defaults first, then filters).

    Mosaic-independent: the catalog is queried as a table, so no mosaic or rendering rule.
    """
    spatial: dict[str, Any] = {}
    if geometry is not None:
        in_sr, shape, geometry_type = _query_geometry(geometry)
        spatial = {"inSR": in_sr, "geometry": shape, "geometryType": geometry_type, "spatialRel": spatial_rel}
    return serialize_params(
        {
            "returnGeometry": return_geometry,
            "where": where,
            "outSR": out_sr,
            "outFields": out_fields,
            **spatial,
            "time": list(time) if time is not None else None,
            "pixelSize": pixel_size,
            "orderByFields": _order_by(order_by),
            "resultOffset": offset,
            "resultRecordCount": limit,
            "objectIds": object_ids,
            "returnCountOnly": True if count_only else None,
            "returnIdsOnly": True if ids_only else None,
            "token": params.token,
        }
    )


def histogram_params(
    params: LayerParams,
    geometry: View | Sequence[float] | Mapping[str, Any],
    *,
    apply_rendering_rule: bool = False,
    pixel_size: float | Sequence[float] | Mapping[str, Any] | str | None = None,
) -> dict[str, str]:
    """computeHistograms parameters for an area: a View, a (west, south, east, north) lat/lng bbox,
    or an ArcGIS envelope or polygon (lat/lng when it names no spatialReference).

    As for identify, the mosaic rule and time are forwarded and the rendering rule only when asked,
    so the histogram is of raw values unless the caller wants the rendered ones.
    """
    _, shape, geometry_type = _query_geometry(geometry)
    if geometry_type not in ("esriGeometryEnvelope", "esriGeometryPolygon"):
        raise ParameterError(f"computeHistograms needs an envelope or a polygon; got {geometry_type}")
    shape.setdefault("spatialReference", {"wkid": 4326})
    return serialize_params(
        {
            "geometry": shape,
            "geometryType": geometry_type,
            "mosaicRule": params.mosaic_rule,
            "renderingRule": params.rendering_rule if apply_rendering_rule else None,
            "pixelSize": pixel_size,
            "time": _time(params),
            "token": params.token,
        }
    )


def metadata_params(params: LayerParams) -> dict[str, str]:
    """The service root request's parameters (f=json is added by prepare)."""
    return _extend(serialize_params({"token": params.token}), params.request_params)


def prepare(
    base_url: str,
    path: str,
    params: Mapping[str, Any],
    *,
    token: str | None = None,
    proxy: str | None = None,
    request_params: Mapping[str, str] | None = None,
    f: str = "json",
    max_url_length: int = 2000,
    method: str = "request",
) -> PreparedRequest:
    """esri-leaflet's service methods: "get" always GETs, "post" always POSTs, and "request" GETs
    when proxy?url?query fits in max_url_length characters (esri-leaflet's 2000), else POSTs.

    The token is added unless the params carry one, request params are merged with extend
    semantics, and f goes last (a value already in params wins over the argument).
    """
    query = serialize_params(params)
    if token and "token" not in query:
        query["token"] = token
    query = _extend(query, request_params)
    query["f"] = query.pop("f", f)
    url = _with_proxy(proxy, base_url + path)
    full = f"{url}?{encode_query(query, xhr=True)}"
    if method == "get" or (method == "request" and len(full) <= max_url_length):
        return PreparedRequest(method="GET", url=full, data=None)
    return PreparedRequest(method="POST", url=url, data=query)
