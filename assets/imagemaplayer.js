/*
 * Browser half of the ImageMapLayer Dash component (components/imagemaplayer.py).
 *
 * The server renders the exportImage URL once per parameter change, with {bbox} and {size} left
 * open; here the map view is filled in on every pan, zoom and resize, with no round trip.
 * Two ImageOverlays form a double buffer: the new image loads in the hidden one and is shown only
 * if it is still the newest request, so the old picture stays in place until then and an image
 * for a superseded view is never shown. Events are mirrored into the layer's dcc.Stores.
 */
(function () {
    "use strict";

    const UPDATE_INTERVAL = 150; // ms, esri-leaflet's ImageMapLayer throttle
    const MAX_EVENTS = 50;
    const layers = {}; // aio_id -> per-layer state

    function idOf(ctx, subcomponent) {
        const id = typeof ctx.id === "string" ? JSON.parse(ctx.id) : ctx.id;
        return Object.assign({}, id, {subcomponent: subcomponent});
    }

    function stateFor(aioId) {
        if (!layers[aioId]) {
            layers[aioId] = {seq: 0, front: "a", pending: null, shown: null, events: [], loading: false,
                             counts: {loading: 0, load: 0, error: 0}, error: null, ids: null, map: null};
        }
        return layers[aioId];
    }

    // esri-leaflet's L.Util.throttle: leading call, then one trailing call with the latest arguments.
    function throttle(fn, wait) {
        let lock = false, queued = false;
        function later() {
            lock = false;
            if (queued) { queued = false; run(); }
        }
        function run() {
            lock = true;
            fn();
            setTimeout(later, wait);
        }
        return function () {
            if (lock) { queued = true; } else { run(); }
        };
    }

    function setProps(id, props) {
        window.dash_clientside.set_props(id, props);
    }

    function publish(layer) {
        setProps(layer.ids.state, {data: {
            loading: layer.loading, url: layer.shown, error: layer.error,
            counts: Object.assign({}, layer.counts), seq: layer.seq,
        }});
        setProps(layer.ids.events, {data: layer.events.slice()});
    }

    function fire(layer, type, detail) {
        layer.events.push(Object.assign({type: type, time: Date.now()}, detail || {}));
        if (layer.events.length > MAX_EVENTS) { layer.events.splice(0, layer.events.length - MAX_EVENTS); }
        if (type in layer.counts) { layer.counts[type] += 1; }
    }

    function setLoadingClass(layer) {
        if (!layer.map) { return; }
        const busy = Object.values(layers).some((l) => l.map === layer.map && l.loading);
        layer.map.getContainer().classList.toggle("imagemaplayer-loading", busy);
    }

    // The view as esri-leaflet computes it (RasterLayer._calculateBbox / _calculateImageSize).
    function currentView(map) {
        const pixelBounds = map.getPixelBounds();
        const sw = map.unproject(pixelBounds.getBottomLeft());
        const ne = map.unproject(pixelBounds.getTopRight());
        const neP = map.options.crs.project(ne);
        const swP = map.options.crs.project(sw);
        const projected = L.bounds(neP, swP);
        const size = map.getSize();
        const top = map.latLngToLayerPoint(ne).y;
        const bottom = map.latLngToLayerPoint(sw).y;
        const height = (top > 0 || bottom < size.y) ? bottom - top : size.y;
        return {
            bbox: [projected.getBottomLeft().x, projected.getBottomLeft().y,
                   projected.getTopRight().x, projected.getTopRight().y].join(","),
            size: size.x + "," + height,
            bounds: [[sw.lat, sw.lng], [ne.lat, ne.lng]],
            zoom: map.getZoom(),
            width: size.x,
            height: height,
        };
    }

    function resolved(url) {
        return new URL(url, window.location.href).href;
    }

    function hrefUrl(template, href) {
        let url = href;
        if (template.token) {
            url += (url.indexOf("?") >= 0 ? "&" : "?") + "token=" + encodeURIComponent(template.token);
        }
        return template.proxy ? template.proxy + "?" + url : url;
    }

    function errorMessage(body) {
        const error = body && body.error;
        if (!error) { return null; }
        const details = (error.details || []).filter(Boolean).join("; ");
        return error.message + " (code " + error.code + ")" + (details ? ": " + details : "");
    }

    function fail(layer, seq, message) {
        if (seq !== layer.seq) { return; }
        layer.loading = false;
        layer.pending = null;
        layer.error = message;
        fire(layer, "error", {message: message});
        setLoadingClass(layer);
        publish(layer);
    }

    // After an <img> error, ask the server what went wrong: ArcGIS sends its error as JSON.
    function explainFailure(layer, seq, url) {
        fetch(url, {credentials: "same-origin"}).then((response) => response.text().then((text) => {
            let message = "The image could not be loaded (HTTP " + response.status + ").";
            try { message = errorMessage(JSON.parse(text)) || message; } catch (e) { /* not JSON */ }
            fail(layer, seq, message);
        })).catch(() => fail(layer, seq, "The image service could not be reached."));
    }

    function show(layer, buffer, url, bounds) {
        const overlay = layer.ids[buffer];
        setProps(overlay, {url: url, bounds: bounds});
    }

    const api = {
        // `add` handler of buffer A: hook the map's moves to this layer.
        attach: function (event, ctx) {
            const aioId = idOf(ctx, "a").aio_id;
            const layer = stateFor(aioId);
            const map = ctx.map;
            layer.ids = {a: idOf(ctx, "a"), b: idOf(ctx, "b"), view: idOf(ctx, "view"),
                         state: idOf(ctx, "state"), events: idOf(ctx, "events")};
            if (layer.map === map) { return; }
            layer.map = map;
            const report = throttle(() => setProps(layer.ids.view, {data: currentView(map)}), UPDATE_INTERVAL);
            map.on("moveend resize", report);
            setTimeout(report, 0); // after the layout has registered the stores
        },

        // `load` handler of both buffers: swap only if this is the newest request.
        loaded: function (event, ctx) {
            const id = idOf(ctx, "a");
            const layer = layers[id.aio_id];
            const buffer = JSON.parse(ctx.id).subcomponent;
            const src = event.target._url;
            if (!layer || !layer.pending || !src || src.startsWith("data:")) { return; }
            const pending = layer.pending;
            if (pending.buffer !== buffer || resolved(pending.url) !== resolved(src)) {
                fire(layer, "load", {stale: true, url: src});
                publish(layer);
                return;
            }
            const other = buffer === "a" ? "b" : "a";
            setProps(layer.ids[buffer], {opacity: pending.opacity});
            setProps(layer.ids[other], {opacity: 0});
            layer.front = buffer;
            layer.pending = null;
            layer.loading = false;
            layer.shown = pending.url;
            layer.error = null;
            fire(layer, "load", {url: pending.url, bounds: pending.bounds});
            setLoadingClass(layer);
            publish(layer);
        },

        // `error` handler of both buffers.
        failed: function (event, ctx) {
            const layer = layers[idOf(ctx, "a").aio_id];
            const src = event.target._url;
            if (!layer || !layer.pending || !src || resolved(layer.pending.url) !== resolved(src)) { return; }
            explainFailure(layer, layer.seq, src);
        },
    };

    // Clientside callback: a new view or new parameters -> a new request in the hidden buffer.
    function request(view, template, aioId) {
        const layer = stateFor(aioId);
        const noUpdate = window.dash_clientside.no_update;
        if (!view || !template || !layer.ids) { return [noUpdate, noUpdate, noUpdate, noUpdate]; }
        const z = template.zIndex;
        const front = layer.front, back = front === "a" ? "b" : "a";
        const visible = Boolean(template.url) &&
            !(template.minZoom !== null && view.zoom < template.minZoom) &&
            !(template.maxZoom !== null && view.zoom > template.maxZoom);
        if (!visible) {
            // Outside minZoom/maxZoom (or invalid parameters): no request, and nothing shown.
            layer.seq += 1;
            layer.pending = null;
            layer.loading = false;
            layer.shown = null;
            layer.error = template.error;
            setLoadingClass(layer);
            publish(layer);
            return [0, 0, z, z];
        }
        const url = template.url.replace("{bbox}", encodeURIComponent(view.bbox))
                                .replace("{size}", encodeURIComponent(view.size));
        const opacity = template.opacity;
        if (url === layer.shown && !layer.pending) {
            // Same picture (e.g. only the opacity changed): no new request.
            return front === "a" ? [opacity, 0, z, z] : [0, opacity, z, z];
        }
        layer.seq += 1;
        const seq = layer.seq;
        layer.loading = true;
        layer.error = null;
        fire(layer, "loading", {bounds: view.bounds});
        setLoadingClass(layer);
        if (template.f === "json") {
            fire(layer, "requeststart", {url: url});
            fetch(url, {credentials: "same-origin"}).then((r) => r.json()).then((body) => {
                if (seq !== layer.seq) { return; }
                const message = errorMessage(body);
                if (message) {
                    fire(layer, "requesterror", {url: url, message: message, code: body.error.code});
                    if (body.error.code === 498 || body.error.code === 499) { fire(layer, "authenticationrequired", {url: url}); }
                    fire(layer, "requestend", {url: url});
                    fail(layer, seq, message);
                    return;
                }
                fire(layer, "requestsuccess", {url: url});
                fire(layer, "requestend", {url: url});
                if (!body.href) { fail(layer, seq, "The exportImage response has no href."); return; }
                const href = hrefUrl(template, body.href);
                layer.pending = {buffer: back, url: href, bounds: view.bounds, opacity: opacity};
                show(layer, back, href, view.bounds);
                publish(layer);
            }).catch(() => {
                fire(layer, "requesterror", {url: url, message: "The image service could not be reached."});
                fire(layer, "requestend", {url: url});
                fail(layer, seq, "The image service could not be reached.");
            });
        } else {
            layer.pending = {buffer: back, url: url, bounds: view.bounds, opacity: opacity};
            show(layer, back, url, view.bounds);
        }
        publish(layer);
        return [noUpdate, noUpdate, z, z];
    }

    window.imageMapLayer = api;
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.imageMapLayer = {
        request: function (view, template, id) { return request(view, template, id.aio_id); },
    };
})();
