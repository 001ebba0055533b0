"""The service tab (what the service's description says): layout only; the facts come from
callbacks/info."""

from __future__ import annotations

from dash import dcc, html

from . import ids


def info_panel() -> html.Div:
    return html.Div(
        className="inspector-panel info-panel",
        children=dcc.Loading(type="circle", delay_show=250, children=html.Div(
            id=ids.INFO_CONTENT, children=html.P("Open a service to see its description.", className="info-empty"))),
    )


def info_content(url: str, facts: list[tuple[str, str]]) -> list:
    """The service's REST page as a link, then one term and definition per fact."""
    return [
        html.A(url, href=url, target="_blank", rel="noopener noreferrer", className="info-link",
               title="The service's REST page"),
        html.Dl(className="info-facts", children=[
            part for label, value in facts for part in (html.Dt(label), html.Dd(value))
        ]),
    ]


def info_error(message: str) -> html.P:
    return html.P(message, className="info-empty control-error", role="alert")
