"""The service root JSON as one typed, immutable ServiceInfo (what the controls are built from),
and the `legend` resource as typed LegendLayers.

Real roots differ by server version: every optional key may be missing, Web Mercator comes as
102100 or 3857, and mosaic methods are spelled one way in the description and another in
requests. Those differences are absorbed here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imageservice.errors import InvalidResponse, ParameterError

WEB_MERCATOR_ALIASES = (102100, 102113, 900913, 3785)
# Esri's own ids (102100, 54004, ...) live above EPSG's range.
EPSG_MAX = 32767
MOSAIC_METHODS = {
    "none": "esriMosaicNone",
    "center": "esriMosaicCenter",
    "nadir": "esriMosaicNadir",
    "viewpoint": "esriMosaicViewpoint",
    "attribute": "esriMosaicAttribute",
    "byattribute": "esriMosaicAttribute",
    "lockraster": "esriMosaicLockRaster",
    "northwest": "esriMosaicNorthwest",
    "seamline": "esriMosaicSeamline",
}

Extent = tuple[float, float, float, float]

if TYPE_CHECKING:  # pyproj is imported where it is used, so importing this module stays light
    from pyproj import CRS


@dataclass(frozen=True)
class ServiceInfo:
    """What a client needs to know about an ImageServer, from its root JSON."""

    name: str
    description: str
    copyright_text: str
    band_count: int
    band_names: tuple[str, ...]
    band_names_generated: bool  # the root had no bandNames: "Band_1".."Band_N" made up here
    pixel_type: str | None
    extent: Extent | None  # (xmin, ymin, xmax, ymax) in spatial_reference
    spatial_reference: int | None  # wkid, Web Mercator always 3857
    wkid: int | None  # as the service sent it (102100), for requests that must echo it
    latest_wkid: int | None
    extent_latlng: Extent | None  # (south, west, north, east), for fitting a map
    time_extent: tuple[int | None, int | None] | None  # epoch ms
    start_time_field: str | None
    end_time_field: str | None
    raster_functions: tuple[str, ...]
    mosaic_methods: tuple[str, ...]  # as the service lists them ("NorthWest", "ByAttribute")
    mosaic_method_request_names: tuple[str, ...]  # the same, as requests spell them
    default_mosaic_method: str | None
    mosaic_operator: str | None
    min_values: tuple[float, ...]
    max_values: tuple[float, ...]
    mean_values: tuple[float, ...]
    stdv_values: tuple[float, ...]
    no_data: tuple[float, ...] | None
    max_image_width: int | None
    max_image_height: int | None
    max_record_count: int | None
    capabilities: tuple[str, ...]
    fields: tuple[dict, ...]
    object_id_field: str | None
    current_version: float | None
    is_time_aware: bool
    service_data_type: str | None  # "esriImageServiceDataTypeThematic", "...Elevation", ...
    has_multidimensions: bool


@dataclass(frozen=True)
class LegendEntry:
    """One symbol of a legend, drawable as it is: `<img src=image_data_uri>`."""

    label: str  # "Water", "High : 255"
    image_data_uri: str | None  # data:<contentType>;base64,<imageData>; None when the service sent no image
    url: str | None  # the symbol's id under the service, as sent
    width: int | None
    height: int | None
    values: tuple[Any, ...]  # the pixel values the symbol stands for, when the service lists them


@dataclass(frozen=True)
class LegendLayer:
    """The legend of one layer: the service's, or a rendering rule's."""

    layer_id: int | None
    name: str
    legend_type: str | None  # "Unique Values", "Stretched", "Classified", "RGB Composite", ...
    entries: tuple[LegendEntry, ...]


def mosaic_method_request_name(name: str) -> str:
    """The mosaicRule spelling of a mosaic method: "Northwest" or "esriMosaicNorthwest" ->
    "esriMosaicNorthwest", "ByAttribute" -> "esriMosaicAttribute"."""
    key = name.strip().lower().removeprefix("esrimosaic")
    if key not in MOSAIC_METHODS:
        allowed = ", ".join(sorted(set(MOSAIC_METHODS.values())))
        raise ParameterError(f"unknown mosaic method {name!r}; expected one of {allowed} (or their short names)")
    return MOSAIC_METHODS[key]


def normalize_wkid(spatial_reference: Mapping[str, Any] | None) -> int | None:
    """The wkid to use from an ArcGIS spatialReference: latestWkid first, Web Mercator as 3857."""
    if not spatial_reference:
        return None
    wkid = spatial_reference.get("latestWkid") or spatial_reference.get("wkid")
    if wkid is None:
        return None
    return 3857 if int(wkid) in WEB_MERCATOR_ALIASES else int(wkid)


def spatial_reference_crs(spatial_reference: Mapping[str, Any] | None) -> CRS | None:
    """A pyproj CRS for an ArcGIS spatialReference (EPSG or Esri wkid, or wkt); None if unknown."""
    if not spatial_reference:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    wkid = normalize_wkid(spatial_reference)
    try:
        if wkid is not None:
            return CRS.from_user_input(f"{'EPSG' if wkid <= EPSG_MAX else 'ESRI'}:{wkid}")
        if spatial_reference.get("wkt"):
            return CRS.from_wkt(spatial_reference["wkt"])
    except CRSError:
        return None
    return None


def spatial_reference_name(spatial_reference: Mapping[str, Any] | None) -> str | None:
    """The coordinate system's name for people ("WGS 84 / UTM zone 10N"); None when unknown."""
    crs = spatial_reference_crs(spatial_reference)
    return crs.name if crs is not None and crs.name and crs.name != "unknown" else None


def parse_service_info(root: Mapping[str, Any]) -> ServiceInfo:
    """ServiceInfo from `GET <service>?f=json`; raises InvalidResponse for anything else."""
    _require_object(root, "description")
    if "bandCount" not in root and "extent" not in root:
        raise InvalidResponse(
            "this is not an ArcGIS ImageServer description: it has neither bandCount nor extent "
            "(is the URL a MapServer, FeatureServer or folder?)"
        )
    band_names = tuple(str(n) for n in root.get("bandNames") or ())
    band_count = int(root.get("bandCount") or len(band_names))
    extent_json = root.get("extent") or {}
    spatial_reference = root.get("spatialReference") or extent_json.get("spatialReference")
    extent = _extent(extent_json)
    mosaic_methods = _split(root.get("allowedMosaicMethods"))
    time_info = root.get("timeInfo") or {}
    return ServiceInfo(
        name=str(root.get("name") or ""),
        description=str(root.get("description") or root.get("serviceDescription") or ""),
        copyright_text=str(root.get("copyrightText") or ""),
        band_count=band_count,
        band_names=band_names or tuple(f"Band_{i}" for i in range(1, band_count + 1)),
        band_names_generated=not band_names,
        pixel_type=root.get("pixelType"),
        extent=extent,
        spatial_reference=normalize_wkid(spatial_reference),
        wkid=_optional_int((spatial_reference or {}).get("wkid")),
        latest_wkid=_optional_int((spatial_reference or {}).get("latestWkid")),
        extent_latlng=_latlng_bounds(extent, spatial_reference),
        time_extent=_time_extent(time_info.get("timeExtent")),
        start_time_field=time_info.get("startTimeField") or None,
        end_time_field=time_info.get("endTimeField") or None,
        raster_functions=tuple(str(f.get("name")) for f in root.get("rasterFunctionInfos") or () if f.get("name")),
        mosaic_methods=mosaic_methods,
        mosaic_method_request_names=tuple(_request_names(mosaic_methods)),
        default_mosaic_method=root.get("defaultMosaicMethod") or None,
        mosaic_operator=root.get("mosaicOperator"),
        min_values=_numbers(root.get("minValues")),
        max_values=_numbers(root.get("maxValues")),
        mean_values=_numbers(root.get("meanValues")),
        stdv_values=_numbers(root.get("stdvValues")),
        no_data=_no_data(root),
        max_image_width=_optional_int(root.get("maxImageWidth")),
        max_image_height=_optional_int(root.get("maxImageHeight")),
        max_record_count=_optional_int(root.get("maxRecordCount")),
        capabilities=_split(root.get("capabilities")),
        fields=tuple(dict(f) for f in root.get("fields") or ()),
        object_id_field=root.get("objectIdField"),
        current_version=float(root["currentVersion"]) if root.get("currentVersion") is not None else None,
        is_time_aware=bool(time_info),
        service_data_type=root.get("serviceDataType") or None,
        has_multidimensions=bool(root.get("hasMultidimensions")),
    )


def parse_legend(response: Mapping[str, Any]) -> tuple[LegendLayer, ...]:
    """LegendLayers from `GET <service>/legend?f=json` (with or without a renderingRule);
    raises InvalidResponse for anything else."""
    _require_object(response, "legend")
    if not isinstance(response.get("layers"), list):
        raise InvalidResponse(f"this legend has no layers: {str(response)[:200]}")
    return tuple(
        LegendLayer(
            layer_id=_optional_int(layer.get("layerId")),
            name=str(layer.get("layerName") or ""),
            legend_type=layer.get("legendType") or None,
            entries=tuple(_legend_entry(entry) for entry in layer.get("legend") or ()),
        )
        for layer in response["layers"]
    )


def _legend_entry(entry: Mapping[str, Any]) -> LegendEntry:
    image = entry.get("imageData")
    content_type = entry.get("contentType") or "image/png"
    return LegendEntry(
        label=str(entry.get("label") or ""),
        image_data_uri=f"data:{content_type};base64,{image}" if image else None,
        url=entry.get("url") or None,
        width=_optional_int(entry.get("width")),
        height=_optional_int(entry.get("height")),
        values=tuple(entry.get("values") or ()),
    )


def _require_object(response: Any, what: str) -> None:
    """An InvalidResponse unless `response` is a JSON object that is not an error body."""
    if not isinstance(response, Mapping):
        raise InvalidResponse(f"the service {what} must be a JSON object; got {type(response).__name__}")
    if isinstance(response.get("error"), Mapping):
        message = response["error"].get("message")
        raise InvalidResponse(f"the server answered with an error instead of a {what}: {message}")


def _split(text: str | None) -> tuple[str, ...]:
    """ArcGIS comma strings ("Image,Metadata, Catalog") as a tuple."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _request_names(methods: tuple[str, ...]) -> list[str]:
    """Request spellings of the known methods; an unknown one is passed through unchanged."""
    names = []
    for method in methods:
        try:
            names.append(mosaic_method_request_name(method))
        except ParameterError:
            names.append(method)
    return names


def _extent(extent: Mapping[str, Any]) -> Extent | None:
    keys = ("xmin", "ymin", "xmax", "ymax")
    if any(extent.get(key) is None for key in keys):
        return None
    return tuple(float(extent[key]) for key in keys)


def _latlng_bounds(extent: Extent | None, spatial_reference: Mapping[str, Any] | None) -> Extent | None:
    crs = spatial_reference_crs(spatial_reference)
    if extent is None or crs is None:
        return None
    from pyproj import Transformer

    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    west, south, east, north = transformer.transform_bounds(*extent, densify_pts=21)
    return south, west, north, east


def _time_extent(time_extent: Any) -> tuple[int | None, int | None] | None:
    if not time_extent or len(time_extent) != 2:
        return None
    start, end = time_extent
    return (None if start is None else int(start), None if end is None else int(end))


def _numbers(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values or ())


def _no_data(root: Mapping[str, Any]) -> tuple[float, ...] | None:
    """noDataValues (per band) or noDataValue (one for all), when the service exposes them."""
    if root.get("noDataValues") is not None:
        return _numbers(root["noDataValues"])
    if root.get("noDataValue") is not None:
        return (float(root["noDataValue"]),)
    return None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
