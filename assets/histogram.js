/*
 * The histogram tab's browser half: the main layer's view store changes on every pan and zoom
 * step, and its params on every slider tick; pass both on only once they have been still for
 * QUIET_MS, so the server computes one histogram per resting view (callbacks/histogram.py).
 */
(function () {
    "use strict";

    const QUIET_MS = 500;
    let timer = null;
    let lastTab = null;

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.histogram = {
        // Only while the histogram tab is open (a closed tab costs no request); opening it asks at once.
        settle: function (view, params, tab, storeId) {
            clearTimeout(timer);
            if (tab !== "histogram") { lastTab = tab; return window.dash_clientside.no_update; }
            const opened = tab !== lastTab;
            lastTab = tab;
            timer = setTimeout(function () {
                window.dash_clientside.set_props(storeId, {data: {view: view, params: params}});
            }, opened ? 0 : QUIET_MS);
            return window.dash_clientside.no_update;
        },
    };
})();
