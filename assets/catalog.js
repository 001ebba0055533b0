/*
 * The catalog tab's browser half: footprint styles for the dl.GeoJSON layer, and a debounce that
 * lets the map settle before the catalog is queried for the new view.
 */
(function () {
    "use strict";

    // The map must rest this long after a move before the catalog is queried again.
    const QUIET_MS = 400;
    // className marks the paths (set when a path is made; tests count footprints by it).
    const FOOTPRINT = {className: "catalog-footprint", color: "#f59e0b", weight: 1.5, opacity: 0.9,
                       fillOpacity: 0, dashArray: "4 3"}; // no fill: scenes overlap, and 14 faint fills tint the image
    const SELECTED = {className: "catalog-footprint", color: "#0ea5e9", weight: 3, opacity: 1,
                      fillOpacity: 0.12, dashArray: null};
    // The others, while some are selected: faint, so the selected ones stand out.
    const UNSELECTED = Object.assign({}, FOOTPRINT, {opacity: 0.35, fillOpacity: 0});
    const HOVER = {weight: 4, opacity: 1, fillOpacity: 0.2};

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
    let seen = false; // the catalog tab has been opened once

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.catalog = {
        // The layer's view store changes on every pan and zoom; pass its bounds on only once the
        // map has been still for QUIET_MS and the bounds really changed, and only while someone
        // looks: the tab is open, or footprints are shown after a first look (no request otherwise).
        settle: function (view, tab, show, storeId) {
            clearTimeout(timer);
            seen = seen || tab === "catalog";
            if (!view || !view.bounds || !(tab === "catalog" || (seen && show && show.length))) {
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
    };
})();
