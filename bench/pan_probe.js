// Injected into both benchmark pages (the dashboard and the esri-leaflet page) before their own
// scripts, so both are measured the same way: every exportImage URL given to an <img>, and on every
// animation frame which exportImage pictures are on screen (anywhere on the page: loaded, laid out,
// opacity > 0).
// `window.__bench.move(getMap, actions)` runs a scripted move; `result()` says what followed it.
(function () {
    "use strict";
    const bench = window.__bench = {assigned: [], shown: [], stale: [], map: null, getMap: null, start: null};
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

    // Every exportImage picture the user can see: in a map pane, or the dashboard's index page
    // drawing the first view before its map exists (components/firstview.py).
    function visible() {
        const urls = new Set();
        Array.from(document.images).forEach((img) => {
            if (isExport(img.src) && img.complete && img.naturalWidth > 0 && img.isConnected &&
                img.getClientRects().length > 0 && parseFloat(getComputedStyle(img).opacity) > 0) { urls.add(img.src); }
        });
        return urls;
    }

    // The page's Leaflet map: set by move(), or found earlier through `bench.getMap` (the benchmark
    // sets it to the page's map expression), so pictures drawn while the page loads are checked too.
    function currentMap() {
        if (!bench.map && bench.getMap) {
            try { bench.map = bench.getMap() || null; } catch (e) { bench.map = null; }
        }
        return bench.map;
    }

    // How far (in screen pixels) the view an exportImage URL was asked for (bbox, size) is from the
    // map's view now; 0 when they are the same to within a pixel.
    function offBy(map, url) {
        const query = new URL(url).searchParams;
        const bbox = (query.get("bbox") || "").split(",").map(Number);
        const size = (query.get("size") || "").split(",").map(Number);
        const bounds = map.getBounds(), crs = map.options.crs, mapSize = map.getSize();
        const sw = crs.project(bounds.getSouthWest()), ne = crs.project(bounds.getNorthEast());
        const pixel = (ne.x - sw.x) / mapSize.x;
        // esri-leaflet's bbox is xmin,ymax,xmax,ymin (Leaflet's projected bottom-left, top-right): sort each axis.
        const [x0, x1] = [bbox[0], bbox[2]].sort((a, b) => a - b), [y0, y1] = [bbox[1], bbox[3]].sort((a, b) => a - b);
        const off = Math.max(...[[sw.x, x0], [sw.y, y0], [ne.x, x1], [ne.y, y1]].map(([v, w]) => Math.abs(v - w) / pixel));
        const resized = size.length === 2 && (size[0] !== mapSize.x || Math.abs(size[1] - mapSize.y) > 1);
        return bbox.length !== 4 || resized ? Infinity : (off < 1 ? 0 : off);
    }

    // The user's definition: a picture is stale if the bounds (or size) it was asked for differ from
    // the map's when it comes on screen. (A picture kept on screen while the map moves, waiting for
    // the next, is not: it was drawn for the view it was asked for.)
    // A picture shown before the map existed is checked at the first frame the map does.
    let onScreen = new Set(), unchecked = new Set();
    function frame() {
        const now = performance.now();
        const urls = visible();
        const map = currentMap();
        urls.forEach((url) => {
            const arrived = !onScreen.has(url);
            if (arrived) { bench.shown.push({t: now, url: url}); }
            if (!arrived && !unchecked.has(url)) { return; }
            if (!map) { unchecked.add(url); return; }
            unchecked.delete(url);
            const off = offBy(map, url);
            if (off > 0) { bench.stale.push({t: now, url: url, off: off}); }
        });
        onScreen = urls;
        requestAnimationFrame(frame);
    }
    requestAnimationFrame(frame);

    // actions: [[method, args, delay ms after the previous action], ...] on the Leaflet map, no animation.
    bench.move = function (getMap, actions) {
        const map = getMap();
        bench.map = map;
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
