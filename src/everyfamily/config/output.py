"""``output:`` and ``web:``: the output folder and the dashboard."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from everyfamily.config.base import Strict


class OutputSettings(Strict):
    dir: Path | None = Field(None, description="Output folder; --out overrides it.")
    basemap_url: str | None = Field(
        None,
        description="Optional XYZ tile URL template for dashboard maps (closed networks omit it).",
    )
    basemap_path: Path | None = Field(
        None,
        description="Optional offline basemap for the dashboard's maps: a PMTiles or MBTiles "
        "file of raster tiles (PNG, JPEG, WebP) the council provides, served by the dashboard "
        "itself and drawn under the outlines. Default none: no basemap.",
    )


class WebSettings(Strict):
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (10.0.0.5, 10.0.0.0/24) of reverse proxies in front "
        "of the dashboard whose X-Forwarded-For header names the client for the login rate "
        "limit. Default none: the header is ignored (a client could forge it).",
    )

    @model_validator(mode="after")
    def _networks(self) -> WebSettings:
        import ipaddress

        for value in self.trusted_proxies:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or network") from None
        return self
