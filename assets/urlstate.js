/*
 * The page URL: the server renders the layer's part (callbacks/urlstate.py) when the params
 * change; the map's center and zoom are appended here on every move, with no round trip.
 */
(function () {
    "use strict";
    const DIGITS = 5; // about a metre: enough for a link, short enough to read

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.urlState = {
        write: function (search, view, viewId) {
            if (!search) { return window.dash_clientside.no_update; }
            const map = window.imageMapLayer && window.imageMapLayer.mapOf(viewId.aio_id);
            let full = search;
            if (map && view) {
                const center = map.getCenter();
                const lat = Number(center.lat.toFixed(DIGITS)), lng = Number(center.lng.toFixed(DIGITS));
                full += "&center=" + encodeURIComponent(lat + "," + lng) + "&zoom=" + map.getZoom();
            }
            window.history.replaceState(null, "", full);
            return full;
        },
    };
})();
