// Drives an unchanged esri-leaflet imageMapLayer and exposes what it did to the Python test.
// Query string: url = the ImageServer url, bounds = "south,west,north,east" of the view (degrees).
(function () {
  'use strict';

  var query = new URLSearchParams(window.location.search);
  var b = query.get('bounds').split(',').map(Number);

  // No basemap and no animations: the only requests are the layer's own.
  var map = L.map('map', { zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false });
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]]);

  window.events = [];
  var layer = L.esri.imageMapLayer({ url: query.get('url') });
  layer.on('loading load error requeststart requestsuccess requesterror', function (e) {
    window.events.push({ type: e.type, url: e.url || null, code: e.code || null, message: e.message || null });
  });
  layer.addTo(map);
  window.layer = layer;

  // The overlay <img> currently shown: esri-leaflet removes the previous one once a new one loads.
  window.currentImage = function () {
    var images = document.querySelectorAll('.leaflet-overlay-pane img.leaflet-image-layer');
    if (images.length !== 1 || !images[0].complete) return null;
    var img = images[0];
    var canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    var context = canvas.getContext('2d');
    context.drawImage(img, 0, 0);
    // Throws a SecurityError if the server's CORS headers did not let the page read the pixels.
    var pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    var opaque = 0;
    var colours = {};
    var checksum = 0;
    for (var i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] > 0) {
        opaque += 1;
        colours[(pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]] = true;
      }
      checksum = (checksum * 31 + pixels[i] + 7 * pixels[i + 1] + 13 * pixels[i + 2] + 17 * pixels[i + 3]) % 1000000007;
    }
    return {
      src: img.src,
      naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight,
      opaque: opaque,
      colours: Object.keys(colours).length,
      checksum: checksum
    };
  };

  // layer.identify().at(latlng).run(...), optionally with a mosaic rule; the answer lands in identifyResult.
  window.identifyResult = null;
  window.runIdentify = function (lat, lng, mosaicRule) {
    window.identifyResult = null;
    var task = layer.identify().at(L.latLng(lat, lng));
    if (mosaicRule) task.setMosaicRule(mosaicRule);
    task.run(function (error, results, raw) {
      window.identifyResult = {
        error: error || null,
        value: results ? results.pixel.properties.value : null,
        raw: raw || null
      };
    });
  };
})();
