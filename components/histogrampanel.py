"""The histogram tab (computeHistograms of the map's view, one line per band): layout only.

The chart, the band toggles and the messages come from callbacks/histogram; the view and
parameter debounce lives in assets/histogram.js.
"""

from __future__ import annotations

from dash import dcc, html

from . import ids

CHART_HEIGHT = 280
# The chart's style with and without a histogram to show.
CHART_SHOWN = {"height": f"{CHART_HEIGHT}px"}
CHART_HIDDEN = {"display": "none"}


def histogram_panel() -> html.Div:
    return html.Div(
        className="inspector-panel histogram-panel",
        children=[
            html.P(className="histogram-intro",
                   children="How the pixel values in the map's view are spread, band by band."),
            html.Div(className="histogram-options", children=[
                dcc.Checklist(id=ids.HISTOGRAM_APPLY_RULE, className="histogram-option",
                              options=[{"label": "Values after the layer's rendering rule", "value": "rule"}],
                              value=[]),
                dcc.Checklist(id=ids.HISTOGRAM_LOG, className="histogram-option",
                              options=[{"label": "Logarithmic pixel counts", "value": "log"}], value=[]),
            ]),
            html.Div(id=ids.HISTOGRAM_STATUS, className="histogram-status", role="status",
                     children="Computing the histogram of the view…"),
            dcc.Loading(
                type="circle",
                delay_show=200,
                overlay_style={"visibility": "visible", "opacity": 0.5},
                target_components={ids.HISTOGRAM_DATA: "data"},
                children=[
                    dcc.Graph(id=ids.HISTOGRAM_GRAPH, className="histogram-graph", style=CHART_HIDDEN,
                              config={"displaylogo": False, "responsive": True,
                                      "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}),
                    dcc.Store(id=ids.HISTOGRAM_DATA),
                ],
            ),
            dcc.Checklist(id=ids.HISTOGRAM_BANDS, className="histogram-bands", options=[], value=[], inline=True),
            dcc.Store(id=ids.HISTOGRAM_REQUEST),
        ],
    )
