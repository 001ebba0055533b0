"""ImageServer resources and operations: read ArcGIS parameters, call the catalog and pixel
functions, and shape the answers the way ArcGIS Server does.

Everything here is HTTP-free (an `Args` in, a dict or image bytes out), so the blueprint stays a
router and these functions can be tested on their own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.features import geometry_mask
from rasterio.transform import from_bounds, from_origin
from rasterio.warp import transform_bounds
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from .args import Args
from .catalog import Item, Service
from .encode import PICTURE_FORMATS, apply_no_data, encode
from .errors import BadParameter
from .lercformat import lerc_version
from .lercformat import tolerance as lerc_tolerance
from .limits import RGB_BANDS, SIZE_LIMIT, MemoryBudget, band_list_limit
from .mosaic import Grid, ground_cell_size, read_mosaic, read_point, select_items
from .multidimensional import shown_variable, slice_definition
from .query import MAX_RECORD_COUNT, esri_rings, query_geometry
from .rasterfunctions import apply_rendering_rule, function_infos, required_bands
from .spatial import esri_sr, parse_sr, transform_points
from .thematic import colormap_rule

CURRENT_VERSION = 11.1
MAX_IMAGE_SIZE = 4100
MAX_SAMPLE_COUNT = 1000
DEFAULT_SIZE = (400, 400)
DEFAULT_COMPRESSION_QUALITY = 75
FINEST_PIXEL = 1e-6                      # the finest pixelSize, as a share of the service's cell size
TOO_MANY_SAMPLES = f"The number of sample locations exceeds the limit of {MAX_SAMPLE_COUNT}."
ALLOWED_MOSAIC_METHODS = "NorthWest,Center,LockRaster,ByAttribute,Nadir,Viewpoint,None"
RESAMPLING = {
    "rsp_nearestneighbor": "nearest",
    "rsp_bilinearinterpolation": "bilinear",
    "rsp_cubicconvolution": "cubic",
    "rsp_majority": "mode",
}
NO_DATA = "NoData"


@dataclass(frozen=True)
class ExportedImage:
    """An encoded exportImage result and the grid it covers (for the f=json extent)."""
    body: bytes
    content_type: str
    extension: str
    grid: Grid


# ----------------------------------------------------------------------------------------------
# Service description

def service_root(service: Service) -> dict:
    """The `…/ImageServer?f=json` description (reference §1, §9.2)."""
    mosaic = service.kind == "mosaic"
    extent = envelope(service.extent, service.crs)
    root: dict[str, Any] = {
        "currentVersion": CURRENT_VERSION,
        "serviceDescription": service.description,
        "name": service.name,
        "description": service.description,
        "extent": extent,
        "initialExtent": extent,
        "fullExtent": extent,
        "spatialReference": esri_sr(service.crs),
        "pixelSizeX": service.pixel_size[0],
        "pixelSizeY": service.pixel_size[1],
        "bandCount": len(service.band_names),
        "bandNames": list(service.band_names),
        "pixelType": service.pixel_type,
        "minValues": [s[0] for s in service.statistics],
        "maxValues": [s[1] for s in service.statistics],
        "meanValues": [s[2] for s in service.statistics],
        "stdvValues": [s[3] for s in service.statistics],
        "hasMultidimensions": service.multidimensional is not None,
        "minPixelSize": 0,
        "maxPixelSize": 0,
        "datasetFormat": "AMD" if mosaic else "TIFF",
        "compressionType": "None",
        "copyrightText": service.copyright_text,
        "serviceDataType": service.data_type,
        "serviceSourceType": ("esriImageServiceSourceTypeMosaicDataset" if mosaic
                              else "esriImageServiceSourceTypeRasterDataset"),
        "objectIdField": "OBJECTID" if service.fields else "",
        "fields": list(service.fields),
        "capabilities": "Image,Metadata,Catalog" if mosaic else "Image,Metadata",
        "defaultMosaicMethod": service.default_mosaic_method,
        "allowedMosaicMethods": ALLOWED_MOSAIC_METHODS,
        "sortField": service.sort_field or "",
        "sortValue": service.sort_value,
        "sortAscending": service.sort_ascending,
        "mosaicOperator": "First",
        "defaultCompressionQuality": DEFAULT_COMPRESSION_QUALITY,
        "defaultResamplingMethod": "Nearest",
        "maxImageHeight": MAX_IMAGE_SIZE,
        "maxImageWidth": MAX_IMAGE_SIZE,
        "maxRecordCount": MAX_RECORD_COUNT,
        "allowRasterFunction": True,
        "rasterFunctionInfos": function_infos(service),
        "rasterTypeInfos": [],
        "mensurationCapabilities": "",
        "hasHistograms": True,
        "hasColormap": bool(service.colormap),
        "hasRasterAttributeTable": bool(service.attribute_table),
        "minScale": 0,
        "maxScale": 0,
        "exportTilesAllowed": False,
        "supportsStatistics": False,
        "supportsAdvancedQueries": True,
        "useStandardizedQueries": True,
        "advancedQueryCapabilities": {
            "useStandardizedQueries": True,
            "supportsStatistics": False,
            "supportsOrderBy": True,
            "supportsDistinct": False,
            "supportsPagination": True,
        },
    }
    if service.time_extent is not None:
        root["timeInfo"] = {
            "startTimeField": service.start_time_field,
            "endTimeField": service.end_time_field,
            "timeExtent": list(service.time_extent),
            "timeReference": None,
        }
    return root


def key_properties(service: Service) -> dict:
    """The `keyProperties` resource; the JS API reads BandProperties to label bands."""
    return {
        "BandCount": len(service.band_names),
        "DataType": service.data_type.removeprefix("esriImageServiceDataType"),
        "BandProperties": [{"BandName": name} for name in service.band_names],
    }


def envelope(bounds: Sequence[float], crs: CRS) -> dict:
    xmin, ymin, xmax, ymax = bounds
    return {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax, "spatialReference": esri_sr(crs)}


# ----------------------------------------------------------------------------------------------
# exportImage

def export_image(service: Service, args: Args, budget: MemoryBudget) -> ExportedImage:
    """The exportImage pipeline (reference §2): grid, mosaic, rendering, bands, noData, encoding;
    the pixels and their encoding are held within the memory budget."""
    args = with_default_rendering(service, args)
    grid = output_grid(service, args)
    quality = args.integer("compressionQuality", DEFAULT_COMPRESSION_QUALITY)
    if not 0 <= quality <= 100:
        raise BadParameter("'compressionQuality' parameter is invalid.")
    pixel_type = args.get("pixelType")
    image_format = (args.get("format") or "jpgpng").lower()
    tolerance, version = 0.0, 2
    if image_format == "lerc":
        version = lerc_version(args.integer("lercVersion"))
        tolerance = lerc_tolerance(args.numbers("compressionTolerance"))
    band_ids = band_list(args, service)
    no_data = args.numbers("noData")
    with budget.reserve(grid.width, grid.height, bands_held(service, args, band_ids)):
        data = processed_pixels(service, args, grid, band_ids)
        if no_data:
            data = apply_no_data(data, no_data, args.get("noDataInterpretation"))
        body, content_type, extension = encode(
            data,
            format=image_format,
            pixel_type=None if pixel_type is None or pixel_type.upper() == "UNKNOWN" else pixel_type.upper(),
            statistics=output_statistics(service, args),
            grid=grid,
            compression_quality=quality,
            # Only an explicit `transparent=false` (a MapServer parameter esri-leaflet sends) turns it off.
            transparent=(args.get("transparent") or "").lower() != "false",
            compression_tolerance=tolerance,
            lerc_version=version,
        )
    return ExportedImage(body, content_type, extension, grid)


def export_json(image: ExportedImage, href: str) -> dict:
    """The exportImage `f=json` answer: where to fetch the image and the extent it really covers."""
    grid = image.grid
    return {
        "href": href,
        "width": grid.width,
        "height": grid.height,
        "extent": envelope(grid.bounds, grid.crs),
        "scale": 0,
    }


def output_grid(service: Service, args: Args) -> Grid:
    """bbox, bboxSR, imageSR, size and adjustAspectRatio turned into the output raster grid."""
    image_sr = parse_sr(args.get("imageSR"), "imageSR", service.crs)
    if "bbox" in args:
        bbox_sr = parse_sr(args.get("bboxSR"), "bboxSR", service.crs)
        bounds = parse_bbox(args.numbers("bbox"))
    else:
        bbox_sr, bounds = service.crs, service.extent
    if bbox_sr != image_sr:
        try:
            bounds = transform_bounds(bbox_sr, image_sr, *bounds, densify_pts=21)
        except (CRSError, ValueError):
            raise BadParameter("'bbox' parameter is invalid.") from None
        bounds = parse_bbox(list(bounds))
    width, height = image_size(args)
    if args.boolean("adjustAspectRatio", True):
        bounds = adjust_aspect_ratio(bounds, width, height)
    return Grid(crs=image_sr, transform=from_bounds(*bounds, width, height), width=width, height=height)


def parse_bbox(values: list[float] | None) -> tuple[float, float, float, float]:
    """Four finite numbers with a non-empty area; either corner order is accepted."""
    if values is None or len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BadParameter("'bbox' parameter is invalid.")
    x1, y1, x2, y2 = values
    xmin, xmax, ymin, ymax = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    if xmax - xmin <= 0 or ymax - ymin <= 0:
        raise BadParameter("'bbox' parameter is invalid.")
    return xmin, ymin, xmax, ymax


def image_size(args: Args) -> tuple[int, int]:
    values = args.numbers("size") or list(DEFAULT_SIZE)
    if len(values) != 2:
        raise BadParameter("'size' parameter is invalid.")
    width, height = (int(round(v)) for v in values)
    if width <= 0 or height <= 0:
        raise BadParameter("'size' parameter is invalid.")
    if width > MAX_IMAGE_SIZE or height > MAX_IMAGE_SIZE:
        raise BadParameter(SIZE_LIMIT)
    return width, height


def adjust_aspect_ratio(bounds: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """Grow the short side around the centre so pixels are square (reference §2)."""
    xmin, ymin, xmax, ymax = bounds
    resolution = max((xmax - xmin) / width, (ymax - ymin) / height)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    half_w, half_h = width * resolution / 2, height * resolution / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def output_statistics(service: Service, args: Args) -> list[tuple[float, float, float, float]] | None:
    """Service statistics of the bands being drawn, for the default stretch; unknown after a
    rendering rule (the processed values have their own range)."""
    if args.get("renderingRule") is not None:
        return None
    if service.multidimensional is not None:        # one band, drawn over its variable's range
        mosaic_rule = {str(k).lower(): v for k, v in (request_mosaic_rule(service, args) or {}).items()}
        shown = shown_variable(service.multidimensional, mosaic_rule)
        return None if shown is None else [shown.statistics]
    band_ids = band_list(args, service)
    if band_ids is None:
        return list(service.statistics)
    return [service.statistics[b] for b in band_ids]


# ----------------------------------------------------------------------------------------------
# Shared pixel pipeline

def with_default_rendering(service: Service, args: Args) -> Args:
    """The request with the rendering ArcGIS applies unasked when it asks for a picture and names
    neither a rule nor bands: the publisher's default template (the first rasterFunctionInfos
    entry), else the colormap of a thematic service; data formats (tiff, lerc, bip, bsq) keep the
    raw values."""
    if ("renderingRule" in args or "bandIds" in args
            or (args.get("format") or "jpgpng").lower() not in PICTURE_FORMATS):
        return args
    if service.default_raster_function is not None:
        rule = {"rasterFunction": service.default_raster_function}
    elif service.colormap:
        rule = colormap_rule(service)
    else:
        return args
    return args.with_value("renderingRule", json.dumps(rule))


def processed_pixels(service: Service, args: Args, grid: Grid,
                     band_ids: list[int] | None = None) -> np.ma.MaskedArray:
    """Mosaic the items the request selects onto `grid`, then its renderingRule, then `band_ids`."""
    mosaic_rule = request_mosaic_rule(service, args)
    rule = json_object(args, "renderingRule")
    west, south, east, north = grid.bounds
    xs, ys = transform_points(grid.crs, service.crs, [(west + east) / 2], [(south + north) / 2])
    center = (xs[0], ys[0]) if math.isfinite(xs[0]) and math.isfinite(ys[0]) else None
    items = select_items(service, mosaic_rule, args.time_range(), center)
    operation = mosaic_operation(mosaic_rule)
    resampling = resampling_method(args)
    if rule is None:
        bands = checked_bands(band_ids, len(service.band_names))
        return read_mosaic(service, items, grid, bands=bands, operation=operation, resampling=resampling)
    data = read_mosaic(service, items, grid, bands=required_bands(rule, service),
                       operation=operation, resampling=resampling)
    data = apply_rendering_rule(rule, data, service, ground_cell_size(grid))
    if band_ids is None:
        return data
    return data[checked_bands(band_ids, data.shape[0])]


def request_mosaic_rule(service: Service, args: Args) -> dict | None:
    """The request's mosaicRule; on a multidimensional service a `sliceId` replaces its
    multidimensionalDefinition with that slice's."""
    mosaic_rule = json_object(args, "mosaicRule")
    slice_id = args.integer("sliceId")
    if slice_id is None or service.multidimensional is None:
        return mosaic_rule
    kept = {key: value for key, value in (mosaic_rule or {}).items() if key.lower() != "multidimensionaldefinition"}
    return {**kept, "multidimensionalDefinition": slice_definition(service, slice_id)}


def mosaic_operation(mosaic_rule: dict | None) -> str:
    """The rule's mosaicOperation (MT_FIRST or First spelling), MT_FIRST by default."""
    return str((mosaic_rule or {}).get("mosaicOperation") or "MT_FIRST")


def band_list(args: Args, service: Service) -> list[int] | None:
    """`bandIds`: whole numbers, which may repeat (`0,0,0` draws one band grey), at most
    `band_list_limit` of them, so they cannot multiply the pixels a request holds."""
    values = args.numbers("bandIds")
    if values is None:
        return None
    if not values or not all(v == int(v) for v in values):
        raise BadParameter("'bandIds' parameter is invalid.")
    limit = band_list_limit(len(service.band_names))
    if len(values) > limit:
        raise BadParameter(f"'bandIds' parameter is invalid: at most {limit} band ids "
                           f"(the service has {len(service.band_names)} bands).")
    return [int(v) for v in values]


def bands_held(service: Service, args: Args, band_ids: list[int] | None) -> int:
    """The most bands the pixel pipeline holds at once, for the memory budget: the bands read,
    and with a rendering rule at least RGB_BANDS (no raster function makes a raster wider than
    max(its input, 3) bands, see band_list_limit)."""
    rule = json_object(args, "renderingRule")
    if rule is None:
        return len(service.band_names) if band_ids is None else len(band_ids)
    read = required_bands(rule, service)
    return max(len(service.band_names) if read is None else len(read), RGB_BANDS, len(band_ids or ()))


def checked_bands(band_ids: list[int] | None, band_count: int) -> list[int] | None:
    """0-based band ids, each within the bands available."""
    if band_ids is not None and not all(0 <= b < band_count for b in band_ids):
        raise BadParameter("'bandIds' parameter is invalid.")
    return band_ids


def json_object(args: Args, name: str) -> dict | None:
    value = args.json(name)
    if value is not None and not isinstance(value, dict):
        raise BadParameter(f"'{name}' parameter is invalid.")
    return value


def resampling_method(args: Args) -> str:
    value = args.get("interpolation")
    if value is None:
        return "nearest"
    method = RESAMPLING.get(value.lower())
    if method is None:
        raise BadParameter("'interpolation' parameter is invalid.")
    return method


def pixel_size(args: Args, service: Service) -> tuple[float, float]:
    """`pixelSize` as `x,y` or `{"x","y","spatialReference"}`, in service units; default native."""
    value = args.get("pixelSize")
    if value is None:
        return service.pixel_size
    if value.startswith("{"):
        parsed = json_object(args, "pixelSize") or {}
        sizes = [parsed.get("x"), parsed.get("y", parsed.get("x"))]
        crs = parse_sr(parsed.get("spatialReference"), "pixelSize", service.crs)
    else:
        sizes = args.numbers("pixelSize") or []
        sizes = sizes * 2 if len(sizes) == 1 else sizes
        crs = service.crs
    if len(sizes) != 2 or not all(isinstance(s, (int, float)) and s > 0 for s in sizes):
        raise BadParameter("'pixelSize' parameter is invalid.")
    size = float(sizes[0]), float(sizes[1])
    if crs != service.crs:
        size = service_pixel_size(service, crs, size)
    # Finer sizes make grids too large to count and transforms that cannot be inverted.
    if not all(math.isfinite(s) and s >= FINEST_PIXEL * native for s, native in zip(size, service.pixel_size)):
        raise BadParameter("'pixelSize' parameter is invalid: it must be finite and at least a millionth "
                           "of the service's pixel size.")
    return size


def service_pixel_size(service: Service, crs: CRS, size: tuple[float, float]) -> tuple[float, float]:
    """A pixel size given in `crs` in service units: one pixel moved from the service centre."""
    xmin, ymin, xmax, ymax = service.extent
    cx, cy = transform_points(service.crs, crs, [(xmin + xmax) / 2], [(ymin + ymax) / 2])
    xs, ys = transform_points(crs, service.crs, [cx[0], cx[0] + size[0]], [cy[0], cy[0] + size[1]])
    return abs(xs[1] - xs[0]), abs(ys[1] - ys[0])


# ----------------------------------------------------------------------------------------------
# Geometry parameters

def request_geometry(args: Args, service: Service) -> BaseGeometry:
    """The required `geometry` in the service CRS (query's parser: Esri JSON or `x,y`; the SR is the
    geometry's own, else the service's)."""
    shape = query_geometry(service, args)
    if shape is None:
        raise BadParameter("'geometry' parameter is required.")
    return shape


# ----------------------------------------------------------------------------------------------
# identify

def identify(service: Service, args: Args) -> dict:
    """The identify operation (reference §3): the processed pixel at a point and the items there."""
    shape = request_geometry(args, service)
    if shape.geom_type not in ("Point", "Polygon", "MultiPolygon"):
        raise BadParameter("'geometryType' parameter is invalid.")
    point = shape if shape.geom_type == "Point" else shape.centroid
    x, y = point.x, point.y
    px, py = pixel_size(args, service)
    # A 3x3 window centred on the point keeps neighbourhood functions (hillshade, slope) defined.
    grid = Grid(crs=service.crs, transform=from_origin(x - 1.5 * px, y + 1.5 * py, px, py), width=3, height=3)
    centre = processed_pixels(service, args, grid)[:, 1, 1]
    result: dict[str, Any] = {
        "objectId": 0,
        "name": "Pixel",
        "value": pixel_text(centre, ", "),
        "location": {"x": x, "y": y, "spatialReference": esri_sr(service.crs)},
    }
    if service.kind != "mosaic" or not args.boolean("returnCatalogItems", True):
        result.update(properties=None, catalogItems=None, catalogItemVisibilities=[])
        return result
    max_items = args.integer("maxItemCount", MAX_RECORD_COUNT)
    if max_items < 0:
        raise BadParameter("'maxItemCount' parameter is invalid.")
    items = items_at(service, args, x, y)
    if service.multidimensional is not None and args.boolean("processAsMultidimensional", False):
        items.sort(key=service.multidimensional.slice_key)     # one entry per slice, in slice order
    items = items[:min(max_items, MAX_RECORD_COUNT)]
    samples = [read_point(service, item, x, y, service.crs) for item in items]
    return_geometry = args.boolean("returnGeometry", True)
    features = []
    for item in items:
        feature: dict[str, Any] = {"attributes": dict(item.attributes)}
        if return_geometry:
            feature["geometry"] = esri_rings(item.footprint)
        features.append(feature)
    band_count = len(service.band_names)
    values = [" ".join([NO_DATA] * band_count) if s is None else pixel_text(s, " ") for s in samples]
    show_values = args.boolean("returnPixelValues", True) and features
    result["properties"] = {"Values": values} if show_values else {}
    result["catalogItems"] = {
        "objectIdFieldName": "OBJECTID",
        "spatialReference": esri_sr(service.crs),
        "geometryType": "esriGeometryPolygon",
        "features": features,
    }
    operation = mosaic_operation(request_mosaic_rule(service, args))
    result["catalogItemVisibilities"] = visibilities([s is not None for s in samples], operation)
    return result


def items_at(service: Service, args: Args, x: float, y: float) -> list[Item]:
    """The items the request's mosaic rule and time select whose footprint holds the point."""
    items = select_items(service, request_mosaic_rule(service, args), args.time_range(), (x, y))
    point = Point(x, y)
    return [item for item in items if item.footprint.intersects(point)]


def visibilities(has_data: list[bool], operation: str) -> list[float]:
    """How much of the identified pixel each item supplies: the winner for First/Last, shared
    equally by the items with data for the blending operations."""
    shown = [i for i, ok in enumerate(has_data) if ok]
    if not shown:
        return [0.0] * len(has_data)
    kind = operation.upper().removeprefix("MT_")
    if kind in ("FIRST", "LAST"):
        winner = shown[0] if kind == "FIRST" else shown[-1]
        return [1.0 if i == winner else 0.0 for i in range(len(has_data))]
    return [1.0 / len(shown) if ok else 0.0 for ok in has_data]


def pixel_text(values: np.ndarray | np.ma.MaskedArray, separator: str) -> str:
    """Band values as ArcGIS prints them: %g with 6 significant digits, `NoData` when masked."""
    masked = np.ma.getmaskarray(values)
    if masked.all():
        return NO_DATA
    data = np.ma.getdata(values)
    return separator.join(NO_DATA if m else f"{float(v):g}" for v, m in zip(data, masked))


# ----------------------------------------------------------------------------------------------
# computeHistograms

def compute_histograms(service: Service, args: Args, budget: MemoryBudget) -> dict:
    """Histograms of the processed pixels inside an envelope or polygon (reference §6)."""
    return summarise_area(service, args, budget, lambda data: {"histograms": [histogram(band) for band in data]})


def summarise_area(service: Service, args: Args, budget: MemoryBudget,
                   summarise: Callable[[np.ma.MaskedArray], dict]) -> dict:
    """`summarise` of the processed pixels inside the request's envelope or polygon (the others
    masked), computed within the memory budget: computeHistograms and computeStatisticsHistograms."""
    shape = request_geometry(args, service)
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise BadParameter("'geometry' parameter must be an envelope or a polygon.")
    px, py = pixel_size(args, service)
    xmin, ymin, xmax, ymax = shape.bounds
    width, height = max(1, math.ceil((xmax - xmin) / px)), max(1, math.ceil((ymax - ymin) / py))
    if width > MAX_IMAGE_SIZE or height > MAX_IMAGE_SIZE:
        raise BadParameter(SIZE_LIMIT)
    grid = Grid(crs=service.crs, transform=from_origin(xmin, ymax, px, py), width=width, height=height)
    with budget.reserve(width, height, bands_held(service, args, None)):
        data = processed_pixels(service, args, grid)
        outside = geometry_mask([shape], out_shape=(height, width), transform=grid.transform)
        data = np.ma.masked_array(data, mask=np.ma.getmaskarray(data) | outside[np.newaxis])
        return summarise(data)


def histogram(band: np.ma.MaskedArray) -> dict:
    """Integer data gets one bin per value, centred on it; anything else 256 equal bins."""
    values = band.compressed().astype(np.float64)
    if values.size == 0:
        return {"size": 0, "min": 0, "max": 0, "counts": []}
    low, high = float(values.min()), float(values.max())
    if np.all(values == np.round(values)) and high - low < 256:
        edges = np.arange(low - 0.5, high + 1.0, 1.0)
    else:
        edges = np.linspace(low, high if high > low else low + 1, 257)
    counts, _ = np.histogram(values, bins=edges)
    return {"size": len(counts), "min": float(edges[0]), "max": float(edges[-1]), "counts": counts.tolist()}


# ----------------------------------------------------------------------------------------------
# getSamples

def get_samples(service: Service, args: Args) -> dict:
    """Values at points, or along a line (reference §6); with `returnFirstValueOnly=false` every
    item with data at a location gives its own sample, which is what a temporal profile needs."""
    locations = sample_locations(request_geometry(args, service), args)
    first_only = args.boolean("returnFirstValueOnly", True)
    out_fields = [f.strip() for f in (args.get("outFields") or "").split(",") if f.strip()]
    resolution = pixel_size(args, service)[0]
    samples = []
    for location_id, (x, y) in enumerate(locations):
        for item in items_at(service, args, x, y):
            values = read_point(service, item, x, y, service.crs)
            if values is None:
                continue
            sample: dict[str, Any] = {
                "location": {"x": x, "y": y, "spatialReference": esri_sr(service.crs)},
                "locationId": location_id,
                "value": pixel_text(values, " "),
                "rasterId": item.object_id,
                "resolution": resolution,
            }
            if out_fields:
                sample["attributes"] = {k: v for k, v in item.attributes.items()
                                        if "*" in out_fields or k in out_fields}
            samples.append(sample)
            if first_only:
                break
    return {"samples": samples}


def sample_locations(shape: BaseGeometry, args: Args) -> list[tuple[float, float]]:
    """Points as given; lines sampled by sampleCount, by sampleDistance, or at their vertices."""
    if shape.geom_type == "Point":
        points = [(shape.x, shape.y)]
    elif shape.geom_type == "MultiPoint":
        points = [(p.x, p.y) for p in shape.geoms]
    elif shape.geom_type in ("LineString", "MultiLineString"):
        points = line_samples(shape, args)
    else:
        raise BadParameter("'geometry' parameter must be a point, multipoint or polyline.")
    if len(points) > MAX_SAMPLE_COUNT:
        raise BadParameter(TOO_MANY_SAMPLES)
    return points


def line_samples(shape: LineString | MultiLineString, args: Args) -> list[tuple[float, float]]:
    lines = list(getattr(shape, "geoms", [shape]))
    count = args.integer("sampleCount")
    distance = args.numbers("sampleDistance")
    if count is None and distance is None:
        return [tuple(c) for line in lines for c in line.coords]
    line = shapely.line_merge(shape) if len(lines) > 1 else lines[0]
    length = line.length
    if count is not None:
        if count < 1:
            raise BadParameter("'sampleCount' parameter is invalid.")
        if count > MAX_SAMPLE_COUNT:
            raise BadParameter(TOO_MANY_SAMPLES)
        positions = np.linspace(0, length, count) if count > 1 else np.array([0.0])
    else:
        if len(distance) != 1 or distance[0] <= 0:
            raise BadParameter("'sampleDistance' parameter is invalid.")
        if length / distance[0] >= MAX_SAMPLE_COUNT:
            raise BadParameter(TOO_MANY_SAMPLES)
        positions = np.append(np.arange(0, length, distance[0]), length)
    return [(p.x, p.y) for p in (line.interpolate(float(d)) for d in positions)]
