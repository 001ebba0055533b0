"""The catalog tab (the service's scenes in the view, footprints, scene picking): layout only.

Rows, footprints and messages come from callbacks/catalog; footprint styles and the view
debounce live in assets/catalog.js.
"""

from __future__ import annotations

import dash_ag_grid as dag
import dash_leaflet as dl
from dash import dcc, html

from . import ids

# The cloud slider's top means "any cloud cover" (no filter).
CLOUD_ANY = 100
# Each row carries its scene's object id (as text: AG Grid row ids are strings) under this key,
# whatever the catalog calls that field.
ROW_ID = "_oid"


def catalog_panel() -> html.Div:
    return html.Div(
        className="inspector-panel catalog-panel",
        children=[
            dcc.Checklist(id=ids.CATALOG_SHOW_FOOTPRINTS, className="catalog-show",
                          options=[{"label": "Show footprints on the map", "value": "show"}], value=["show"]),
            html.Div(className="catalog-filter", children=[
                html.Label(id=ids.CATALOG_CLOUD_LABEL, htmlFor=ids.CATALOG_CLOUD, className="catalog-label",
                           children="Cloud cover: any"),
                dcc.Slider(id=ids.CATALOG_CLOUD, min=0, max=CLOUD_ANY, step=1, value=CLOUD_ANY,
                           marks={0: "0 %", 25: "25", 50: "50", 75: "75", CLOUD_ANY: "any"},
                           allow_direct_input=False, className="catalog-cloud"),
            ]),
            html.Div(className="catalog-filter", children=[
                html.Label("Where (SQL on the catalog's fields)", htmlFor=ids.CATALOG_WHERE, className="catalog-label"),
                dcc.Input(id=ids.CATALOG_WHERE, type="text", debounce=True, spellCheck=False,
                          placeholder="e.g. SensorName = 'SynthSat-1' AND Month >= 6",
                          className="control-input catalog-where"),
                html.Div(id=ids.CATALOG_WHERE_ERROR, className="control-error", role="alert"),
            ]),
            html.Div(id=ids.CATALOG_STATUS, className="catalog-status", role="status",
                     children="Looking for scenes in the view…"),
            dcc.Loading(
                type="circle",
                delay_show=250,
                overlay_style={"visibility": "visible", "opacity": 0.5},
                target_components={ids.CATALOG_GRID: "rowData"},
                children=dag.AgGrid(
                    id=ids.CATALOG_GRID,
                    className="catalog-grid",
                    rowData=[],
                    columnDefs=[],
                    getRowId=f"params.data.{ROW_ID}",
                    defaultColDef={"sortable": True, "resizable": True, "minWidth": 48, "wrapHeaderText": True,
                                   "autoHeaderHeight": True},
                    dashGridOptions={
                        "rowSelection": {"mode": "multiRow", "enableClickSelection": True,
                                         "enableSelectionWithoutKeys": True},
                        "selectionColumnDef": {"width": 38, "minWidth": 38, "maxWidth": 38},
                        "localeText": {"noRowsToShow": "No scenes in this view"},
                        "animateRows": False,
                        "rowHeight": 30,
                        "headerHeight": 32,
                        # Narrow cell padding: id, date, cloud cover and name fit the panel.
                        "theme": {"function": "themeQuartz.withParams({fontSize: 12, spacing: 5, "
                                              "cellHorizontalPaddingScale: 0.6})"},
                    },
                    style={"height": "340px", "width": "100%"},
                ),
            ),
            html.Div(className="catalog-selection-row", children=[
                html.Span(id=ids.CATALOG_SELECTION, className="catalog-selection",
                          children="Tick scenes to show only them on the map."),
                html.Button("Clear selection", id=ids.CATALOG_CLEAR, className="catalog-clear", disabled=True),
            ]),
            dcc.Store(id=ids.CATALOG_SERVICE),
            dcc.Store(id=ids.CATALOG_VIEW),
            dcc.Store(id=ids.CATALOG_KEY),
            dcc.Store(id=ids.CATALOG_PRIOR_METHOD),
            dcc.Store(id=ids.CATALOG_FOOTPRINT_DATA),
        ],
    )


def catalog_map_layers() -> list:
    """The footprints of the listed scenes; selected ones are drawn in another colour."""
    return [
        dl.GeoJSON(
            id=ids.CATALOG_FOOTPRINTS,
            data={"type": "FeatureCollection", "features": []},
            style={"variable": "catalogFootprints.style"},
            hoverStyle={"variable": "catalogFootprints.hoverStyle"},
            hideout={"selected": []},
        ),
    ]
