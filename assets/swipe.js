/*
 * Swipe comparison, browser half (components/swipe.py, callbacks/swipe.py).
 *
 * The compare layer draws in its own map pane; this file puts a divider over the map and clips
 * that pane to the left of it. A pane lives in layer coordinates (it moves with the map while
 * panning), so the clip rectangle is the map's visible area in layer points, cut at the divider,
 * and it is recomputed on every move, zoom and resize as well as when the divider is dragged.
 * Dragging the divider must not pan the map: its pointer and mouse events stop at the divider.
 */
(function () {
    "use strict";
    if (window.swipeCompare) { return; }

    const PANE = "swipe";
    const MAIN_PANE = "mainimage"; // the main layer's, clipped right of the divider
    const KEY_STEP = 0.02; // an arrow key moves the divider by this share of the map's width
    const swipe = {
        map: null,
        parts: null,
        position: 0.5, // the divider's place as a share of the map's width, kept across resizes
        state: {enabled: false, left: "", right: ""},
        dragging: null, // the pointer id while the divider is dragged
    };

    function create(tag, className, parent) {
        const element = document.createElement(tag);
        element.className = className;
        if (parent) { parent.appendChild(element); }
        return element;
    }

    function build(map) {
        const divider = create("div", "swipe-divider", map.getContainer());
        const parts = {
            divider: divider,
            left: create("div", "swipe-side-label swipe-side-label--left", divider),
            right: create("div", "swipe-side-label swipe-side-label--right", divider),
            handle: create("div", "swipe-handle", divider),
        };
        parts.handle.tabIndex = 0;
        parts.handle.setAttribute("role", "slider");
        parts.handle.setAttribute("aria-label", "Swipe divider: left side versus right side");
        parts.handle.setAttribute("aria-valuemin", "0");
        parts.handle.setAttribute("aria-valuemax", "100");
        // Leaflet starts a pan on mousedown/touchstart and zooms on dblclick and wheel: none of
        // them may reach the map from the divider.
        L.DomEvent.disableClickPropagation(divider);
        L.DomEvent.disableScrollPropagation(divider);
        divider.addEventListener("pointerdown", startDrag);
        divider.addEventListener("pointermove", drag);
        divider.addEventListener("pointerup", endDrag);
        divider.addEventListener("pointercancel", endDrag);
        parts.handle.addEventListener("keydown", onKey);
        return parts;
    }

    function startDrag(event) {
        event.preventDefault(); // no text selection, no compatibility mousedown
        event.stopPropagation();
        swipe.dragging = event.pointerId;
        swipe.parts.divider.setPointerCapture(event.pointerId);
        swipe.parts.divider.classList.add("swipe-divider--dragging");
        swipe.parts.handle.focus({preventScroll: true});
    }

    function drag(event) {
        if (swipe.dragging !== event.pointerId) { return; }
        event.stopPropagation();
        const box = swipe.map.getContainer().getBoundingClientRect();
        moveTo((event.clientX - box.left) / box.width);
    }

    function endDrag(event) {
        if (swipe.dragging !== event.pointerId) { return; }
        event.stopPropagation();
        swipe.dragging = null;
        swipe.parts.divider.classList.remove("swipe-divider--dragging");
    }

    function onKey(event) {
        const step = {ArrowLeft: -KEY_STEP, ArrowRight: KEY_STEP}[event.key];
        if (step === undefined) { return; }
        event.preventDefault();
        event.stopPropagation(); // the map's keyboard handler would pan
        moveTo(swipe.position + step);
    }

    function moveTo(share) {
        swipe.position = Math.min(1, Math.max(0, share));
        update();
    }

    // Place the divider and clip the compare pane to its left, in the pane's layer coordinates.
    function update() {
        const map = swipe.map;
        if (!map || !swipe.parts) { return; }
        const pane = map.getPane(PANE), main = map.getPane(MAIN_PANE);
        const parts = swipe.parts;
        parts.divider.hidden = !swipe.state.enabled;
        parts.left.textContent = swipe.state.left || "";
        parts.right.textContent = swipe.state.right || "";
        if (!pane) { return; }
        if (!swipe.state.enabled) {
            pane.style.clip = "";
            if (main) { main.style.clip = ""; }
            return;
        }
        const size = map.getSize();
        const x = Math.round(size.x * swipe.position);
        const topLeft = map.containerPointToLayerPoint([0, 0]);
        const bottomRight = map.containerPointToLayerPoint(size);
        const rect = (top, right, bottom, left) => "rect(" + [top, right, bottom, left].join("px, ") + "px)";
        pane.style.clip = rect(topLeft.y, topLeft.x + x, bottomRight.y, topLeft.x);
        // The left side is the compare layer's alone: where it has no data, the basemap shows.
        if (main) { main.style.clip = rect(topLeft.y, bottomRight.x, bottomRight.y, topLeft.x + x); }
        parts.divider.style.left = x + "px";
        parts.handle.setAttribute("aria-valuenow", String(Math.round(swipe.position * 100)));
    }

    window.swipeCompare = {
        // `add` handler of the hook layer (components/swipe.py): the map is known from here on.
        attach: function (event, ctx) {
            const map = ctx.map;
            if (swipe.map === map) { update(); return; }
            if (swipe.parts) { swipe.parts.divider.remove(); }
            swipe.map = map;
            swipe.parts = build(map);
            map.on("move zoom resize viewreset", update);
            update();
        },

        // Clientside callback on SWIPE_STATE: {enabled, left, right}.
        configure: function (state) {
            swipe.state = state || {enabled: false, left: "", right: ""};
            update();
        },

        // Which side of the divider a map point is on: "left", "right", or null without swipe.
        sideOf: function (lat, lng) {
            if (!swipe.map || !swipe.state.enabled) { return null; }
            const x = swipe.map.latLngToContainerPoint([lat, lng]).x;
            return x < swipe.map.getSize().x * swipe.position ? "left" : "right";
        },

        // The divider's place in map container pixels (for tests and other clientside code).
        position: function () {
            return swipe.map ? Math.round(swipe.map.getSize().x * swipe.position) : null;
        },
    };

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.swipe = {
        // A main-layer click with the side it fell on, for the pixel inspector.
        withSide: function (click) {
            if (!click) { return window.dash_clientside.no_update; }
            return Object.assign({}, click, {side: window.swipeCompare.sideOf(click.lat, click.lng)});
        },
    };
})();
