// Injected into both benchmark pages (the dashboard and the esri-leaflet page) before their own
// scripts, so both are measured the same way: every exportImage URL given to an <img>, and on every
// animation frame which exportImage pictures are on screen (in the overlay pane, loaded, opacity > 0).
// `window.__bench.move(getMap, actions)` runs a scripted move; `result()` says what followed it.
(function () {
    "use strict";
    const bench = window.__bench = {assigned: [], shown: [], stale: [], map: null, start: null};
    const isExport = (src) => typeof src === "string" && src.includes("/exportImage");
    performance.setResourceTimingBufferSize(100000); // the dashboard's callbacks would fill the default 250

    // Every `img.src = url` (Leaflet's ImageOverlay sets its image this way, attached or not).
    const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
    Object.defineProperty(HTMLImageElement.prototype, "src", {
        configurable: true,
        get: function () { return src.get.call(this); },
        set: function (value) {
            src.set.call(this, value);
            const url = src.get.call(this);
            if (isExport(url)) { bench.assigned.push({t: performance.now(), url: url}); }
        },
    });

    function visible() {
        const urls = new Set();
        document.querySelectorAll(".leaflet-overlay-pane img").forEach((img) => {
            if (isExport(img.src) && img.complete && img.naturalWidth > 0 &&
                parseFloat(getComputedStyle(img).opacity) > 0) { urls.add(img.src); }
        });
        return urls;
    }

    // The map's views as they came (on every moveend), to tell the view an exportImage URL is for.
    const views = [];
    function recordView() {
        const map = bench.map, bounds = map.getBounds(), crs = map.options.crs;
        const sw = crs.project(bounds.getSouthWest()), ne = crs.project(bounds.getNorthEast());
        views.push({t: performance.now(), bbox: [sw.x, sw.y, ne.x, ne.y], pixel: (ne.x - sw.x) / map.getSize().x});
    }

    // When the map was last at the URL's bbox (to a screen pixel); -Infinity for a view not seen.
    function viewTime(url) {
        const bbox = (new URL(url).searchParams.get("bbox") || "").split(",").map(Number);
        for (let i = views.length - 1; i >= 0; i--) {
            const view = views[i];
            if (bbox.length === 4 && view.bbox.every((v, k) => Math.abs(v - bbox[k]) < view.pixel)) { return view.t; }
        }
        return -Infinity;
    }

    // A picture is stale when it comes on screen after a picture of a newer view did: an old
    // response replacing a newer one. (Showing a kept picture of a view the map came back to is not.)
    let onScreen = new Set();
    let newestShownView = -Infinity;
    function frame() {
        const now = performance.now();
        const urls = visible();
        urls.forEach((url) => {
            if (onScreen.has(url)) { return; }
            bench.shown.push({t: now, url: url});
            if (!bench.map) { return; }
            const viewed = viewTime(url);
            if (viewed < newestShownView) { bench.stale.push({t: now, url: url}); }
            newestShownView = Math.max(newestShownView, viewed);
        });
        onScreen = urls;
        requestAnimationFrame(frame);
    }
    requestAnimationFrame(frame);

    // actions: [[method, args, delay ms after the previous action], ...] on the Leaflet map, no animation.
    bench.move = function (getMap, actions) {
        const map = getMap();
        if (bench.map !== map) {
            bench.map = map;
            map.on("moveend", recordView);
            recordView();
        }
        bench.start = performance.now();
        bench.lastAction = bench.start;
        bench.marks = {assigned: bench.assigned.length, shown: bench.shown.length, stale: bench.stale.length};
        let delay = 0;
        actions.forEach(([method, args, after]) => {
            delay += after;
            setTimeout(() => {
                map[method](...args, {animate: false});
                bench.lastAction = performance.now();
            }, delay);
        });
        bench.actionsEnd = bench.start + delay;
    };

    // What followed the last move: the exportImage URLs asked for, and when the last of them came on
    // screen (null while it has not). `quiet` is how long nothing new has been asked for.
    bench.result = function () {
        const now = performance.now();
        const assigned = bench.assigned.slice(bench.marks.assigned);
        const final = assigned.length ? assigned[assigned.length - 1] : null;
        const shownSince = bench.shown.slice(bench.marks.shown);
        // With no new URL the page showed a picture it kept (or nothing changed): time that instead.
        const shown = final ? shownSince.find((s) => s.url === final.url && s.t >= final.t)
                            : shownSince[shownSince.length - 1] || {t: bench.start};
        const lastEvent = Math.max(bench.lastAction, final ? final.t : 0);
        const fetched = final && performance.getEntriesByName(final.url).pop();
        return {
            assigned: assigned.length,
            finalUrl: final ? final.url : null,
            timeToImage: shown ? shown.t - bench.start : null,
            // When the final picture was asked for and its bytes were in, ms after the move began.
            requested: final ? final.t - bench.start : null,
            received: fetched ? fetched.responseEnd - bench.start : null,
            stale: bench.stale.length - bench.marks.stale,
            actionsDone: now >= bench.actionsEnd,
            quiet: now - lastEvent,
        };
    };
})();
