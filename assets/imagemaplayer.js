/*
 * Browser half of the ImageMapLayer Dash component (components/imagemaplayer.py).
 *
 * The server renders the exportImage URL once per parameter change, with {bbox} and {size} left
 * open; here the map view is filled in on every pan, zoom and resize, with no round trip.
 * Two ImageOverlays form a double buffer: the new image loads in the hidden one and is shown only
 * if it is still the newest request, so the old picture stays in place until then and an image
 * for a superseded view is never shown. Events are mirrored into the layer's dcc.Stores.
 * The layer's attribution (its attribution store) is kept in the map's attribution control.
 */
(function () {
    "use strict";
    if (window.imageMapLayer) { return; } // served both as an asset and by register(app)

    const UPDATE_INTERVAL = 150; // ms, esri-leaflet's ImageMapLayer throttle
    const CLICK_DELAY = 300; // ms, esri-leaflet's popup wait: a double-click (zoom) in it cancels the click
    const MAX_EVENTS = 50;
    const AUTH_CODES = [498, 499]; // invalid or expired token; token required
    const BLANK = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
    const layers = {}; // aio_id -> per-layer state

    function idOf(ctx, subcomponent) {
        const id = typeof ctx.id === "string" ? JSON.parse(ctx.id) : ctx.id;
        return Object.assign({}, id, {subcomponent: subcomponent});
    }

    function emptyBuffers() {
        return {a: {url: null, request: null, loaded: false}, b: {url: null, request: null, loaded: false}};
    }

    function stateFor(aioId) {
        if (!layers[aioId]) {
            layers[aioId] = {seq: 0, front: "a", pending: null, shown: null, events: [], loading: false,
                             counts: {loading: 0, load: 0, error: 0}, error: null, ids: null, map: null,
                             // buffers: what each <img> holds, as a set_props of an unchanged url fires no load
                             buffers: emptyBuffers(), report: null, clickTimer: null,
                             // attribution: the text wanted; attributed: the text in the map's control
                             attribution: null, attributed: null};
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

    function snapshot(layer) {
        return {loading: layer.loading, url: layer.shown, error: layer.error,
                counts: Object.assign({}, layer.counts), seq: layer.seq};
    }

    function publish(layer) {
        setProps(layer.ids.state, {data: snapshot(layer)});
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
        const pending = layer.pending;
        if (pending && pending.url && layer.buffers[pending.buffer].url === pending.url) {
            // Empty the buffer, so that asking for the same URL again really reloads it.
            layer.buffers[pending.buffer] = emptyBuffers()[pending.buffer];
            setProps(layer.ids[pending.buffer], {url: BLANK});
        }
        layer.loading = false;
        layer.pending = null;
        layer.error = message;
        fire(layer, "error", {message: message});
        setLoadingClass(layer);
        publish(layer);
    }

    // A request the server refused for want of a (valid) token, in esri-leaflet's order:
    // authenticationrequired, then requesterror. Answer with authenticate(token) on the params.
    function refused(layer, url, code, message) {
        fire(layer, "authenticationrequired", {url: url, code: code});
        fire(layer, "requesterror", {url: url, code: code, message: message});
    }

    // After an <img> error, ask the server what went wrong: ArcGIS sends its error as JSON.
    function explainFailure(layer, seq, url) {
        fetch(url, {credentials: "same-origin"}).then((response) => response.text().then((text) => {
            let body = null;
            try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
            const message = errorMessage(body) || "The image could not be loaded (HTTP " + response.status + ").";
            const code = body && body.error ? body.error.code : response.status;
            if (seq === layer.seq && AUTH_CODES.includes(code)) { refused(layer, url, code, message); }
            fail(layer, seq, message);
        })).catch(() => fail(layer, seq, "The image service could not be reached."));
    }

    // Load `url` (the image for the exportImage URL `request`) in the hidden buffer; if that
    // buffer already holds it, swap at once.
    function load(layer, buffer, url, request, bounds, opacity) {
        layer.pending = {buffer: buffer, url: url, request: request, bounds: bounds, opacity: opacity};
        const held = layer.buffers[buffer];
        if (held.url === url) {
            if (held.loaded) { swap(layer, buffer); }
            return;
        }
        layer.buffers[buffer] = {url: url, request: request, loaded: false};
        setProps(layer.ids[buffer], {url: url, bounds: bounds});
    }

    // Show the pending image (now loaded in `buffer`) and hide the other buffer.
    function swap(layer, buffer) {
        const pending = layer.pending;
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
    }

    // Make the map's attribution control show the layer's attribution, and only that one.
    function applyAttribution(layer, map) {
        const control = map && map.attributionControl;
        if (!control || layer.attributed === layer.attribution) { return; }
        if (layer.attributed) { control.removeAttribution(layer.attributed); }
        if (layer.attribution) { control.addAttribution(layer.attribution); }
        layer.attributed = layer.attribution;
    }

    function dropAttribution(layer, map) {
        const wanted = layer.attribution;
        layer.attribution = null;
        applyAttribution(layer, map);
        layer.attribution = wanted;
    }

    // A map click, published once no double-click has followed it.
    function clicked(layer, event) {
        clearTimeout(layer.clickTimer);
        layer.clickTimer = setTimeout(() => setProps(layer.ids.click, {
            data: {lat: event.latlng.lat, lng: event.latlng.lng, time: Date.now()},
        }), CLICK_DELAY);
    }

    const api = {
        // The Leaflet map a layer is drawn on, for other clientside code (and tests).
        mapOf: function (aioId) { return layers[aioId] ? layers[aioId].map : null; },

        // What the layer's state store holds, read at once rather than after a Dash round trip.
        stateOf: function (aioId) { return layers[aioId] ? snapshot(layers[aioId]) : null; },

        // `add` handler of buffer A: hook the map's moves to this layer.
        attach: function (event, ctx) {
            const aioId = idOf(ctx, "a").aio_id;
            const layer = stateFor(aioId);
            const map = ctx.map;
            layer.ids = {a: idOf(ctx, "a"), b: idOf(ctx, "b"), view: idOf(ctx, "view"),
                         state: idOf(ctx, "state"), events: idOf(ctx, "events"), click: idOf(ctx, "click")};
            if (event.target._url !== layer.buffers.a.url) {
                // A new layer under this id (a remount keeps the urls set before): start afresh.
                layer.buffers = emptyBuffers();
                layer.front = "a";
                layer.pending = null;
                layer.shown = null;
            }
            if (layer.map !== map) {
                dropAttribution(layer, layer.map);
                layer.map = map;
                layer.report = throttle(() => setProps(layer.ids.view, {data: currentView(map)}), UPDATE_INTERVAL);
                map.on("moveend resize", layer.report);
                map.on("click", (e) => clicked(layer, e));
                map.on("dblclick", () => clearTimeout(layer.clickTimer));
            }
            applyAttribution(layer, map);
            event.target.once("remove", () => dropAttribution(layer, map));
            setTimeout(layer.report, 0); // after the layout has registered the stores
        },

        // `load` handler of both buffers: swap only if this is the newest request.
        loaded: function (event, ctx) {
            const id = idOf(ctx, "a");
            const layer = layers[id.aio_id];
            const buffer = JSON.parse(ctx.id).subcomponent;
            const src = event.target._url;
            if (!layer || !src || src.startsWith("data:")) { return; }
            const held = layer.buffers[buffer];
            if (held.url !== null && resolved(held.url) === resolved(src)) { held.loaded = true; }
            const pending = layer.pending;
            if (!pending || pending.buffer !== buffer || resolved(pending.url) !== resolved(src)) {
                fire(layer, "load", {stale: true, url: src});
                publish(layer);
                return;
            }
            swap(layer, buffer);
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
        const mapCrs = layer.map.options.crs.code;
        const crsError = mapCrs === template.crs ? null :
            "The layer's crs (" + template.crs + ") is not the map's: give ImageMapLayer crs=\"" + mapCrs + "\".";
        const visible = Boolean(template.url) && !crsError &&
            !(template.minZoom !== null && view.zoom < template.minZoom) &&
            !(template.maxZoom !== null && view.zoom > template.maxZoom);
        if (!visible) {
            // Outside minZoom/maxZoom (or invalid parameters, or the wrong crs): no request, and nothing shown.
            layer.seq += 1;
            layer.pending = null;
            layer.loading = false;
            layer.shown = null;
            layer.error = template.error || crsError;
            setLoadingClass(layer);
            publish(layer);
            return [0, 0, z, z];
        }
        const url = template.url.replace("{bbox}", encodeURIComponent(view.bbox))
                                .replace("{size}", encodeURIComponent(view.size));
        const opacity = template.opacity;
        const held = layer.buffers[front];
        if (url === held.request && held.loaded) {
            // The picture on screen (only the opacity or z-index changed, or the map came back to
            // it before a newer image loaded): no new request.
            if (layer.pending || layer.shown !== held.url) {
                layer.seq += 1;
                layer.pending = null;
                layer.loading = false;
                layer.shown = held.url;
                setLoadingClass(layer);
                publish(layer);
            }
            return front === "a" ? [opacity, 0, z, z] : [0, opacity, z, z];
        }
        if (layer.pending && layer.pending.request === url) {
            // Already on its way (the same view reported twice, or only the opacity changed).
            layer.pending.opacity = opacity;
            return [noUpdate, noUpdate, z, z];
        }
        layer.seq += 1;
        const seq = layer.seq;
        layer.loading = true;
        layer.error = null;
        if (template.f === "json") {
            // As in esri-leaflet: the request starts, then `loading` fires.
            fire(layer, "requeststart", {url: url});
        }
        fire(layer, "loading", {bounds: view.bounds});
        setLoadingClass(layer);
        if (template.f === "json") {
            // Pending with no image yet: the href is known once the exportImage JSON is back.
            layer.pending = {buffer: back, url: null, request: url, bounds: view.bounds, opacity: opacity};
            fetch(url, {credentials: "same-origin"}).then((r) => r.json()).then((body) => {
                if (seq !== layer.seq) { return; }
                const message = errorMessage(body);
                if (message) {
                    if (AUTH_CODES.includes(body.error.code)) {
                        refused(layer, url, body.error.code, message);
                    } else {
                        fire(layer, "requesterror", {url: url, message: message, code: body.error.code});
                    }
                    fire(layer, "requestend", {url: url});
                    fail(layer, seq, message);
                    return;
                }
                fire(layer, "requestsuccess", {url: url});
                fire(layer, "requestend", {url: url});
                if (!body.href) { fail(layer, seq, "The exportImage response has no href."); return; }
                load(layer, back, hrefUrl(template, body.href), url, view.bounds, layer.pending.opacity);
                publish(layer);
            }).catch(() => {
                fire(layer, "requesterror", {url: url, message: "The image service could not be reached."});
                fire(layer, "requestend", {url: url});
                fail(layer, seq, "The image service could not be reached.");
            });
        } else {
            load(layer, back, url, url, view.bounds, opacity);
        }
        publish(layer);
        return [noUpdate, noUpdate, z, z];
    }

    window.imageMapLayer = api;
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.imageMapLayer = {
        request: function (view, template, id) { return request(view, template, id.aio_id); },
        // Clientside callback: the attribution store changed.
        attribute: function (data, id) {
            const layer = stateFor(id.aio_id);
            layer.attribution = (data && data.text) || null;
            applyAttribution(layer, layer.map);
        },
    };
})();
