"""Signing in to a secured service: esri-leaflet's authenticationrequired and authenticate() in the
dashboard, with a username/password sign-in (generateToken) renewed before the token expires.

What asks for a sign-in: opening a service whose metadata answers 498/499 (callbacks/service.py),
and the layer's `authenticationrequired` event (an image refused). Both fill the prompt store,
which opens the panel. After a sign-in, what failed runs again: the service is opened again
(metadata, then everything that follows a new service), or the token is written into the layer's
params with `edit(params).authenticate(token)`, which redraws the image and re-runs the pixel
inspector's identify and the catalog's query (they listen to the params).

Where things live (see docs/API.md, "Authentication and the proxy"):
- the session store, in the tab's memory: {token, expires, renew_at (epoch ms or None), username,
  service}; the token is used only for services on the server of `service`;
- the credentials store, in the tab's memory: {username, password}, written in the browser when
  "Sign in" is pressed (the password box is emptied at once) and read by the server only to sign
  in and, once per token lifetime, to renew. No server response carries the password, no
  persistent store or page URL holds it, and the server keeps nothing between requests.
"""

from __future__ import annotations

import re
import time
from typing import Any

import requests
from dash import Dash, Input, Output, State, ctx, no_update

from components import ids
from components.authpanel import CLOSED_PROMPT
from imageservice.dash import ImageMapLayerAIO, current_policy, edit
from imageservice.auth import SignInRefused, Token, server_root, sign_in
from imageservice.errors import ImageServiceError

AUTH_CODE = re.compile(r"\(code (49[89])\)")
RETRY_MS = 30_000  # a renewal that could not reach the server is tried again this often
MAX_TIMER_MS = 6 * 3600 * 1000  # a longer wait is re-armed on the way rather than trusted for days
NO_SERVICE = "Open a service first: the sign-in goes to its server."

# The browser's side: the sign-in button copies the credentials into their store and empties the
# password box; the session's words and the top bar's button follow the session store.
COPY_CREDENTIALS = """function (clicks, submits, username, password) {
    return [{username: username || "", password: password || "", time: Date.now()}, ""];
}"""
SHOW_SESSION = """function (session) {
    if (!session || !session.token) { return ["", true, "Sign in", "auth-button"]; }
    const at = (ms) => new Date(ms).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    const who = session.username ? "Signed in as " + session.username : "Signed in with a token";
    const when = session.renew_at ? " · token renews at " + at(session.renew_at)
        : session.expires ? " · token expires at " + at(session.expires) : "";
    return [who + when, false, session.username || "Signed in", "auth-button signed-in"];
}"""


# --- reading the session and the prompt --------------------------------------------------------------


def token_for(session: dict | None, url: str | None) -> str | None:
    """The session's token when `url` is on the server it was issued for, else None: a token is
    never sent to another server."""
    if not session or not session.get("token") or not url:
        return None
    return session["token"] if server_root(session["service"]) == server_root(url) else None


def auth_code(message: str | None) -> int | None:
    """498 or 499 when an error message ("Token Required (code 499)") is an authentication error."""
    match = AUTH_CODE.search(message or "")
    return int(match[1]) if match else None


def sign_in_status(code: int) -> str:
    """The status line's words for a 498/499."""
    if code == 498:
        return "The token was refused (invalid or expired): sign in again with “Sign in” at the top right."
    return "This service needs a sign-in: use “Sign in” at the top right."


def prompt_reason(prompt: dict | None) -> str:
    """The panel's first line while it asks for a sign-in."""
    if not prompt or not prompt.get("open"):
        return ""
    if prompt.get("code") == 498:
        return "The token was refused (invalid or expired). Sign in again or use another token."
    return "This service needs a sign-in."


def sign_in_target(prompt: dict | None, params: dict | None) -> str | None:
    """The service to sign in for: the one that asked, else the layer's."""
    if prompt and prompt.get("pending") and prompt.get("url"):
        return prompt["url"]
    return (params or {}).get("url")


# --- the session -------------------------------------------------------------------------------------


def new_session(token: Token, service_url: str, username: str | None, now: float) -> dict:
    """The session store's value (times in epoch ms, as the browser counts them)."""
    renew_at = token.renew_at(now) if username else None  # only a password can renew
    return {"token": token.value, "expires": _ms(token.expires), "renew_at": _ms(renew_at),
            "username": username, "service": service_url}


def signed_in(credentials: dict | None, service_url: str | None, now: float) -> tuple[dict | Any, str]:
    """(session, error) for a username/password sign-in at the server of `service_url`."""
    if not credentials:
        return no_update, no_update
    username, password = credentials.get("username", "").strip(), credentials.get("password", "")
    if not service_url:
        return no_update, NO_SERVICE
    if not username or not password:
        return no_update, "Enter a username and a password."
    try:
        token = sign_in(requests.Session(), service_url, username, password, policy=current_policy())
    except ImageServiceError as error:
        return no_update, f"Could not sign in: {error}"
    return new_session(token, service_url, username, now), ""


def token_session(text: str | None, service_url: str | None, now: float) -> tuple[dict | Any, str]:
    """(session, error) for a pasted token; its expiry is unknown, so it is not renewed."""
    token = (text or "").strip()
    if not token:
        return no_update, "Paste a token first."
    if not service_url:
        return no_update, NO_SERVICE
    return new_session(Token(token), service_url, None, now), ""


def renewal_timer(session: dict | None, now: float) -> tuple[int | Any, bool]:
    """The renewal Interval's (interval ms, disabled): one tick when the session's renewal is due."""
    if not session or not session.get("renew_at"):
        return no_update, True
    wait = session["renew_at"] - _ms(now)
    return int(min(max(wait, 1000), MAX_TIMER_MS)), False


def renewed(session: dict | None, credentials: dict | None, now: float) -> dict:
    """A renewal tick: a new token when it is due, else the timer re-armed. A refused password
    stops renewing (the token still works until it expires); an unreachable server is tried
    again every RETRY_MS."""
    if not session or not session.get("renew_at") or not credentials:
        return {"disabled": True}
    if _ms(now) < session["renew_at"]:
        interval, disabled = renewal_timer(session, now)
        return {"interval": interval, "disabled": disabled}
    username = session["username"]
    try:
        token = sign_in(requests.Session(), session["service"], username, credentials.get("password", ""),
                        policy=current_policy())
    except SignInRefused as error:
        return {"error": f"Could not renew the token: {error} Sign in again.", "credentials": None, "disabled": True}
    except ImageServiceError as error:
        return {"error": f"Could not renew the token yet ({error}); trying again shortly.",
                "interval": RETRY_MS, "disabled": False}
    fresh = new_session(token, session["service"], username, now)
    interval, disabled = renewal_timer(fresh, now)
    return {"session": fresh, "error": "", "interval": interval, "disabled": disabled}


def update_session(trigger: str | None, credentials: dict | None, token_text: str | None, session: dict | None,
                   prompt: dict | None, params: dict | None, now: float) -> dict:
    """The session store after a sign-in, a pasted token, a renewal tick or a sign-out, with the
    panel's error line, the fields to empty and the renewal timer."""
    out = {"session": no_update, "error": no_update, "credentials": no_update, "token": no_update,
           "interval": no_update, "disabled": no_update}
    target = sign_in_target(prompt, params)
    if trigger == ids.AUTH_SIGN_OUT:
        return {**out, "session": None, "error": "", "credentials": None, "disabled": True}
    if trigger == ids.AUTH_RENEW:
        return {**out, **renewed(session, credentials, now)}
    if trigger == ids.AUTH_CREDENTIALS:
        fresh, error = signed_in(credentials, target, now)
        if fresh is no_update:
            return {**out, "error": error, "credentials": None if credentials else no_update}
    else:  # the token field
        fresh, error = token_session(token_text, target, now)
        if fresh is no_update:
            return {**out, "error": error}
        out.update(token="", credentials=None)  # a pasted token is not renewed with an older password
    interval, disabled = renewal_timer(fresh, now)
    return {**out, "session": fresh, "error": error, "interval": interval, "disabled": disabled}


# --- what a sign-in (or a refusal) sets off ------------------------------------------------------------


def prompt_for_event(asked: dict | None, prompt: dict | None, params: dict | None) -> dict | Any:
    """A new `authenticationrequired` from the layer (an image answered 498/499) opens the prompt."""
    prompt = prompt or CLOSED_PROMPT
    if not asked or asked["time"] <= prompt.get("seen", 0):
        return no_update
    return {"open": True, "code": asked.get("code") or 499, "pending": "layer",
            "url": (params or {}).get("url"), "seen": asked["time"]}


def apply_session(session: dict | None, params: dict | None, prompt: dict | None, retry: int | None) -> dict:
    """Run again what waited for the sign-in: the service's opening, or the layer (its token in
    the params). Signing out takes the token off the layer."""
    out = {"params": no_update, "retry": no_update, "prompt": no_update}
    prompt = prompt or CLOSED_PROMPT
    token = session.get("token") if session else None
    wanted = token_for(session, params["url"]) if params else None
    if token and prompt.get("pending") == "open":
        out["retry"] = (retry or 0) + 1
    elif params and (session is None or wanted) and params.get("token") != wanted:
        out["params"] = edit(params).authenticate(wanted).params.to_dict()
    if token and (prompt.get("open") or prompt.get("pending")):
        out["prompt"] = {**prompt, "open": False, "pending": None, "url": None}
    return out


def panel_state(triggered: set[str], prompt: dict | None, session: dict | None, hidden: bool | None) -> tuple:
    """(panel hidden, reason line): the button toggles the panel, a prompt opens it, a sign-in
    closes it. `triggered` holds every input that changed: a sign-in and the prompt it leads to
    may arrive in one call, and then the prompt wins."""
    reason = prompt_reason(prompt)
    if ids.AUTH_BUTTON in triggered:
        return not hidden, reason
    if ids.AUTH_CLOSE in triggered:
        return True, reason
    if ids.AUTH_PROMPT in triggered and prompt and prompt.get("open"):
        return False, reason
    if ids.AUTH_SESSION in triggered and session and session.get("token"):
        return True, reason
    return no_update, reason


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def register(app: Dash) -> None:
    params = ImageMapLayerAIO.ids.params(ids.MAIN_LAYER)
    app.clientside_callback(
        COPY_CREDENTIALS,
        Output(ids.AUTH_CREDENTIALS, "data"),
        Output(ids.AUTH_PASSWORD, "value"),
        Input(ids.AUTH_SIGN_IN, "n_clicks"),
        Input(ids.AUTH_PASSWORD, "n_submit"),
        State(ids.AUTH_USERNAME, "value"),
        State(ids.AUTH_PASSWORD, "value"),
        prevent_initial_call=True,
    )
    app.callback(
        output={"session": Output(ids.AUTH_SESSION, "data"), "error": Output(ids.AUTH_ERROR, "children"),
                "credentials": Output(ids.AUTH_CREDENTIALS, "data", allow_duplicate=True),
                "token": Output(ids.AUTH_TOKEN, "value"),
                "interval": Output(ids.AUTH_RENEW, "interval"), "disabled": Output(ids.AUTH_RENEW, "disabled")},
        inputs={"credentials": Input(ids.AUTH_CREDENTIALS, "data"), "_use": Input(ids.AUTH_USE_TOKEN, "n_clicks"),
                "_submit": Input(ids.AUTH_TOKEN, "n_submit"), "_tick": Input(ids.AUTH_RENEW, "n_intervals"),
                "_out": Input(ids.AUTH_SIGN_OUT, "n_clicks"), "token_text": State(ids.AUTH_TOKEN, "value"),
                "session": State(ids.AUTH_SESSION, "data"), "prompt": State(ids.AUTH_PROMPT, "data"),
                "params": State(params, "data")},
        running=[(Output(ids.AUTH_SIGN_IN, "disabled"), True, False),
                 (Output(ids.AUTH_SIGN_IN, "children"), "Signing in…", "Sign in")],
        prevent_initial_call=True,
    )(lambda credentials, _use, _submit, _tick, _out, token_text, session, prompt, params: update_session(
        ctx.triggered_id, credentials, token_text, session, prompt, params, time.time()))
    app.clientside_callback(
        SHOW_SESSION,
        Output(ids.AUTH_STATUS, "children"),
        Output(ids.AUTH_SIGNED_IN, "hidden"),
        Output(ids.AUTH_BUTTON, "children"),
        Output(ids.AUTH_BUTTON, "className"),
        Input(ids.AUTH_SESSION, "data"),
    )
    # The events store changes on every pan: only a new authenticationrequired goes on to the server.
    app.clientside_callback(
        """function (events, seen) {
            const asked = (events || []).filter((e) => e.type === "authenticationrequired").pop();
            return asked && (!seen || asked.time > seen.time) ? asked : window.dash_clientside.no_update;
        }""",
        Output(ids.AUTH_ASKED, "data"),
        Input(ImageMapLayerAIO.ids.events(ids.MAIN_LAYER), "data"),
        State(ids.AUTH_ASKED, "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.AUTH_PROMPT, "data", allow_duplicate=True),
        Input(ids.AUTH_ASKED, "data"),
        State(ids.AUTH_PROMPT, "data"),
        State(params, "data"),
        prevent_initial_call=True,
    )(prompt_for_event)
    app.callback(
        output={"params": Output(params, "data", allow_duplicate=True), "retry": Output(ids.AUTH_RETRY, "data"),
                "prompt": Output(ids.AUTH_PROMPT, "data", allow_duplicate=True)},
        inputs={"session": Input(ids.AUTH_SESSION, "data"), "params": State(params, "data"),
                "prompt": State(ids.AUTH_PROMPT, "data"), "retry": State(ids.AUTH_RETRY, "data")},
        prevent_initial_call=True,
    )(apply_session)
    app.callback(
        Output(ids.AUTH_PANEL, "hidden"),
        Output(ids.AUTH_REASON, "children"),
        Input(ids.AUTH_BUTTON, "n_clicks"),
        Input(ids.AUTH_CLOSE, "n_clicks"),
        Input(ids.AUTH_PROMPT, "data"),
        Input(ids.AUTH_SESSION, "data"),
        State(ids.AUTH_PANEL, "hidden"),
        prevent_initial_call=True,
    )(lambda _open, _close, prompt, session, hidden: panel_state(
        {key.split(".")[0] for key in ctx.triggered_prop_ids}, prompt, session, hidden))
