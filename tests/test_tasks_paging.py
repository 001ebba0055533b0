"""Query paging: resultOffset moves by what each page held while the server says
exceededTransferLimit, and always ends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imageservice.layer import ImageMapLayer
from imageservice.tasks import Query

URL = "http://127.0.0.1:9/arcgis/rest/services/Sample/ImageServer"


def page(ids: list[int], exceeded: bool) -> dict:
    return {"objectIdFieldName": "OBJECTID", "features": [{"attributes": {"OBJECTID": i}} for i in ids],
            "exceededTransferLimit": exceeded}


class PagingClient:
    """A catalog of `total` items served `cap` at a time (fewer than asked, as real servers do)."""

    def __init__(self, total: int, cap: int, honours_offset: bool = True) -> None:
        self.total, self.cap, self.honours_offset = total, cap, honours_offset
        self.offsets: list[str] = []

    def query(self, params: Mapping[str, Any]) -> dict:
        self.offsets.append(params["resultOffset"])
        start = int(params["resultOffset"]) if self.honours_offset else 0
        end = min(start + self.cap, self.total)
        return page(list(range(start, end)), end < self.total)


def query(client: PagingClient) -> Query:
    return ImageMapLayer(URL, client=client).query()


def ids(featureset: dict) -> list[int]:
    return [f["attributes"]["OBJECTID"] for f in featureset["features"]]


def test_run_all_pages_by_result_offset_until_the_limit_is_not_exceeded() -> None:
    client = PagingClient(total=7, cap=3)
    merged = query(client).limit(5).run_all()
    assert (ids(merged), merged["exceededTransferLimit"]) == (list(range(7)), False)
    assert client.offsets == ["0", "3", "6"]


def test_pages_start_at_the_query_offset_and_stop_at_max_pages() -> None:
    client = PagingClient(total=100, cap=10)
    merged = query(client).offset(20).run_all(max_pages=2)
    assert (ids(merged), merged["exceededTransferLimit"]) == (list(range(20, 40)), True)
    assert client.offsets == ["20", "30"]


def test_a_server_that_ignores_result_offset_ends_the_paging() -> None:
    client = PagingClient(total=100, cap=10, honours_offset=False)
    pages = list(query(client).pages())
    assert [ids(p) for p in pages] == [list(range(10))]
    assert client.offsets == ["0", "10"]
