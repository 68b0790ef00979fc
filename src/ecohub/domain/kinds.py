"""Site kinds and series intervals."""

from __future__ import annotations

from enum import StrEnum


class SiteKind(StrEnum):
    """What a site is. Outlets belong to an enterprise; the others are ambient monitoring points."""

    air_station = "air_station"  # 空气质量监测站
    water_section = "water_section"  # 地表水监测断面
    noise_point = "noise_point"  # 声环境监测点
    soil_point = "soil_point"  # 土壤监测点
    radiation_point = "radiation_point"  # 辐射监测点
    gas_outlet = "gas_outlet"  # 废气排放口
    water_outlet = "water_outlet"  # 废水排放口
    micro_station = "micro_station"  # 微型站 (IoT)

    @property
    def is_outlet(self) -> bool:
        return self in (SiteKind.gas_outlet, SiteKind.water_outlet)


SITE_KIND_ZH = {
    SiteKind.air_station: "空气质量监测站",
    SiteKind.water_section: "地表水监测断面",
    SiteKind.noise_point: "声环境监测点",
    SiteKind.soil_point: "土壤监测点",
    SiteKind.radiation_point: "辐射环境监测点",
    SiteKind.gas_outlet: "废气排放口",
    SiteKind.water_outlet: "废水排放口",
    SiteKind.micro_station: "微型空气监测站",
}


class WaterBody(StrEnum):
    """Water-body type of a surface-water section (register column ``site.water_body``).

    GB 3838-2002 Table 1 gives lakes and reservoirs their own total-phosphorus limits (湖、库); the class of a
    section uses them when its water body is a lake or a reservoir.
    """

    river = "river"  # 河流
    lake = "lake"  # 湖泊
    reservoir = "reservoir"  # 水库

    @property
    def uses_lake_limits(self) -> bool:
        return self in (WaterBody.lake, WaterBody.reservoir)


#: Accepted spellings in registers (Chinese names as CNEMC lists them).
WATER_BODY_ALIASES = {"河流": "river", "河": "river", "湖泊": "lake", "湖": "lake", "水库": "reservoir", "库": "reservoir"}


def parse_water_body(value: str | None) -> WaterBody | None:
    """``river`` / ``lake`` / ``reservoir`` (or 河流/湖泊/水库); blank → None. Raises ValueError otherwise."""
    v = (value or "").strip()
    if not v:
        return None
    return WaterBody(WATER_BODY_ALIASES.get(v, v.lower()))


class Interval(StrEnum):
    """Averaging interval of a series. Minute/hour/day periods are labelled by their start (HJ 212-2017 Table 4)."""

    rt = "rt"  # real-time (实时数据, HJ 212 CN 2011)
    minute = "minute"  # minute data (分钟数据, CN 2051)
    hour = "hour"  # hourly data (小时数据, CN 2061)
    day = "day"  # daily data (日数据, CN 2031)

    @classmethod
    def parse(cls, text: str) -> Interval:
        t = text.strip().lower()
        aliases = {"realtime": "rt", "real-time": "rt", "min": "minute", "h": "hour", "hourly": "hour",
                   "d": "day", "daily": "day"}
        t = aliases.get(t, t)
        try:
            return cls(t)
        except ValueError:
            raise ValueError(f"interval: {text!r} is not one of rt, minute, hour, day") from None
