/* The page's first view, drawn from the index HTML while Dash's scripts load.
 *
 * The shell before this script has the page's frame (the same classes as the layout, so the same
 * boxes); here the service's first exportImage is asked for, for the view the map will open at:
 * Leaflet's fitBounds of the service's extent on a map of the shell's map box, computed as Leaflet
 * 1.9 computes it (EPSG:3857, zoomSnap 1, a rounded pixel origin), and the bbox and size as the
 * layer's imagemaplayer.js writes them. The layer then asks for the very same URL, which the
 * browser already holds. The shell goes once the layer shows a picture, the user touches the page,
 * its own image fails, or the map is up without the shell's picture; a page opened from a shared
 * link (a query string) restores another view, so it gets no shell.
 *
 * Dash's own scripts (the index page's script tags, inert in the <template> before this script) are
 * fetched and run from here, once the first picture is on screen or after config.scriptsAfterMs at
 * most: fetched alongside, their 5 MB hold up the picture's request on the browser's six
 * connections to the server and its answer on the machine's cores (bench/RESULTS.md, "first image").
 */
(function (config) {
    "use strict";
    const dashScripts = document.currentScript.previousElementSibling; // a <template>
    const shell = dashScripts.previousElementSibling;

    // Dash's scripts in their order, each run before the next is added (as the page would have).
    let dashLoading = false;
    function loadDash() {
        if (dashLoading) { return; }
        dashLoading = true;
        const queue = Array.from(dashScripts.content.querySelectorAll("script"));
        dashScripts.remove();
        (function next() {
            const inert = queue.shift();
            if (!inert) { return; }
            const script = document.createElement("script");
            Array.from(inert.attributes).forEach((a) => script.setAttribute(a.name, a.value));
            script.text = inert.text;
            if (inert.src) { script.onload = script.onerror = next; }
            document.body.appendChild(script);
            if (!inert.src) { next(); }
        }());
    }

    const R = 6378137, MAX_LAT = 85.0511287798, SCALE = 0.5 / (Math.PI * R);
    const project = (lat, lng) => {
        const d = Math.PI / 180, sin = Math.sin(Math.max(Math.min(MAX_LAT, lat), -MAX_LAT) * d);
        return [R * lng * d, R * Math.log((1 + sin) / (1 - sin)) / 2];
    };
    const unproject = (x, y) => {
        const d = 180 / Math.PI;
        return [(2 * Math.atan(Math.exp(y / R)) - (Math.PI / 2)) * d, x * d / R];
    };
    const scale = (zoom) => 256 * Math.pow(2, zoom);
    const toPixel = (lat, lng, zoom) => {
        const p = project(lat, lng), s = scale(zoom);
        return [s * (SCALE * p[0] + 0.5), s * (-SCALE * p[1] + 0.5)];
    };
    const toLatLng = (x, y, zoom) => {
        const s = scale(zoom);
        return unproject((x / s - 0.5) / SCALE, (y / s - 0.5) / -SCALE);
    };

    // Leaflet's Map.fitBounds(bounds) on a new map: its zoom and its pixel origin.
    function fit(bounds, width, height) {
        const south = Math.min(bounds[0][0], bounds[1][0]), north = Math.max(bounds[0][0], bounds[1][0]);
        const west = Math.min(bounds[0][1], bounds[1][1]), east = Math.max(bounds[0][1], bounds[1][1]);
        const nw = toPixel(north, west, 0), se = toPixel(south, east, 0);
        const fitScale = Math.min(width / Math.abs(se[0] - nw[0]), height / Math.abs(se[1] - nw[1]));
        let zoom = Math.log(fitScale * scale(0) / 256) / Math.LN2;
        zoom = Math.max(0, Math.floor(Math.round(zoom / 0.01) * 0.01)); // minZoom 0, no maxZoom
        const sw = toPixel(south, west, zoom), ne = toPixel(north, east, zoom);
        const center = toLatLng((sw[0] + ne[0]) / 2, (sw[1] + ne[1]) / 2, zoom);
        const c = toPixel(center[0], center[1], zoom);
        return {zoom: zoom, origin: [Math.round(c[0] - width / 2), Math.round(c[1] - height / 2)]};
    }

    // imagemaplayer.js's currentView: the bbox (xmin,ymax,xmax,ymin in EPSG:3857) and size.
    function exportUrl(view, width, height) {
        const sw = toLatLng(view.origin[0], view.origin[1] + height, view.zoom);
        const ne = toLatLng(view.origin[0] + width, view.origin[1], view.zoom);
        const swP = project(sw[0], sw[1]), neP = project(ne[0], ne[1]);
        const bbox = [Math.min(swP[0], neP[0]), Math.max(swP[1], neP[1]),
                      Math.max(swP[0], neP[0]), Math.min(swP[1], neP[1])].join(",");
        return config.url.replace("{bbox}", encodeURIComponent(bbox))
                         .replace("{size}", encodeURIComponent(width + "," + height));
    }

    // The shell's picture, and when the shell goes.
    function draw() {
        if (window.location.search) { shell.remove(); loadDash(); return; }

        const box = shell.querySelector(".map");
        const width = box.clientWidth, height = box.clientHeight;
        if (!width || !height) { shell.remove(); loadDash(); return; }
        const img = document.createElement("img");
        if (config.crossOrigin) { img.crossOrigin = config.crossOrigin; }
        img.alt = "";
        img.style.opacity = config.opacity;
        img.width = width;
        img.height = height;
        img.src = exportUrl(fit(config.bounds, width, height), width, height);
        box.appendChild(img);

        const EVENTS = ["load", "pointerdown", "wheel", "keydown", "touchstart"];
        let mapWatch = null;
        const done = () => {
            if (!shell.isConnected) { return; }
            shell.remove();
            clearInterval(mapWatch);
            EVENTS.forEach((type) => document.removeEventListener(type, onEvent, true));
        };
        // The layer's picture (an exportImage inside the Leaflet map) is on screen by the next frame.
        function onEvent(event) {
            if (event.type !== "load") { done(); return; }
            const target = event.target;
            if (target.tagName === "IMG" && target.closest(".leaflet-container") && target.src.includes("/exportImage")) {
                requestAnimationFrame(done);
            }
        }
        // Captured on the document: load events do not reach the window.
        EVENTS.forEach((type) => document.addEventListener(type, onEvent, true));
        img.addEventListener("error", () => { done(); loadDash(); });
        // The picture is painted in the frame after its load; Dash's scripts start after that.
        img.addEventListener("load", () => requestAnimationFrame(() => setTimeout(loadDash, 0)));
        setTimeout(loadDash, config.scriptsAfterMs);
        // Once the map is up, a shell without its picture yet only hides the page and its loading aids,
        // and one with it waits a little for the layer to show the same picture.
        mapWatch = setInterval(() => {
            if (!document.querySelector(".leaflet-container")) { return; }
            clearInterval(mapWatch);
            if (img.complete && img.naturalWidth > 0) { setTimeout(done, config.holdMs); } else { done(); }
        }, 50);
        // If Dash never draws the page (a script error), the shell does not hide what it shows.
        setTimeout(done, config.timeoutMs);
    }

    try {
        draw();
    } catch (error) {
        // Whatever went wrong here, the page itself still comes up.
        shell.remove();
        loadDash();
        throw error;
    }
}(__CONFIG__));
