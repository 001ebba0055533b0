"""The sign-in UI: a "Sign in" button in the top bar and the small panel it opens (layout only).

The panel signs in with a username and password (the server's generateToken) or takes a token
obtained elsewhere; callbacks/auth.py does the work. Every store here lives in the tab's memory
only, so nothing of a sign-in survives a reload.
"""

from __future__ import annotations

from dash import dcc, html

from . import ids

# The sign-in prompt's store: `open` asks for the panel, `code` is the 498/499 that asked,
# `pending` what runs again after a sign-in ("open": the service, "layer": the layer's requests),
# `seen` the time of the last layer authenticationrequired event already answered.
CLOSED_PROMPT = {"open": False, "code": None, "pending": None, "seen": 0}


def auth_panel() -> html.Div:
    """The top bar's sign-in element: the button, the panel under it, and their stores."""
    return html.Div(
        className="auth",
        children=[
            html.Button("Sign in", id=ids.AUTH_BUTTON, className="auth-button", n_clicks=0,
                        title="Sign in to a secured image service"),
            html.Div(
                id=ids.AUTH_PANEL,
                className="auth-panel",
                hidden=True,
                role="dialog",
                **{"aria-label": "Sign in"},
                children=[
                    html.Div(className="auth-head", children=[
                        html.Strong("Sign in to the image service"),
                        html.Button("×", id=ids.AUTH_CLOSE, className="auth-close", n_clicks=0, title="Close"),
                    ]),
                    html.P(id=ids.AUTH_REASON, className="auth-reason", role="status"),
                    html.Div(id=ids.AUTH_SIGNED_IN, className="auth-signed-in", hidden=True, children=[
                        html.Span(id=ids.AUTH_STATUS, className="auth-status"),
                        html.Button("Sign out", id=ids.AUTH_SIGN_OUT, className="auth-secondary", n_clicks=0),
                    ]),
                    html.Label("Username", htmlFor=ids.AUTH_USERNAME, className="auth-label"),
                    dcc.Input(id=ids.AUTH_USERNAME, type="text", className="auth-input", autoComplete="username",
                              spellCheck=False),
                    html.Label("Password", htmlFor=ids.AUTH_PASSWORD, className="auth-label"),
                    dcc.Input(id=ids.AUTH_PASSWORD, type="password", className="auth-input", n_submit=0,
                              autoComplete="current-password"),
                    html.Button("Sign in", id=ids.AUTH_SIGN_IN, className="auth-primary", n_clicks=0),
                    html.Div("or use a token you already have", className="auth-or"),
                    html.Div(className="auth-token-row", children=[
                        dcc.Input(id=ids.AUTH_TOKEN, type="password", className="auth-input", n_submit=0,
                                  placeholder="Token", autoComplete="off", spellCheck=False),
                        html.Button("Use token", id=ids.AUTH_USE_TOKEN, className="auth-secondary", n_clicks=0),
                    ]),
                    html.Div(id=ids.AUTH_ERROR, className="auth-error", role="alert"),
                    html.P("The token is used for this server only. To renew it, the password is kept in this "
                           "tab's memory until you sign out or reload the page; it is never stored.",
                           className="auth-note"),
                ],
            ),
            dcc.Store(id=ids.AUTH_SESSION, storage_type="memory"),
            dcc.Store(id=ids.AUTH_CREDENTIALS, storage_type="memory"),
            dcc.Store(id=ids.AUTH_PROMPT, storage_type="memory", data=CLOSED_PROMPT),
            dcc.Store(id=ids.AUTH_RETRY, storage_type="memory", data=0),
            dcc.Store(id=ids.AUTH_ASKED, storage_type="memory"),
            dcc.Interval(id=ids.AUTH_RENEW, disabled=True),
        ],
    )
