/*
 * The catalog tab's browser half: footprint styles for the dl.GeoJSON layer, and a debounce that
 * lets the map settle before the catalog is queried for the new view.
 */
(function () {
    "use strict";

    // The map must rest this long after a move before the catalog is queried again.
    const QUIET_MS = 400;
    // className marks the paths (set when a path is made; tests count footprints by it).
    // A click on a footprint selects its scene and does not reach the map (no identify there);
    // catalog.css lets only the outline take the pointer, so inside a footprint the map is clicked.
    const FOOTPRINT = {className: "catalog-footprint", color: "#f59e0b", weight: 2, opacity: 0.9,
                       fillOpacity: 0, dashArray: "4 3", // no fill: scenes overlap, and 14 faint fills tint the image
                       bubblingMouseEvents: false};
    const SELECTED = {className: "catalog-footprint", color: "#0ea5e9", weight: 3, opacity: 1,
                      fillOpacity: 0.12, dashArray: null, bubblingMouseEvents: false};
    // The others, while some are selected: faint, so the selected ones stand out.
    const UNSELECTED = Object.assign({}, FOOTPRINT, {opacity: 0.35, fillOpacity: 0});
    // The outline under the pointer stands out; no fill, which would tint the image.
    const HOVER = {weight: 4, opacity: 1};

    function footprintStyle(feature, context) {
        const selected = (context && context.hideout && context.hideout.selected) || [];
        if (!selected.length) { return FOOTPRINT; }
        return selected.includes(feature.id) ? SELECTED : UNSELECTED;
    }

    // dash-leaflet calls these as fn(feature, context); context.hideout holds {selected: [ids]}.
    window.catalogFootprints = {
        style: footprintStyle,
        hoverStyle: function (feature, context) {
            return Object.assign({}, footprintStyle(feature, context), HOVER);
        },
    };

    let timer = null;
    let last = null;

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.catalog = {
        // The layer's view store changes on every pan and zoom; pass its bounds on only once the
        // map has been still for QUIET_MS and the bounds really changed, and only while the
        // catalog tab is open (no request otherwise).
        settle: function (view, tab, storeId) {
            clearTimeout(timer);
            if (!view || !view.bounds || tab !== "catalog") {
                return window.dash_clientside.no_update;
            }
            timer = setTimeout(function () {
                const bounds = view.bounds.map((corner) => corner.map((v) => Math.round(v * 1e6) / 1e6));
                const text = JSON.stringify(bounds);
                if (text !== last) {
                    last = text;
                    window.dash_clientside.set_props(storeId, {data: {bounds: bounds}});
                }
            }, QUIET_MS);
            return window.dash_clientside.no_update;
        },
        // The footprints are on the map only while the catalog tab is open and they are asked for.
        shown: function (data, show, tab) {
            return show && show.length && tab === "catalog" ? data : {type: "FeatureCollection", features: []};
        },
    };
})();
