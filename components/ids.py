"""Every component id of the dashboard, in one leaf module that imports nothing.

Layout and callbacks both import ids from here, so a renamed id cannot drift between them.
"""

MAP = "map"
BASEMAP = "basemap"
BASEMAP_CHOICE = "basemap-choice"
SERVICE_URL = "service-url"
SERVICE_STATUS = "service-status"
MAIN_LAYER = "main"
