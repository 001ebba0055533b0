/*
 * The time slider's value reaches the layer only once it has rested SETTLE_MS: each arrow-key
 * step would otherwise send its own image request, superseded by the next at once.
 */
(function () {
    "use strict";
    const SETTLE_MS = 400;
    let latest = 0;

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.timeSlider = {
        settle: function (value) {
            const mine = ++latest;
            return new Promise((resolve) => setTimeout(
                () => resolve(mine === latest ? value : window.dash_clientside.no_update), SETTLE_MS));
        },
    };
})();
