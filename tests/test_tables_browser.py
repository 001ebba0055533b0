"""The catalog and pixel tables read at a glance: four columns fit, cloud cover with one decimal
and its unit, and the pixel tab's "On map" share explained."""

from __future__ import annotations

import re

import pytest

from components import ids
from pixel_fixtures import CROP_POINT
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_catalog_panel_browser import open_catalog, open_tab
from test_dashboard_controls import TIMEOUT
from test_pixel_browser import click_map, container_point

pytestmark = pytest.mark.browser


def fully_visible_headers(dash_duo, grid_id: str) -> list[str]:
    """The header texts whose whole cell lies inside the grid's visible width, not cut."""
    return dash_duo.driver.execute_script("""
        const grid = document.getElementById(arguments[0]);
        const body = grid.querySelector('.ag-body-viewport').getBoundingClientRect();
        return [...grid.querySelectorAll('.ag-header-cell')].filter(cell => {
            const box = cell.getBoundingClientRect(), text = cell.querySelector('.ag-header-cell-text');
            return text && text.textContent.trim() && box.left >= body.left - 1 && box.right <= body.right + 1
                && text.scrollWidth <= text.clientWidth + 1;
        }).map(cell => cell.querySelector('.ag-header-cell-text').textContent.trim());""", grid_id)


def column_texts(dash_duo, grid_id: str, field: str) -> list[str]:
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(`#${arguments[0]} .ag-cell[col-id='${arguments[1]}']`)]"
        ".map(c => c.textContent.trim())", grid_id, field)


def test_the_catalog_table_shows_four_columns_and_cloud_cover_in_percent(dash_duo, sample_root):
    open_catalog(dash_duo, sample_root)
    dash_duo._wait_for(lambda _: column_texts(dash_duo, ids.CATALOG_GRID, "CloudCover"), timeout=TIMEOUT,
                       msg="no cloud cover shown")
    headers = fully_visible_headers(dash_duo, ids.CATALOG_GRID)
    assert len(headers) >= 4 and {"ID", "Acquisition date", "Cloud cover", "Name"} <= set(headers)
    clouds = column_texts(dash_duo, ids.CATALOG_GRID, "CloudCover")
    assert clouds and all(re.fullmatch(r"\d+\.\d %", text) for text in clouds), clouds


def test_the_pixel_tab_says_what_on_map_means(dash_duo, sample_root):
    open_catalog(dash_duo, sample_root)
    open_tab(dash_duo, "Pixel")
    click_map(dash_duo, container_point(dash_duo, *CROP_POINT))
    dash_duo._wait_for(lambda _: column_texts(dash_duo, ids.PIXEL_CATALOG_GRID, "visibility"), timeout=TIMEOUT,
                       msg="no scenes under the pixel")
    header = dash_duo.find_element(f"#{ids.PIXEL_CATALOG_GRID} .ag-header-cell[col-id='visibility']").text
    assert header == "On map"
    shares = column_texts(dash_duo, ids.PIXEL_CATALOG_GRID, "visibility")
    assert "100%" in shares or "100 %" in shares
    note = dash_duo.find_element(".pixel-note").text
    assert note.startswith("On map:") and "100 %" in note and "0 %" in note
