"""Every component id of the dashboard, in one leaf module that imports nothing.

Layout and callbacks both import ids from here, so a renamed id cannot drift between them.
"""

MAP = "map"
BASEMAP = "basemap"
BASEMAP_CHOICE = "basemap-choice"
SERVICE_URL = "service-url"
SERVICE_STATUS = "service-status"
MAIN_LAYER = "main"

# The page URL (?service=...&bandIds=...) and what it asked for at page load.
LOCATION = "location"
URL_QUERY = "url-query"
RESTORED = "restored"
# What the open service offers (ServiceInfo + acquisition dates), for the controls' options.
SERVICE_INFO = "service-info"

# The control panel.
CONTROLS = "controls"
BAND_PRESET = "band-preset"
BAND_R = "band-r"
BAND_G = "band-g"
BAND_B = "band-b"
BANDS_ERROR = "bands-error"
PIXEL_TYPE = "pixel-type"
NO_DATA = "no-data"
NO_DATA_INTERPRETATION = "no-data-interpretation"
NO_DATA_ERROR = "no-data-error"
RENDERING_RULE = "rendering-rule"
CUSTOM_RULE = "custom-rule"
RULE_ERROR = "rule-error"
MOSAIC_METHOD = "mosaic-method"
SORT_FIELD = "sort-field"
SORT_VALUE = "sort-value"
SORT_ASCENDING = "sort-ascending"
MOSAIC_OPERATION = "mosaic-operation"
MOSAIC_ERROR = "mosaic-error"
TIME_RANGE = "time-range"
TIME_LABEL = "time-label"
TIME_PLAY = "time-play"
TIME_TICK = "time-tick"
OPACITY = "opacity"
POSITION = "position"
IMAGE_FORMAT = "image-format"
TIME_ERROR = "time-error"
DISPLAY_ERROR = "display-error"
EVENTS_LOG = "events-log"
LAYER_COUNTS = "layer-counts"

# The inspector beside the map: one tab per tool.
INSPECTOR = "inspector"
INSPECTOR_TABS = "inspector-tabs"

# Pixel inspector (identify on click, profiles).

# Catalog (query footprints, scene picking) and the service info panel.

# Histogram (computeHistograms) and swipe comparison.
