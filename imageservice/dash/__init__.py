"""The ImageServer layer as a Dash component for any dash-leaflet map.

    from imageservice.dash import ImageMapLayerAIO, register

`ImageMapLayerAIO` goes inside a `dash_leaflet.Map`; `register(app)` adds the callbacks every
layer of that app shares, once. Its JavaScript and CSS ship in this package and Dash serves them
itself to any app that uses the component (see `_js_dist` in `imageservice/__init__.py`).
"""

from imageservice.dash.imagemaplayer import (
    NEW_ERROR,
    ImageMapLayerAIO,
    PopupFunction,
    current_policy,
    edit,
    register,
    server_session,
    with_policy,
)

__all__ = ["NEW_ERROR", "ImageMapLayerAIO", "PopupFunction", "current_policy", "edit", "register", "server_session",
           "with_policy"]
