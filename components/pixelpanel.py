"""The pixel inspector tab (identify on map click, spectral and temporal profiles): layout only.

Contents come from callbacks/pixel; the look from assets/pixel.css.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_leaflet as dl
from dash import dcc, html

from . import ids

# AG Grid value formatters (evaluated in the browser): numbers with up to 6 significant digits.
NUMBER_FORMAT = {"function": "params.value == null ? 'NoData' : d3.format('.6~r')(params.value)"}
PERCENT_FORMAT = {"function": "params.value == null ? '' : d3.format('.0%')(params.value)"}
# What the scenes table's "On map" column (identify's catalogItemVisibilities) means.
VISIBLE_NOTE = ("On map: how much of what the map shows at this point comes from the scene; 100 % is "
                "the scene on top of the mosaic, 0 % a scene hidden under another.")
VALUE_COLUMNS = [
    {"field": "band", "headerName": "Band", "flex": 1},
    {"field": "value", "headerName": "Value", "flex": 1, "type": "rightAligned", "valueFormatter": NUMBER_FORMAT},
]
GRID_OPTIONS = {
    "animateRows": False,
    "rowHeight": 28,
    "headerHeight": 30,
    "theme": {"function": "themeQuartz.withParams({fontSize: 12, spacing: 5})"},
}
# No mode bar: drag zooms, a double-click resets, and the CSV buttons export. Responsive with a
# fixed height: a chart may be drawn while its section is still hidden, and follows it when shown.
GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}
GRAPH_STYLE = {"height": "230px", "width": "100%"}


def _section(title: str, download_id: str | None, *children, **kwargs) -> html.Section:
    """A titled block; `download_id` adds a CSV button to its heading."""
    heading = [html.H3(title)]
    if download_id:
        heading.append(html.Button("CSV", id=download_id, className="pixel-csv", title=f"Download {title.lower()} as CSV"))
    return html.Section(className=kwargs.pop("className", "pixel-section"),
                        children=[html.Div(className="pixel-section-head", children=heading), *children], **kwargs)


def pixel_panel() -> html.Div:
    return html.Div(
        className="inspector-panel pixel-panel",
        children=[
            dcc.Checklist(
                id=ids.PIXEL_APPLY_RULE,
                className="pixel-apply-rule",
                options=[{"label": html.Span("Apply rendering rule", title=(
                    "Off: the raw pixel values. On: the values after the layer's rendering rule.")),
                    "value": "apply"}],
                value=[],
            ),
            dcc.Loading(
                type="circle",
                delay_show=250,
                overlay_style={"visibility": "visible", "opacity": 0.5},
                children=[
                    html.Div(id=ids.PIXEL_STATUS, className="pixel-status", role="status",
                             children="Click the map to inspect a pixel: its band values, the scenes under it and its profiles."),
                    html.Div(id=ids.PIXEL_COORDINATES, className="pixel-coordinates"),
                    html.Div(id=ids.PIXEL_RESULTS, hidden=True, className="pixel-results", children=[
                        _section(
                            "Band values", ids.PIXEL_DOWNLOAD_PIXEL,
                            dag.AgGrid(id=ids.PIXEL_GRID, className="pixel-grid", rowData=[], columnDefs=VALUE_COLUMNS,
                                       dashGridOptions={**GRID_OPTIONS, "domLayout": "autoHeight"},
                                       style={"width": "100%"}),
                            html.Div(id=ids.PIXEL_NDVI, className="pixel-ndvi"),
                        ),
                        _section("Spectral profile", None, html.Div(id=ids.PIXEL_SPECTRAL_BOX)),
                        _section(
                            "Scenes under the pixel", ids.PIXEL_DOWNLOAD_CATALOG,
                            dag.AgGrid(id=ids.PIXEL_CATALOG_GRID, className="pixel-catalog-grid", rowData=[],
                                       columnDefs=[], defaultColDef={"sortable": True, "resizable": True, "minWidth": 70},
                                       columnSize="autoSize",
                                       rowClassRules={"pixel-top-scene": "params.data.visibility > 0"},
                                       dashGridOptions={**GRID_OPTIONS,
                                                        "localeText": {"noRowsToShow": "No scene of the catalog here"}},
                                       style={"height": "220px", "width": "100%"}),
                            html.P(VISIBLE_NOTE, className="pixel-note"),
                        ),
                    ]),
                ],
            ),
            _section(
                "Temporal profile", ids.PIXEL_DOWNLOAD_TEMPORAL,
                html.Div(className="temporal-actions", children=[
                    dcc.Dropdown(id=ids.TEMPORAL_INDEX, className="temporal-index", clearable=False, searchable=False,
                                 placeholder="Band or index"),
                    html.Button("Run again", id=ids.TEMPORAL_RUN, className="pixel-button",
                                title="Read every scene's value at the clicked point again"),
                    html.Button("Cancel", id=ids.TEMPORAL_CANCEL, className="pixel-button", disabled=True),
                ]),
                html.Div(className="temporal-progress-row", children=[
                    html.Span(className="temporal-spinner"),
                    html.Span(id=ids.TEMPORAL_PROGRESS, className="temporal-progress"),
                ]),
                html.Div(id=ids.TEMPORAL_STATUS, className="temporal-status", role="status"),
                html.Div(id=ids.TEMPORAL_CHART_BOX),
                id=ids.TEMPORAL_SECTION,
                className="pixel-section temporal",
                hidden=True,
            ),
            dcc.Download(id=ids.PIXEL_DOWNLOAD),
            dcc.Store(id=ids.PIXEL_SERVICE),
            dcc.Store(id=ids.PIXEL_POINT),
            dcc.Store(id=ids.PIXEL_CLICK),
            dcc.Store(id=ids.TEMPORAL_SERIES),
        ],
    )


def chart(chart_id: str, figure: object, height: str = GRAPH_STYLE["height"]) -> dcc.Graph:
    """A profile chart. The callbacks create it with its first figure (its box is empty until
    then): a dcc.Graph on the page loads plotly.js (4.8 MB) even when hidden, which held up the
    map's first image."""
    return dcc.Graph(id=chart_id, className="pixel-chart", figure=figure, config=GRAPH_CONFIG,
                     style={**GRAPH_STYLE, "height": height})


def coordinates_view(lat: float, lng: float, location: dict | None) -> list:
    """The clicked lat/lng (with a copy button) and the point in the service's coordinates."""
    latlng = f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, {abs(lng):.5f}° {'E' if lng >= 0 else 'W'}"
    rows = [html.Div(className="pixel-coordinate", children=[
        html.Span("Lat/lng", className="pixel-coordinate-label"),
        html.Span(latlng, className="pixel-coordinate-value"),
        dcc.Clipboard(content=f"{lat:.6f}, {lng:.6f}", title="Copy lat, lng", className="pixel-copy"),
    ])]
    if location:
        digits = 6 if location["wkid"] == 4326 else 2
        xy = f"{location['x']:,.{digits}f}, {location['y']:,.{digits}f}"
        rows.append(html.Div(className="pixel-coordinate", children=[
            html.Span("Service x/y", className="pixel-coordinate-label"),
            html.Span(xy, className="pixel-coordinate-value"),
            html.Span(f"WKID {location['wkid']}" if location["wkid"] else "", className="pixel-coordinate-note"),
        ]))
    return rows


def pixel_marker(lat: float, lng: float) -> dl.CircleMarker:
    """The clicked point on the map."""
    return dl.CircleMarker(center=[lat, lng], radius=7, color="#ffffff", weight=2, fillColor="#d6336c",
                           fillOpacity=0.95, interactive=False)


def pixel_map_layers() -> list:
    """The marker of the inspected pixel (filled by callbacks/pixel)."""
    return [dl.LayerGroup(id=ids.PIXEL_MARKER, children=[])]
