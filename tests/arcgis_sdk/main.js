// A tiny test API on window.sdk: the ArcGIS Maps SDK's own ImageryLayer and MapView, driven by the
// Python tests (tests/test_arcgis_sdk_browser.py) against the embedded ImageServer.
import "@arcgis/core/assets/esri/themes/light/main.css";
import esriConfig from "@arcgis/core/config.js";
import EsriMap from "@arcgis/core/Map.js";
import Point from "@arcgis/core/geometry/Point.js";
import ImageryLayer from "@arcgis/core/layers/ImageryLayer.js";
import RasterFunction from "@arcgis/core/layers/support/RasterFunction.js";
import MapView from "@arcgis/core/views/MapView.js";
import * as reactiveUtils from "@arcgis/core/core/reactiveUtils.js";

/** Every request the SDK makes through esriRequest: its URL and query, in order. */
const requests = [];
/** What each pixelFilter call received. */
const filtered = [];
let layer = null;
let view = null;

esriConfig.request.interceptors.push({
  before(params) {
    requests.push({ url: params.url, query: { ...(params.requestOptions?.query ?? {}) } });
  },
});

function describe(error) {
  return { name: error?.name ?? "Error", message: error?.message ?? String(error), details: error?.details ?? null };
}

/** Resolves once the view and every layer view have drawn what was asked for. */
async function settled() {
  await reactiveUtils.whenOnce(() => view.ready && !view.updating);
  return { updating: view.updating };
}

/** Applies a change that must make the layer fetch a new image; resolves once that image is drawn. */
async function redrawnAfter(change) {
  const exportsBefore = exportCount();
  await change();
  while (exportCount() === exportsBefore) await new Promise((resolve) => setTimeout(resolve, 20));
  return settled();
}

function exportCount() {
  return requests.filter((r) => r.url.endsWith("/exportImage")).length;
}

/** Per-band count, sum, min and max of the valid pixels of a pixel block. */
function bandStatistics(block) {
  return block.pixels.map((band) => {
    let count = 0, sum = 0, min = Infinity, max = -Infinity;
    for (let i = 0; i < band.length; i++) {
      if (block.mask && !block.mask[i]) continue;
      const value = band[i];
      count += 1; sum += value;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    return { count, sum, min, max };
  });
}

/** Records what the SDK decoded, then paints every valid pixel pure red (the picture must show it). */
function recordingPixelFilter(pixelData) {
  const block = pixelData.pixelBlock;
  if (!block?.pixels) return;
  filtered.push({
    width: block.width,
    height: block.height,
    pixelType: block.pixelType,
    masked: Boolean(block.mask),
    extent: pixelData.extent?.toJSON() ?? null,
    bands: bandStatistics(block),
  });
  const size = block.width * block.height;
  const red = new Uint8Array(size);
  for (let i = 0; i < size; i++) red[i] = !block.mask || block.mask[i] ? 255 : 0;
  block.pixels = [red, new Uint8Array(size), new Uint8Array(size)];
  block.pixelType = "u8";
  block.statistics = null;
}

/** The view's current picture: opaque pixel count, distinct colours (listed when few), red pixels and a checksum. */
async function picture() {
  const shot = await view.takeScreenshot({ format: "png" });
  const { data, width, height } = shot.data;
  const colours = new Set();
  let opaque = 0, red = 0, checksum = 0;
  for (let i = 0; i < data.length; i += 4) {
    checksum = (checksum * 31 + data[i] * 3 + data[i + 1] * 5 + data[i + 2] * 7 + data[i + 3]) >>> 0;
    if (data[i + 3] === 0) continue;
    opaque += 1;
    colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    if (data[i] > 200 && data[i + 1] < 50 && data[i + 2] < 50) red += 1;
  }
  const palette = colours.size <= 64 ? [...colours].map((c) => [c >> 16, (c >> 8) & 255, c & 255]) : null;
  return { width, height, opaque, colours: colours.size, palette, red, checksum };
}

window.sdk = {
  requests,
  filtered,

  /** Loads an ImageryLayer from `url` into a MapView on its extent: `options` are layer properties,
   * `rasterFunction` as ArcGIS JSON and `pixelFilter: true` for the recording filter. */
  async open(url, options = {}) {
    const { pixelFilter, rasterFunction, ...properties } = options;
    view?.destroy();
    layer = new ImageryLayer({ url, ...properties });
    if (rasterFunction) layer.rasterFunction = RasterFunction.fromJSON(rasterFunction);
    if (pixelFilter) layer.pixelFilter = recordingPixelFilter;
    try {
      await layer.load();
    } catch (error) {
      return { loadError: describe(error) };
    }
    let layerView = null;
    await redrawnAfter(async () => {
      view = new MapView({
        container: "view",
        map: new EsriMap({ layers: [layer] }),
        extent: layer.fullExtent,
        ui: { components: [] },
      });
      layerView = await view.whenLayerView(layer);
    });
    return {
      loadError: null,
      layerViewUpdating: layerView.updating,
      version: layer.version,
      format: layer.format,
      timeInfo: layer.timeInfo?.toJSON() ?? null,
      rasterFunctionInfos: layer.rasterFunctionInfos?.map((info) => info.name) ?? null,
      serviceRasterInfo: { bandCount: layer.serviceRasterInfo?.bandCount, pixelType: layer.serviceRasterInfo?.pixelType },
    };
  },

  picture,

  /** The layer's identify at a map point (x, y in the view's spatial reference). */
  async identify(x, y) {
    const point = new Point({ x, y, spatialReference: view.spatialReference });
    const result = await layer.identify({ geometry: point });
    return {
      value: result.value,
      name: result.name,
      objectId: result.objectId,
      catalogItemIds: result.catalogItems?.features?.map((f) => f.attributes.OBJECTID) ?? null,
    };
  },

  setRasterFunction(json) {
    return redrawnAfter(() => { layer.rasterFunction = json ? RasterFunction.fromJSON(json) : null; });
  },

  /** Sets the view's time extent (epoch milliseconds). */
  setTime(start, end) {
    return redrawnAfter(() => { view.timeExtent = { start: new Date(start), end: new Date(end) }; });
  },

  /** The SDK's RasterInfo of one catalog item (its `<oid>/info` and `<oid>/info/keyProperties`). */
  async catalogItemRasterInfo(objectId) {
    const info = await layer.getCatalogItemRasterInfo(objectId);
    return {
      bandCount: info.bandCount,
      pixelType: info.pixelType,
      width: info.width,
      height: info.height,
      extent: info.extent.toJSON(),
      keyProperties: info.keyProperties ?? null,
    };
  },

  /** The service's boundary polygon (queryBoundary). */
  async queryBoundary() {
    const result = await layer.queryBoundary({});
    return { area: result.area, geometry: result.geometry.toJSON() };
  },

  /** Per-band statistics and histograms of the view's extent (computeStatisticsHistograms). */
  async computeStatisticsHistograms() {
    const result = await layer.computeStatisticsHistograms({ geometry: view.extent });
    return { statistics: result.statistics, histograms: result.histograms };
  },

  /** What the layer draws with: its renderer type and the raster info the SDK keeps. */
  rendering: () => ({
    renderer: layer.renderer?.type ?? null,
    dataType: layer.serviceRasterInfo?.dataType ?? null,
    hasRasterAttributeTable: Boolean(layer.serviceRasterInfo?.attributeTable),
    colormapEntries: layer.serviceRasterInfo?.colormap?.length ?? 0,
  }),

  viewExtent: () => view.extent.toJSON(),
  /** Every URL the page fetched (resource timing), to prove no request left 127.0.0.1. */
  fetchedUrls: () => performance.getEntriesByType("resource").map((entry) => entry.name),
};
window.sdkReady = true;
