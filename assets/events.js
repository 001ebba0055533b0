/*
 * The layer-events panel (the seed's loading, load, error and request events) and the counts
 * line, drawn in the browser from the layer's stores: they change on every pan, so a server
 * round trip each time would slow the image down.
 */
(function () {
    "use strict";
    const SHOWN = 12;

    function pad(n) { return String(n).padStart(2, "0"); }

    // One event in a line: local time, type, and the message or the request's operation.
    function eventLine(event) {
        const when = new Date(event.time);
        const time = pad(when.getHours()) + ":" + pad(when.getMinutes()) + ":" + pad(when.getSeconds());
        let detail = event.message || (event.stale ? "stale image dropped" : "");
        if (!detail && event.url) {
            const path = new URL(event.url, window.location.href).pathname;
            detail = path.slice(path.lastIndexOf("/") + 1);
        }
        return time + " " + event.type + (detail ? ": " + detail : "");
    }

    // Requests that neither loaded nor failed nor are still loading were superseded by a newer
    // view or setting (the browser cancelled them, or they arrived late and were dropped).
    function countsText(state) {
        const counts = (state && state.counts) || {};
        const requested = counts.loading || 0, loaded = counts.load || 0, failed = counts.error || 0;
        const inFlight = state && state.loading ? 1 : 0;
        const superseded = Math.max(0, requested - loaded - failed - inFlight);
        return (inFlight ? "loading…" : "idle") + " · " + requested + " requested: " + loaded + " loaded, " +
            failed + " failed, " + superseded + " superseded" + (inFlight ? ", 1 loading" : "");
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.layerEvents = {
        eventLine: eventLine,
        countsText: countsText,
        // Newest first, as list items.
        list: function (events) {
            return (events || []).slice(-SHOWN).reverse().map((event) => ({
                type: "Li", namespace: "dash_html_components",
                props: {children: eventLine(event), className: "event-" + event.type},
            }));
        },
    };
})();
