/*
 * The histogram tab's browser half: the main layer's view store changes on every pan and zoom
 * step, and its params on every slider tick; pass both on only once they have been still for
 * QUIET_MS, so the server computes one histogram per resting view (callbacks/histogram.py).
 */
(function () {
    "use strict";

    const QUIET_MS = 500;
    let timer = null;

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.histogram = {
        settle: function (view, params, storeId) {
            clearTimeout(timer);
            timer = setTimeout(function () {
                window.dash_clientside.set_props(storeId, {data: {view: view, params: params}});
            }, QUIET_MS);
            return window.dash_clientside.no_update;
        },
    };
})();
