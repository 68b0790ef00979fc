"""The parameter catalogue: canonical names, units and HJ 212 factor codes.

Codes are HJ 212-2017 Appendix B (Tables B.1 water, B.2 air, B.3 noise) with the HJ/T 212-2005 code
printed there as "old code" (see ../shared/STANDARDS.md §6). Units are the units ecohub stores:
ambient air in µg/m³ except CO in mg/m³ (HJ 633 / GB 3095 convention); flue gas in mg/m³; water in mg/L
(heavy metals too: HJ 212-2017's default µg/L for Hg, Cd, Cr(VI), As, Pb is converted on ingest).
O3 has no code in HJ 212-2017 Table B.2; field air stations send a05024 (HJ 524-2009) — recorded here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    name: str  # canonical name used in files, the API and the command line
    name_zh: str
    name_en: str
    unit: str
    domain: str  # air | water | gas (flue gas) | noise | meteo | process
    hj212_2017: str | None = None
    hj212_2005: str | None = None
    decimals: int = 3


_P = Parameter
PARAMETERS: tuple[Parameter, ...] = (
    # ambient air (HJ 633 / GB 3095 units)
    _P("pm25", "细颗粒物(PM2.5)", "PM2.5", "µg/m³", "air", "a34004", None, 0),
    _P("pm10", "可吸入颗粒物(PM10)", "PM10", "µg/m³", "air", "a34002", None, 0),
    _P("so2", "二氧化硫", "SO2", "µg/m³", "air", "a21026", "02", 0),
    _P("no2", "二氧化氮", "NO2", "µg/m³", "air", "a21004", None, 0),
    _P("co", "一氧化碳", "CO", "mg/m³", "air", "a21005", "04", 1),
    _P("o3", "臭氧(1小时)", "O3 (1-h)", "µg/m³", "air", "a05024", None, 0),
    _P("o3_8h", "臭氧(8小时滑动平均)", "O3 (8-h moving mean)", "µg/m³", "air", None, None, 0),
    _P("pm25_24h", "PM2.5(24小时滑动平均)", "PM2.5 (24-h moving mean)", "µg/m³", "air", None, None, 0),
    _P("pm10_24h", "PM10(24小时滑动平均)", "PM10 (24-h moving mean)", "µg/m³", "air", None, None, 0),
    _P("tsp", "总悬浮颗粒物", "TSP", "µg/m³", "air", "a34001", None, 0),
    _P("pm1", "PM1.0", "PM1.0", "µg/m³", "air", "a34005", None, 0),
    _P("voc", "挥发性有机物", "VOCs", "mg/m³", "air", None, None, 3),
    _P("aqi", "空气质量指数", "AQI", "", "air", None, None, 0),
    # meteorology (ambient)
    _P("temp", "气温", "air temperature", "°C", "meteo", "a01001", None, 1),
    _P("humidity", "相对湿度", "relative humidity", "%", "meteo", "a01002", None, 1),
    _P("pressure", "气压", "air pressure", "kPa", "meteo", "a01006", None, 2),
    _P("wind_speed", "风速", "wind speed", "m/s", "meteo", "a01007", None, 1),
    _P("wind_dir", "风向", "wind direction", "°", "meteo", "a01008", None, 0),
    # flue gas (HJ 212-2017 Table B.2; mg/m³)
    _P("flow_gas", "废气流量", "flue-gas flow", "m³/s", "gas", "a00000", "B02", 2),
    _P("smoke", "烟尘(颗粒物)", "particulate (smoke)", "mg/m³", "gas", "a34013", "01", 2),
    _P("so2_gas", "二氧化硫(废气)", "SO2 (flue gas)", "mg/m³", "gas", "a21026", "02", 2),
    _P("nox", "氮氧化物", "NOx (as NO2)", "mg/m³", "gas", "a21002", "03", 2),
    _P("no", "一氧化氮", "NO", "mg/m³", "gas", "a21003", None, 2),
    _P("co_gas", "一氧化碳(废气)", "CO (flue gas)", "mg/m³", "gas", "a21005", "04", 2),
    _P("o2", "氧含量", "oxygen content", "%", "gas", "a19001", "S01", 2),
    _P("flue_velocity", "烟气流速", "flue-gas velocity", "m/s", "gas", "a01011", "S02", 2),
    _P("flue_temp", "烟气温度", "flue-gas temperature", "°C", "gas", "a01012", "S03", 1),
    _P("flue_pressure", "烟气压力", "flue-gas pressure", "kPa", "gas", "a01013", "S08", 3),
    _P("flue_humidity", "烟气湿度", "flue-gas humidity", "%", "gas", "a01014", "S05", 2),
    _P("nh3_gas", "氨(氨气)", "ammonia", "mg/m³", "gas", "a21001", "10", 3),
    _P("hcl", "氯化氢", "HCl", "mg/m³", "gas", "a21024", "08", 3),
    _P("nmhc", "非甲烷总烃", "non-methane hydrocarbons", "mg/m³", "gas", "a24088", None, 3),
    # water (GB 3838 items; HJ 212-2017 Table B.1; mg/L)
    _P("flow_water", "废水流量", "wastewater flow", "L/s", "water", "w00000", "B01", 3),
    _P("ph", "pH值", "pH", "", "water", "w01001", "001", 2),
    _P("water_temp", "水温", "water temperature", "°C", "water", "w01010", None, 1),
    _P("do", "溶解氧", "dissolved oxygen", "mg/L", "water", "w01009", None, 2),
    _P("conductivity", "电导率", "conductivity", "µS/cm", "water", "w01014", None, 1),
    _P("turbidity", "浊度", "turbidity", "NTU", "water", "w01003", None, 1),
    _P("ss", "悬浮物", "suspended solids", "mg/L", "water", "w01012", "003", 1),
    _P("codmn", "高锰酸盐指数", "permanganate index", "mg/L", "water", "w01019", None, 2),
    _P("cod", "化学需氧量", "COD (CODCr)", "mg/L", "water", "w01018", "011", 1),
    _P("bod5", "五日生化需氧量", "BOD5", "mg/L", "water", "w01017", "010", 1),
    _P("toc", "总有机碳", "TOC", "mg/L", "water", "w01020", "015", 2),
    _P("nh3n", "氨氮", "ammonia nitrogen", "mg/L", "water", "w21003", "060", 3),
    _P("tp", "总磷", "total phosphorus", "mg/L", "water", "w21011", "101", 3),
    _P("tn", "总氮", "total nitrogen", "mg/L", "water", "w21001", "065", 2),
    _P("cu", "铜", "copper", "mg/L", "water", "w20122", "029", 4),
    _P("zn", "锌", "zinc", "mg/L", "water", "w20123", "030", 4),
    _P("f", "氟化物", "fluoride", "mg/L", "water", "w21017", "072", 3),
    _P("se", "硒", "selenium", "mg/L", "water", "w20128", "035", 5),
    _P("as", "砷", "arsenic", "mg/L", "water", "w20119", "026", 5),
    _P("hg", "汞", "mercury", "mg/L", "water", "w20111", "020", 6),
    _P("cd", "镉", "cadmium", "mg/L", "water", "w20115", "022", 5),
    _P("cr6", "六价铬", "chromium (VI)", "mg/L", "water", "w20117", "024", 4),
    _P("pb", "铅", "lead", "mg/L", "water", "w20120", "027", 5),
    _P("cn", "氰化物", "cyanide", "mg/L", "water", "w21016", "070", 4),
    _P("phenol", "挥发酚", "volatile phenol", "mg/L", "water", "w23002", "110", 4),
    _P("oil", "石油类", "petroleum", "mg/L", "water", "w22001", "080", 3),
    _P("las", "阴离子表面活性剂", "anionic surfactant", "mg/L", "water", "w19002", "520", 3),
    _P("sulfide", "硫化物", "sulfide", "mg/L", "water", "w21019", "071", 3),
    _P("fecal_coliform", "粪大肠菌群", "fecal coliform", "count/L", "water", "w02003", "550", 0),
    _P("chla", "叶绿素a", "chlorophyll-a", "mg/L", "water", None, None, 4),
    _P("algae", "藻密度", "algal density", "cells/L", "water", None, None, 0),
    # noise (HJ 212-2017 Table B.3)
    _P("leq", "等效声级", "Leq", "dB(A)", "noise", "Leq", "B03", 1),
    _P("la", "A声级", "LA", "dB(A)", "noise", "LA", None, 1),
    _P("ld", "昼间等效声级", "Ld (day)", "dB(A)", "noise", "Ld", None, 1),
    _P("ln", "夜间等效声级", "Ln (night)", "dB(A)", "noise", "Ln", None, 1),
    _P("l5", "累积百分声级L5", "L5", "dB(A)", "noise", "L5", None, 1),
    _P("l10", "累积百分声级L10", "L10", "dB(A)", "noise", "L10", None, 1),
    _P("l50", "累积百分声级L50", "L50", "dB(A)", "noise", "L50", None, 1),
    _P("l90", "累积百分声级L90", "L90", "dB(A)", "noise", "L90", None, 1),
    _P("l95", "累积百分声级L95", "L95", "dB(A)", "noise", "L95", None, 1),
    _P("ldn", "昼夜等效声级", "Ldn", "dB(A)", "noise", "Ldn", None, 1),
    _P("lmax", "最大瞬时声级", "LMx", "dB(A)", "noise", "LMx", None, 1),
    _P("lmin", "最小瞬时声级", "LMn", "dB(A)", "noise", "LMn", None, 1),
    # more flue-gas items (HJ 212-2017 Table B.2)
    _P("co2", "二氧化碳", "CO2", "mg/m³", "gas", "a05001", "30", 2),
    _P("ch4", "甲烷", "methane", "mg/m³", "gas", "a05002", None, 3),
    _P("cl2", "氯气", "chlorine", "mg/m³", "gas", "a21022", "11", 3),
    _P("hcn", "氰化氢", "cyanide (gas)", "mg/m³", "gas", "a21017", "07", 3),
    _P("fluoride_gas", "氟化物(废气)", "fluoride (flue gas)", "mg/m³", "gas", "a21018", "06", 3),
    _P("h2s", "硫化氢", "H2S", "mg/m³", "gas", "a21028", "05", 3),
    _P("thc", "总烃", "hydrocarbons", "mg/m³", "gas", "a24087", "25", 3),
    _P("benzene", "苯", "benzene", "mg/m³", "gas", "a25002", None, 3),
    _P("toluene", "甲苯", "toluene", "mg/m³", "gas", "a25003", "17", 3),
    _P("xylene", "二甲苯", "xylene", "mg/m³", "gas", "a25005", "18", 3),
    _P("hg_gas", "汞及其化合物", "Hg and compounds", "mg/m³", "gas", "a20057", "31", 5),
    _P("pb_gas", "铅及其化合物", "Pb and compounds", "mg/m³", "gas", "a20043", "32", 4),
    _P("cd_gas", "镉及其化合物", "Cd and compounds", "mg/m³", "gas", "a20025", "33", 5),
    _P("ringelmann", "林格曼黑度", "Ringelmann blackness", "", "gas", "a01010", "37", 0),
    _P("cooler_temp", "制冷温度", "cooler temperature", "°C", "gas", "a01015", "S06", 1),
    _P("duct_area", "烟道截面积", "duct cross-section", "m²", "gas", "a01016", "S07", 2),
    _P("flue_dynamic_pressure", "烟气动压", "flue-gas dynamic pressure", "kPa", "gas", "a01017", "S04", 3),
    _P("furnace_temp", "炉膛内焚烧平均温度", "furnace mean temperature", "°C", "process", "a01901", None, 1),
    _P("furnace_dcs_temp", "炉膛内DCS温度", "furnace DCS temperature", "°C", "process", "a01902", None, 1),
    # more water items (HJ 212-2017 Table B.1)
    _P("flow_total", "累计流量", "cumulative flow", "m³", "water", "w00001", None, 2),
    _P("colour", "色度", "colour", "degree", "water", "w01002", "002", 0),
    _P("cr", "总铬", "total chromium", "mg/L", "water", "w20116", "023", 4),
    _P("ni", "总镍", "total nickel", "mg/L", "water", "w20121", "028", 4),
    _P("mn", "总锰", "total manganese", "mg/L", "water", "w20124", "031", 4),
    _P("fe", "总铁", "total iron", "mg/L", "water", "w20125", "032", 3),
    _P("kjeldahl_n", "凯氏氮", "Kjeldahl nitrogen", "mg/L", "water", "w21004", "062", 3),
    _P("no2_n", "亚硝酸盐氮", "nitrite nitrogen", "mg/L", "water", "w21006", "063", 3),
    _P("no3_n", "硝酸盐氮", "nitrate nitrogen", "mg/L", "water", "w21007", "064", 3),
    _P("chloride", "氯化物", "chloride", "mg/L", "water", "w21022", "090", 1),
    _P("organic_n", "有机氮", "organic nitrogen", "mg/L", "water", "w99001", "061", 3),
    # radiation
    _P("gamma_dose_rate", "γ辐射空气吸收剂量率", "gamma dose rate", "nGy/h", "radiation", None, None, 1),
)

#: HJ 212 data-area kinds (HJ 212-2017 Table 4) stored beside the primary value, → name suffix of the derived
#: parameter. ``ZsRtd`` (real-time) and ``ZsAvg`` (period) are both the converted (折算) concentration.
STAT_SUFFIX: dict[str, str] = {"ZsRtd": "zs", "ZsAvg": "zs", "Min": "min", "Max": "max", "Cou": "cou"}
_FLOW = ("flow_gas", "flow_water")
_CONCENTRATION_UNITS = ("mg/m³", "mg/L")


def _derived(base: tuple[Parameter, ...]) -> tuple[Parameter, ...]:
    """Derived parameters of every flue-gas / water parameter with an HJ 212 code: ``<name>_zs`` (converted
    reference-O2 concentration), ``<name>_min`` / ``<name>_max`` (period extremes), all in the unit of the
    parameter, and ``<name>_cou`` (cumulative amount over the period: kg for mg/m³ and mg/L concentrations,
    m³ for flows). No HJ 212 code of their own (``BY_CODE`` is unchanged): the gateway maps
    ``<code>-ZsRtd/ZsAvg/Min/Max/Cou`` to them through the base parameter and :data:`STAT_SUFFIX`."""
    out: list[Parameter] = []
    for p in base:
        if p.domain not in ("gas", "water") or not (p.hj212_2017 or p.hj212_2005):
            continue
        out.append(Parameter(f"{p.name}_zs", f"{p.name_zh}(折算)", f"{p.name_en}, converted", p.unit, p.domain,
                             None, None, p.decimals))
        out.append(Parameter(f"{p.name}_min", f"{p.name_zh}(最小值)", f"{p.name_en}, minimum", p.unit, p.domain,
                             None, None, p.decimals))
        out.append(Parameter(f"{p.name}_max", f"{p.name_zh}(最大值)", f"{p.name_en}, maximum", p.unit, p.domain,
                             None, None, p.decimals))
        if p.name in _FLOW:
            out.append(Parameter(f"{p.name}_cou", "累计流量", f"{p.name_en}, cumulative volume", "m³", p.domain,
                                 None, None, 2))
        elif p.unit in _CONCENTRATION_UNITS:
            out.append(Parameter(f"{p.name}_cou", f"{p.name_zh}排放量", f"{p.name_en}, emitted amount", "kg",
                                 p.domain, None, None, max(p.decimals, 3)))
    return tuple(out)


PARAMETERS = PARAMETERS + _derived(PARAMETERS)

BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}
assert len(BY_NAME) == len(PARAMETERS), "parameter names must be unique"
# HJ 212 codes → canonical name. Where one code names the same substance in ambient air and flue gas
# (a21026 SO2, a21005 CO), the ambient name wins here; the ingest layer picks by the site's kind.
BY_CODE: dict[str, Parameter] = {}
for _p in PARAMETERS:
    for _c in (_p.hj212_2017, _p.hj212_2005):
        if _c and _c not in BY_CODE:
            BY_CODE[_c] = _p


def for_site_kind(p: Parameter, kind: str) -> Parameter:
    """The same HJ 212 code names SO2/CO in ambient air (µg/m³, mg/m³) and in flue gas (mg/m³): pick by site kind.

    On a gas outlet an ambient-air parameter with a flue-gas twin (``so2`` → ``so2_gas``, ``co`` → ``co_gas``)
    becomes the twin; everything else is unchanged."""
    if kind == "gas_outlet" and p.domain == "air":
        gas = BY_NAME.get(p.name + "_gas")
        if gas is not None:
            return gas
    return p


def for_hj212(codes: tuple[str | None, ...], kind: str) -> Parameter | None:
    """The catalogue parameter of an HJ 212 factor, by its 2017 code (then the code as sent, e.g. a 2005 code),
    adjusted to the site kind; None when the catalogue does not know the factor."""
    for c in codes:
        if c and c in BY_CODE:
            return for_site_kind(BY_CODE[c], kind)
    return None


class UnknownParameter(ValueError):
    pass


def resolve_for_site(name_or_code: str, kind: str) -> Parameter:
    """THE resolution of a parameter name or HJ 212 code (2017 or 2005) *at a site of kind* ``kind``.

    Every entry point that knows the site (file import, MQTT, HTTP push, the HJ 212 gateway, permit import)
    resolves through this function, so ``a21026`` on a gas outlet is flue-gas SO2 (mg/m³) everywhere and
    ambient SO2 (µg/m³) at an air station. Raises :class:`UnknownParameter`."""
    return for_site_kind(resolve(name_or_code), kind)


def resolve(name_or_code: str) -> Parameter:
    """Find a parameter by canonical name (case-insensitive) or HJ 212 factor code (2017 or 2005)."""
    key = name_or_code.strip()
    p = BY_NAME.get(key.lower()) or BY_CODE.get(key)
    if p is None:
        aliases = {"pm2.5": "pm25", "pm2_5": "pm25", "o3_1h": "o3", "o3-8h": "o3_8h", "nh3-n": "nh3n",
                   "codcr": "cod", "cr(vi)": "cr6"}
        alias = aliases.get(key.lower())
        if alias:
            return BY_NAME[alias]
        raise UnknownParameter(f"parameter: {name_or_code!r} is neither a canonical name nor an HJ 212 code")
    return p
