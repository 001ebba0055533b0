/*
 * Browser half of the ImageMapLayerAIO Dash component (imagemaplayer.py beside this file).
 *
 * The server renders the exportImage URL once per parameter change, with {bbox} and {size} left
 * open; here the map view is filled in on every pan, zoom and resize, with no round trip.
 * Two ImageOverlays form a double buffer: the new image loads in the hidden one and is shown only
 * if it is still the newest request and the map still shows the view (bbox and size) it was
 * requested for, as esri-leaflet compares bounds; so the old picture stays in place until then and
 * an image for a view the map has left (mid-drag, or before the throttle's next request) is never shown. Their Leaflet layers are driven from here directly (URL,
 * bounds, opacity), not through Dash props: a move reaches the <img> at once instead of after the
 * renderer and React. Events and the view are mirrored into the layer's dcc.Stores.
 * The layer's attribution (its attribution store) is kept in the map's attribution control.
 */
(function () {
    "use strict";
    if (window.imageMapLayer) { return; } // loaded twice (an app that also copied it into its assets)

    const UPDATE_INTERVAL = 150; // ms, esri-leaflet's ImageMapLayer throttle
    const CLICK_DELAY = 300; // ms, esri-leaflet's popup wait: a double-click (zoom) in it cancels the click
    const MAX_EVENTS = 50;
    // The stores are written once the layer has been idle (picture on screen, or failed) this long,
    // and at the latest this long after the first change: the renderer's work for them (tens of ms
    // of main thread) would otherwise compete with the image's response and paint.
    const MIRROR_IDLE = 200; // ms
    const MIRROR_WAIT = 1000; // ms
    const AUTH_CODES = [498, 499]; // invalid or expired token; token required
    const BLANK = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
    const layers = {}; // keyOf(aio_id) -> per-layer state

    // The key of a layer in `layers`: its aio_id as Dash has it (a string, number or boolean;
    // the Python side turns a dict aio_id into its JSON with sorted keys). stateOf and mapOf also
    // take such a dict, serialised the same way, in any key order.
    function keyOf(aioId) {
        const sorted = (value) => {
            if (Array.isArray(value)) { return value.map(sorted); }
            if (value === null || typeof value !== "object") { return value; }
            return Object.keys(value).sort().reduce((out, key) => { out[key] = sorted(value[key]); return out; }, {});
        };
        const id = (aioId !== null && typeof aioId === "object") ? JSON.stringify(sorted(aioId)) : aioId;
        return JSON.stringify(id);
    }

    function idOf(ctx, subcomponent) {
        const id = typeof ctx.id === "string" ? JSON.parse(ctx.id) : ctx.id;
        return Object.assign({}, id, {subcomponent: subcomponent});
    }

    function bufferOf(ctx) {
        return (typeof ctx.id === "string" ? JSON.parse(ctx.id) : ctx.id).subcomponent;
    }

    function emptyBuffers() {
        return {a: {url: null, request: null, loaded: false}, b: {url: null, request: null, loaded: false}};
    }

    function stateFor(aioId) {
        const key = keyOf(aioId);
        if (!layers[key]) {
            layers[key] = {seq: 0, front: "a", pending: null, shown: null, events: [], loading: false,
                             counts: {loading: 0, load: 0, error: 0}, error: null, ids: null, map: null,
                             // the buffers' Leaflet ImageOverlays; the last template and reported view
                             overlays: {a: null, b: null}, template: null, view: null,
                             // buffers: what each <img> holds, as a set_props of an unchanged url fires no load
                             buffers: emptyBuffers(), report: null, clickTimer: null, listeners: null,
                             // attribution: the text wanted; attributed: the text in the map's control
                             attribution: null, attributed: null,
                             // held: {token} refused with a 498/499; no request is sent until the token changes
                             held: null,
                             // the stores to write (state and events, view), since when, and the timer
                             dirty: false, viewDirty: false, dirtySince: null, mirrorTimer: null};
        }
        return layers[key];
    }

    function existing(aioId) {
        return layers[keyOf(aioId)] || null;
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

    // Set a buffer's image, bounds or opacity on its Leaflet layer (its Dash props keep their
    // initial values; a remount starts afresh, see attach).
    function apply(layer, buffer, props) {
        const overlay = layer.overlays[buffer];
        if (!overlay) { return; }
        if (props.bounds) { overlay.setBounds(L.latLngBounds(props.bounds)); }
        if (props.url !== undefined) {
            const image = overlay.getElement();
            const cors = layer.template ? layer.template.crossOrigin : undefined;
            if (image && cors !== undefined) {
                // useCors: set before the URL, so the request is made the way it asks.
                if (cors === null) { image.removeAttribute("crossorigin"); } else { image.crossOrigin = cors; }
            }
            overlay.setUrl(props.url);
        }
        if (props.opacity !== undefined) { overlay.setOpacity(props.opacity); }
    }

    function snapshot(layer) {
        return {loading: layer.loading, url: layer.shown, error: layer.error,
                counts: Object.assign({}, layer.counts), seq: layer.seq};
    }

    function mirror(layer) {
        clearTimeout(layer.mirrorTimer);
        layer.mirrorTimer = null;
        if (layer.dirty) {
            setProps(layer.ids.state, {data: snapshot(layer)});
            setProps(layer.ids.events, {data: layer.events.slice()});
        }
        if (layer.viewDirty) { setProps(layer.ids.view, {data: layer.view}); }
        layer.dirty = layer.viewDirty = false;
        layer.dirtySince = null;
    }

    // Write the layer's state, events and view into its stores, MIRROR_IDLE after the layer went
    // idle or MIRROR_WAIT after the first change, whichever is sooner. Every event is kept meanwhile.
    function publish(layer) {
        const now = performance.now();
        layer.dirty = true;
        if (layer.dirtySince === null) { layer.dirtySince = now; }
        const latest = layer.dirtySince + MIRROR_WAIT;
        const at = layer.loading ? latest : Math.min(now + MIRROR_IDLE, latest);
        clearTimeout(layer.mirrorTimer);
        layer.mirrorTimer = setTimeout(() => mirror(layer), Math.max(0, at - now));
    }

    function fire(layer, type, detail) {
        layer.events.push(Object.assign({type: type, time: Date.now()}, detail || {}));
        if (layer.events.length > MAX_EVENTS) { layer.events.splice(0, layer.events.length - MAX_EVENTS); }
        // A stale load (a superseded request that still arrived) is not counted as loaded.
        if (type in layer.counts && !(detail && detail.stale)) { layer.counts[type] += 1; }
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

    // The f=json fetches' credentials: cookies cross-origin only with withCredentials, as its images.
    function credentialsOf(template) {
        return template && template.crossOrigin === "use-credentials" ? "include" : "same-origin";
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
            apply(layer, pending.buffer, {url: BLANK});
        }
        layer.loading = false;
        layer.pending = null;
        layer.error = message;
        fire(layer, "error", {message: message});
        setLoadingClass(layer);
        publish(layer);
    }

    // A request the server refused for want of a (valid) token, in esri-leaflet's order:
    // authenticationrequired, then requesterror. Answer with authenticate(token) on the params;
    // until then the layer's requests are held, as esri-leaflet's request queue holds them.
    function refused(layer, url, code, message) {
        layer.held = {token: layer.template.token};
        const detail = requestDetail(layer.template, url);
        fire(layer, "authenticationrequired", {url: detail.url, code: code});
        fire(layer, "requesterror", Object.assign({}, detail, {code: code, message: message}));
    }

    // esri-leaflet's request event payload: the operation's URL, the parameters as the layer built
    // them (before the service adds f=json, the token and the proxy prefix), and the method.
    function requestDetail(template, url) {
        const proxy = template && template.proxy;
        const target = proxy && url.startsWith(proxy + "?") ? url.slice(proxy.length + 1) : url;
        const parsed = new URL(target, window.location.href);
        const params = {};
        parsed.searchParams.forEach((value, key) => {
            if (key !== "f" && key !== "token") { params[key] = value; }
        });
        return {url: parsed.origin + parsed.pathname, params: params, method: "request"};
    }

    // After an <img> error, ask the server what went wrong: ArcGIS sends its error as JSON.
    function explainFailure(layer, seq, url) {
        fetch(url, {credentials: credentialsOf(layer.template)}).then((response) => response.text().then((text) => {
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
    function load(layer, buffer, url, request, view, opacity) {
        layer.pending = {buffer: buffer, url: url, request: request, view: view, bounds: view.bounds, opacity: opacity};
        const held = layer.buffers[buffer];
        if (held.url === url) {
            if (held.loaded) { showIfCurrent(layer, buffer); }
            return;
        }
        layer.buffers[buffer] = {url: url, request: request, loaded: false};
        apply(layer, buffer, {url: url, bounds: view.bounds});
    }

    // Whether the map still shows `view` (same bbox and size): esri-leaflet draws an image only if
    // its bounds equal the map's bounds when it has loaded.
    function stillShows(map, view) {
        const now = currentView(map);
        return now.bbox === view.bbox && now.size === view.size;
    }

    // Swap to the pending image (loaded in `buffer`) if the map has not left its view meanwhile.
    // Otherwise it stays hidden and pending: the move's moveend asks for the new view, or, if the
    // map comes back to this view, request() swaps it in then.
    function showIfCurrent(layer, buffer) {
        if (layer.map && !stillShows(layer.map, layer.pending.view)) {
            fire(layer, "load", {stale: true, url: layer.pending.url});
            publish(layer);
            return;
        }
        swap(layer, buffer);
    }

    // Show the pending image (now loaded in `buffer`) and hide the other buffer.
    function swap(layer, buffer) {
        const pending = layer.pending;
        const other = buffer === "a" ? "b" : "a";
        apply(layer, buffer, {opacity: pending.opacity});
        apply(layer, other, {opacity: 0});
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

    // Follow the map's moves and clicks; the listeners are kept so that detach can remove them.
    function listen(layer, map, aioId) {
        layer.map = map;
        layer.report = throttle(() => {
            if (layer.map !== map) { return; } // a trailing call after the layer left the map
            layer.view = currentView(map);
            layer.viewDirty = true;
            request(layer.view, layer.template, aioId);
            publish(layer);
        }, UPDATE_INTERVAL);
        layer.listeners = {
            moveend: layer.report,
            resize: layer.report,
            click: (e) => clicked(layer, e),
            dblclick: () => clearTimeout(layer.clickTimer),
        };
        map.on(layer.listeners);
    }

    // A buffer left the map (the layer was removed, or remounted): forget it, and when the
    // first buffer goes, stop listening to the map, so a removed layer costs the map nothing.
    // A remount adds the new buffer first only if React runs its effects in that order, so
    // only the buffer still on record is detached.
    function detach(layer, buffer, overlay, map) {
        if (layer.overlays[buffer] !== overlay) { return; }
        layer.overlays[buffer] = null;
        if (buffer !== "a" || layer.map !== map) { return; }
        dropAttribution(layer, map);
        if (layer.listeners) { map.off(layer.listeners); }
        clearTimeout(layer.clickTimer);
        layer.listeners = null;
        layer.map = null;
        layer.view = null;
        layer.loading = false;
        setLoadingClass({map: map});
    }

    const api = {
        // The Leaflet map a layer is drawn on, for other clientside code (and tests).
        mapOf: function (aioId) { const layer = existing(aioId); return layer ? layer.map : null; },

        // What the layer's state store holds, read at once rather than after a Dash round trip.
        stateOf: function (aioId) { const layer = existing(aioId); return layer ? snapshot(layer) : null; },

        // `add` handler of both buffers: keep their Leaflet layers and hook the map's moves to this layer.
        attach: function (event, ctx) {
            const aioId = idOf(ctx, "a").aio_id;
            const buffer = bufferOf(ctx);
            const layer = stateFor(aioId);
            const map = ctx.map;
            layer.ids = {a: idOf(ctx, "a"), b: idOf(ctx, "b"), view: idOf(ctx, "view"),
                         state: idOf(ctx, "state"), events: idOf(ctx, "events"), click: idOf(ctx, "click")};
            layer.overlays[buffer] = event.target;
            if (event.target._url !== layer.buffers[buffer].url) {
                // A new layer under this id (a remount shows its initial blank): start afresh.
                layer.buffers[buffer] = emptyBuffers()[buffer];
                if (layer.front === buffer) { layer.shown = null; }
                if (layer.pending && layer.pending.buffer === buffer) { layer.pending = null; }
            }
            event.target.once("remove", () => detach(layer, buffer, event.target, map));
            if (buffer !== "a") { return; }
            if (layer.map !== map) {
                dropAttribution(layer, layer.map);
                listen(layer, map, aioId);
            }
            applyAttribution(layer, map);
            setTimeout(layer.report, 0); // after the layout has registered the stores
        },

        // `load` handler of both buffers: swap only if this is the newest request.
        loaded: function (event, ctx) {
            const id = idOf(ctx, "a");
            const layer = existing(id.aio_id);
            const buffer = bufferOf(ctx);
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
            showIfCurrent(layer, buffer);
        },

        // `error` handler of both buffers.
        failed: function (event, ctx) {
            const layer = existing(idOf(ctx, "a").aio_id);
            const src = event.target._url;
            if (!layer || !layer.pending || !src || resolved(layer.pending.url) !== resolved(src)) { return; }
            explainFailure(layer, layer.seq, src);
        },
    };

    // A new view (a move) or a new template (new parameters) -> a new request in the hidden buffer.
    function request(view, template, aioId) {
        const layer = stateFor(aioId);
        if (!view || !template || !layer.ids || !layer.overlays.a || !layer.overlays.b) { return; }
        const front = layer.front, back = front === "a" ? "b" : "a";
        const mapCrs = layer.map.options.crs.code;
        const crsError = mapCrs === template.crs ? null :
            "The layer's crs (" + template.crs + ") is not the map's: give ImageMapLayerAIO crs=\"" + mapCrs + "\".";
        const visible = Boolean(template.url) && !crsError &&
            !(template.minZoom !== null && view.zoom < template.minZoom) &&
            !(template.maxZoom !== null && view.zoom > template.maxZoom);
        if (!visible) {
            // Outside minZoom/maxZoom (or invalid parameters, or the wrong crs): no request, and nothing shown.
            const error = template.error || crsError;
            if (layer.seq > 0 && !layer.pending && layer.shown === null && layer.error === error) { return; } // already so
            layer.seq += 1;
            layer.pending = null;
            layer.loading = false;
            layer.shown = null;
            layer.error = error;
            setLoadingClass(layer);
            publish(layer);
            apply(layer, "a", {opacity: 0});
            apply(layer, "b", {opacity: 0});
            return;
        }
        const url = template.url.replace("{bbox}", encodeURIComponent(view.bbox))
                                .replace("{size}", encodeURIComponent(view.size));
        const opacity = template.opacity;
        const held = layer.buffers[front];
        if (url === held.request && held.loaded) {
            // The picture on screen (only the opacity or z-index changed, or the map came back to
            // it before a newer image loaded): no new request.
            if (layer.pending || layer.shown !== held.url || layer.error) {
                // Back to it (e.g. a refused rule cleared): what is on screen is good, so no error.
                layer.seq += 1;
                layer.pending = null;
                layer.loading = false;
                layer.error = null;
                layer.shown = held.url;
                setLoadingClass(layer);
                publish(layer);
            }
            apply(layer, front, {opacity: opacity});
            apply(layer, back, {opacity: 0});
            return;
        }
        if (layer.held && layer.held.token === template.token) {
            // Waiting for a token: each of these requests would be refused too. The newest view
            // is requested when the params bring a new token.
            return;
        }
        layer.held = null;
        const pending = layer.pending;
        if (pending && pending.request === url) {
            // Already on its way (the same view reported twice, or only the opacity changed), or
            // loaded while the map was elsewhere and the map is back at its view: show it now.
            pending.opacity = opacity;
            const buffer = layer.buffers[pending.buffer];
            if (pending.url && buffer.url === pending.url && buffer.loaded) { showIfCurrent(layer, pending.buffer); }
            return;
        }
        layer.seq += 1;
        const seq = layer.seq;
        layer.loading = true;
        layer.error = null;
        // The request events' payload; a pan's f=image request fires none, so it parses no URL.
        const detail = template.f === "json" ? requestDetail(template, url) : null;
        if (detail) {
            // As in esri-leaflet: the request starts, then `loading` fires.
            fire(layer, "requeststart", detail);
        }
        fire(layer, "loading", {bounds: view.bounds});
        setLoadingClass(layer);
        if (template.f === "json") {
            // Pending with no image yet: the href is known once the exportImage JSON is back.
            layer.pending = {buffer: back, url: null, request: url, view: view, bounds: view.bounds, opacity: opacity};
            fetch(url, {credentials: credentialsOf(template)}).then((r) => r.json()).then((body) => {
                if (seq !== layer.seq) { return; }
                const message = errorMessage(body);
                if (message) {
                    if (AUTH_CODES.includes(body.error.code)) {
                        refused(layer, url, body.error.code, message);
                    } else {
                        fire(layer, "requesterror", Object.assign({}, detail, {message: message, code: body.error.code}));
                    }
                    fire(layer, "requestend", detail);
                    fail(layer, seq, message);
                    return;
                }
                fire(layer, "requestsuccess", Object.assign({}, detail, {response: body}));
                fire(layer, "requestend", detail);
                if (!body.href) { fail(layer, seq, "The exportImage response has no href."); return; }
                load(layer, back, hrefUrl(template, body.href), url, view, layer.pending.opacity);
                publish(layer);
            }).catch(() => {
                // esri-leaflet gives a failed request (no answer, or not JSON) the code 500.
                const unreachable = "The image service could not be reached.";
                fire(layer, "requesterror", Object.assign({}, detail, {message: unreachable, code: 500}));
                fire(layer, "requestend", detail);
                fail(layer, seq, unreachable);
            });
        } else {
            load(layer, back, url, url, view, opacity);
        }
        publish(layer);
    }

    window.imageMapLayer = api;
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.imageMapLayer = {
        // Clientside callback: the template store changed (new parameters). Returns the buffers'
        // z-index, which changes only with the template (position, z_index).
        configure: function (template, id) {
            const layer = stateFor(id.aio_id);
            layer.template = template;
            if (layer.map) {
                // The map as it is now, not as last reported: a fitBounds under way (its moveend
                // still to come) would otherwise cost a request for the view it is leaving.
                layer.view = currentView(layer.map);
                layer.viewDirty = true;
            }
            request(layer.view, template, id.aio_id);
            const z = template ? template.zIndex : window.dash_clientside.no_update;
            return [z, z];
        },
        // Clientside callback: the attribution store changed.
        attribute: function (data, id) {
            const layer = stateFor(id.aio_id);
            layer.attribution = (data && data.text) || null;
            applyAttribution(layer, layer.map);
        },
    };
})();
