/*
 * Map aids drawn in the browser, with no round trip: the coordinates under the cursor, a grid
 * where there is no basemap, a note when basemap tiles cannot load (offline), and a note while
 * the first image is on its way.
 */
(function () {
    "use strict";
    const DIGITS = 5;   // about a metre

    function note(map, position, className, text) {
        const control = L.control({position: position});
        control.onAdd = function () {
            const div = L.DomUtil.create("div", "leaflet-control map-note " + className);
            div.textContent = text;
            L.DomEvent.disableClickPropagation(div);
            return div;
        };
        control.addTo(map);
        return control.getContainer();
    }

    function coordinates(map) {
        const box = note(map, "bottomright", "map-coordinates", "Lat, lng under the cursor");
        map.on("mousemove", function (event) {
            box.textContent = event.latlng.lat.toFixed(DIGITS) + ", " + event.latlng.lng.toFixed(DIGITS);
        });
    }

    // Without a basemap the map shows a neutral grid, so the image does not float on plain grey.
    function basemapGrid(map) {
        function update() {
            let tiles = false;
            map.eachLayer(function (layer) { tiles = tiles || layer instanceof L.TileLayer; });
            map.getContainer().classList.toggle("map--no-basemap", !tiles);
        }
        update();
        map.on("layeradd layerremove", update);
    }

    function tileErrors(map) {
        const box = note(map, "topright", "map-tile-error",
            "The basemap's tiles could not be loaded (offline, or the tile server refused); the image layer is not affected.");
        box.hidden = true;
        function watch(layer) {
            if (!(layer instanceof L.TileLayer)) { return; }
            layer.on("tileerror", function () { box.hidden = false; });
            layer.on("tileload", function () { box.hidden = true; });
        }
        map.eachLayer(watch);
        map.on("layeradd", function (event) { watch(event.layer); });
        map.on("layerremove", function (event) { if (event.layer instanceof L.TileLayer) { box.hidden = true; } });
    }

    function firstImage(map) {
        const box = note(map, "topright", "map-first-image",
            "Drawing the first image… the server reads and mosaics the scenes for the first time, which takes a few seconds.");
        const poll = setInterval(function () {
            const state = window.imageMapLayer.stateOf("main");
            if (state && (state.error || (state.url && !state.loading))) {
                box.remove();
                clearInterval(poll);
            }
        }, 250);
    }

    const wait = setInterval(function () {
        const map = window.imageMapLayer && window.imageMapLayer.mapOf("main");
        if (!map) { return; }
        clearInterval(wait);
        coordinates(map);
        basemapGrid(map);
        tileErrors(map);
        firstImage(map);
    }, 100);
})();
