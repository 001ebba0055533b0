"""What one request may cost the embedded server, checked before the work that costs it.

These limits bound what parsing a request may cost: JSON nesting and geometry size.
"""

from __future__ import annotations

MAX_JSON_DEPTH = 100                     # nesting of JSON parameters (a 32-function rule needs ~66)
MAX_GEOMETRY_VERTICES = 10_000           # vertices of a geometry parameter
