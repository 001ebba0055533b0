"""The one serializer: Python values to the exact strings esri-leaflet puts on the wire.

Every request builder goes through here, so a rule (how a list, a rule object, a float or a date
is written) is decided once. All functions are pure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote

# encodeURIComponent leaves exactly these (plus letters and digits) unescaped.
_URI_COMPONENT_SAFE = "-_.!~*'()"


def js_number(x: float | int) -> str:
    """Format a number like JavaScript's Number-to-String.

    Whole floats lose the ".0", and exponent notation is used only below 1e-6 or from 1e21 up
    (Python's repr switches at 1e-4 and 1e16), so bbox digits match esri-leaflet's.
    """
    if isinstance(x, bool):
        raise TypeError("js_number() takes a number, not a bool")
    if isinstance(x, int):
        return str(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest round-trip digits, as the JS algorithm does.
    _, digit_tuple, exponent = Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exponent + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


def epoch_ms(value: datetime | date) -> int:
    """Epoch milliseconds of a datetime (naive means UTC) or a date (midnight UTC)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return round(value.timestamp() * 1000)


def to_json(value: Any) -> str:
    """Compact JSON the way JSON.stringify writes it (key order kept, JS number format)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number(value) if math.isfinite(value) else "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{to_json(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def serialize_value(value: Any) -> str:
    """One parameter value as esri-leaflet's serializer writes it.

    Lists are comma-joined unless they hold objects (then JSON), objects are compact JSON,
    booleans are "true"/"false", datetimes are epoch ms, and 0 stays "0". None has no wire form:
    callers leave such parameters out.
    """
    if value is None:
        raise TypeError("None has no wire form; leave the parameter out")
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number(value)
    if isinstance(value, (datetime, date)):
        return str(epoch_ms(value))
    if isinstance(value, Mapping):
        return to_json(value)
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, Mapping) for item in value):
            return to_json(value)
        return ",".join(serialize_value(item) for item in value)
    raise TypeError(f"cannot serialize {type(value).__name__} as a request parameter")


def serialize_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Serialize every value, dropping the None ones, keeping the order."""
    return {key: serialize_value(value) for key, value in params.items() if value is not None}


def encode_query(params: Mapping[str, Any], *, xhr: bool) -> str:
    """A query string with encodeURIComponent quoting (spaces as %20, never "+").

    esri-leaflet's XHR serializer also escapes "'" as %27; the f=image URL path does not.
    """
    def component(text: str) -> str:
        quoted = quote(text, safe=_URI_COMPONENT_SAFE)
        return quoted.replace("'", "%27") if xhr else quoted

    return "&".join(
        f"{component(key)}={component(value)}" for key, value in serialize_params(params).items()
    )
