"""Code tables of HJ 212: system codes (ST), command codes (CN), data flags, answer codes and the
pollutant (factor) codes of HJ 212-2017 Appendix B with their HJ/T 212-2005 equivalents, units and
the ecohub canonical parameter names.

Sources: HJ 212-2017 Tables 5–9 and Appendix B (read), HJ/T 212-2005 and HJ 212-2025 lists from
public implementations (marked UNCONFIRMED below); see ``docs/hj212.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SYSTEM_CODES",
    "COMMAND_CODES",
    "DATA_CNS",
    "INTERVAL_BY_CN",
    "DATA_FLAGS_2017",
    "DATA_FLAGS_2005",
    "QN_RTN",
    "EXE_RTN",
    "Factor",
    "FACTORS",
    "OLD_CODES",
    "PARAMETERS",
    "ENCRYPTED_CNS_2025",
    "factor",
    "code_2017",
    "parameter_for",
    "st_name",
    "cn_name",
    "data_flags",
    "is_encrypted_cn",
]

# --- system codes ST (HJ 212-2017 Table 5) -------------------------------------------------------
#: ST → (English name, Chinese name, editions).  44/45 (power, key production conditions) are
#: HJ 212-2025 per implementations (UNCONFIRMED); 80 is a vendor code seen in the field.
SYSTEM_CODES: dict[str, tuple[str, str, str]] = {
    "21": ("surface water quality", "地表水质量监测", "2005 2017 2025"),
    "22": ("ambient air quality", "空气质量监测", "2005 2017 2025"),
    "23": ("acoustic environment quality", "声环境质量监测", "2005 2017 2025"),
    "24": ("groundwater quality", "地下水质量监测", "2017 2025"),
    "25": ("soil quality", "土壤质量监测", "2017 2025"),
    "26": ("seawater quality", "海水质量监测", "2017 2025"),
    "27": ("volatile organic compounds", "挥发性有机物监测", "2017 2025"),
    "31": ("air pollution source", "大气环境污染源", "2005 2017 2025"),
    "32": ("surface-water pollution source", "地表水体环境污染源", "2005 2017 2025"),
    "33": ("groundwater pollution source", "地下水体环境污染源", "2005 2017 2025"),
    "34": ("marine pollution source", "海洋环境污染源", "2005 2017 2025"),
    "35": ("soil pollution source", "土壤环境污染源", "2005 2017 2025"),
    "36": ("noise pollution source", "声环境污染源", "2005 2017 2025"),
    "37": ("vibration pollution source", "振动环境污染源", "2005 2017 2025"),
    "38": ("radioactive pollution source", "放射性环境污染源", "2005 2017 2025"),
    "39": ("construction-site dust source", "工地扬尘污染源", "2017 2025"),
    "41": ("electromagnetic pollution source", "电磁环境污染源", "2005 2017 2025"),
    "44": ("power-use monitoring (UNCONFIRMED, 2025)", "用电监控", "2025"),
    "45": ("key production conditions (UNCONFIRMED, 2025)", "关键生产工况监控", "2025"),
    "51": ("flue-gas emission process monitoring", "烟气排放过程监控", "2017 2025"),
    "52": ("wastewater emission process monitoring", "污水排放过程监控", "2017 2025"),
    "80": ("electricity monitoring (vendor, UNCONFIRMED)", "用电监测", "vendor"),
    "91": ("system interaction", "系统交互", "2005 2017 2025"),
}

# --- command codes CN (HJ 212-2017 Table 9; 2005 and 2025 from implementations) ----------------
COMMAND_CODES: dict[str, tuple[str, str]] = {
    "1000": ("set timeout and retry count", "设置超时时间及重发次数"),
    "1001": ("upload data-logger hardware serial (2025) / set over-limit alarm time (2005)", "上传数采仪硬件序号"),
    "1002": ("set data-logger MN (2025, UNCONFIRMED)", "设置数采仪MN编码"),
    "1011": ("get / upload device time", "提取/上传现场机时间"),
    "1012": ("set device time", "设置现场机时间"),
    "1013": ("device asks for time calibration", "现场机时间校准请求"),
    "1014": ("get / set new SM4 key (2025, UNCONFIRMED)", "现场机获取/上位机下发新密钥"),
    "1021": ("get pollutant alarm limits (2005)", "提取污染物报警门限值"),
    "1022": ("set pollutant alarm limits (2005)", "设置污染物报警门限值"),
    "1031": ("get platform address (2005)", "提取上位机地址"),
    "1032": ("set platform address (2005)", "设置上位机地址"),
    "1041": ("get data reporting time (2005)", "提取数据上报时间"),
    "1042": ("set data reporting time (2005)", "设置数据上报时间"),
    "1061": ("get / upload real-time data interval", "提取/上传实时数据间隔"),
    "1062": ("set real-time data interval", "设置实时数据间隔"),
    "1063": ("get / upload minute-data interval", "提取/上传分钟数据间隔"),
    "1064": ("set minute-data interval", "设置分钟数据间隔"),
    "1072": ("set device password", "设置现场机访问密码"),
    "2011": ("get / upload real-time data", "取/上传污染物实时数据"),
    "2012": ("stop real-time data", "停止察看污染物实时数据"),
    "2013": ("get / upload raw monitoring data (2025, UNCONFIRMED)", "取/上传原始监测数据"),
    "2021": ("get / upload equipment running status", "取/上传设备运行状态数据"),
    "2022": ("stop equipment running status", "停止察看设备运行状态"),
    "2031": ("get / upload daily data", "取/上传污染物日历史数据"),
    "2041": ("get / upload daily equipment running time", "取/上传设备运行时间日历史数据"),
    "2051": ("get / upload minute data", "取/上传污染物分钟数据"),
    "2052": ("get / upload single noise measurement (2025, UNCONFIRMED)", "取/上传噪声单次测量数据"),
    "2061": ("get / upload hourly data", "取/上传污染物小时数据"),
    "2062": ("get / upload automatic standard-check data (UNCONFIRMED)", "取/上传自动标样核查数据"),
    "2071": ("get / upload alarm records (2005)", "取/上传污染物报警记录"),
    "2072": ("upload alarm event (2005)", "上传报警事件"),
    "2081": ("upload data-logger boot time", "上传数采仪开机时间"),
    "2111": ("upload furnace temperature 5-min mean (UNCONFIRMED)", "上传炉膛温度5min均值"),
    "3011": ("zero / span calibration", "零点校准量程校准"),
    "3012": ("immediate sampling", "即时采样"),
    "3013": ("start cleaning / blowback", "启动清洗/反吹"),
    "3014": ("comparison sampling", "比对采样"),
    "3015": ("over-limit sample retention", "超标留样"),
    "3016": ("set sampling period", "设置采样时间周期"),
    "3017": ("get / upload sampling period", "提取/上传采样时间周期"),
    "3018": ("get / upload sample output time", "提取/上传出样时间"),
    "3019": ("get / upload instrument unique id", "提取/上传设备唯一标识"),
    "3020": ("get / upload field-device information", "提取/上传现场机信息"),
    "3021": ("set field-device parameters", "设置现场机参数"),
    "3022": ("immediate sample-retention task (UNCONFIRMED)", "下发即时留样任务"),
    "3024": ("start standard-sample check (UNCONFIRMED)", "启动标样核查"),
    "9011": ("request answer (QnRtn)", "请求应答"),
    "9012": ("execution result (ExeRtn)", "执行结果"),
    "9013": ("notification answer", "通知应答"),
    "9014": ("data answer", "数据应答"),
    "9015": ("heartbeat (2025, UNCONFIRMED)", "心跳包"),
    "9021": ("heartbeat (vendor, UNCONFIRMED)", "心跳(厂商)"),
}

#: Data commands whose CP carries measured values, with the interval of their values.
INTERVAL_BY_CN: dict[str, str] = {"2011": "rt", "2051": "min", "2061": "hour", "2031": "day"}
DATA_CNS = frozenset(INTERVAL_BY_CN) | {"2021", "2041", "2013", "2062", "2111"}

#: HJ 212-2017 data flags [P].  HJ 212-2025: assumed the same (UNCONFIRMED).
DATA_FLAGS_2017: dict[str, str] = {
    "N": "normal",
    "F": "instrument stopped",
    "M": "maintenance",
    "S": "manually set value",
    "D": "instrument fault",
    "C": "calibrating",
    "T": "above measuring upper limit",
    "B": "instrument–logger communication fault",
}
#: HJ/T 212-2005 data flags (implementations only, UNCONFIRMED).
DATA_FLAGS_2005: dict[str, str] = {
    "N": "normal",
    "F": "emission source stopped",
    "M": "maintenance",
    "S": "set value",
    "D": "fault",
    "C": "calibration / check",
    "T": "above measuring upper limit",
    "P": "power failure",
    "0": "air station: calibration data",
    "1": "air station: meteorological parameter",
    "2": "air station: abnormal data",
    "3": "air station: normal data",
}

#: QnRtn (CN 9011) and ExeRtn (CN 9012) answer codes, HJ 212-2017 Tables 6–7.
QN_RTN: dict[int, str] = {
    1: "ready to execute", 2: "request refused", 3: "wrong PW", 4: "wrong MN", 5: "wrong ST",
    6: "wrong Flag", 7: "wrong QN", 8: "wrong CN", 9: "CRC error", 100: "unknown error",
}
EXE_RTN: dict[int, str] = {
    1: "success", 2: "failed, reason unknown", 3: "request conditions wrong", 4: "communication timeout",
    5: "system busy", 6: "system fault", 100: "no data",
}

#: CN whose CP is SM4-encrypted in HJ 212-2025 according to public implementations (UNCONFIRMED):
#: data commands 2000–2999, 1014 (new key) and 3020 (field-device information).
ENCRYPTED_CNS_2025 = frozenset({"1014", "3020"})


def is_encrypted_cn(cn: str) -> bool:
    """True for the CN whose CP HJ 212-2025 encrypts (2000–2999, 1014, 3020 — UNCONFIRMED)."""
    return cn[:1] == "2" or cn in ENCRYPTED_CNS_2025


# --- factor codes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Factor:
    """One pollutant/parameter code of HJ 212-2017 Appendix B (or a field code)."""

    code: str  #: 2017 code, e.g. "w01018"
    name: str  #: English item name
    unit: str  #: default concentration unit of HJ 212-2017 ("" when dimensionless)
    amount_unit: str  #: unit of -Cou (emission / volume amount), "" when none
    old_code: str | None  #: HJ/T 212-2005 code printed in the 2017 table
    parameter: str | None  #: ecohub canonical parameter name


# (code, name, unit, amount unit, 2005 code, parameter)
_F = [
    # water, Table B.1
    ("w00000", "wastewater flow", "L/s", "m3", "B01", "flow"),
    ("w00001", "cumulative flow (field code, UNCONFIRMED)", "m3", "m3", None, "flow_total"),
    ("w01001", "pH", "", "", "001", "ph"),
    ("w01002", "colour", "degree", "", "002", "colour"),
    ("w01003", "turbidity (field code, UNCONFIRMED)", "NTU", "", None, "turbidity"),
    ("w01009", "dissolved oxygen", "mg/L", "", None, "do"),
    ("w01010", "water temperature", "°C", "", None, "water_temp"),
    ("w01012", "suspended solids", "mg/L", "kg", "003", "ss"),
    ("w01014", "conductivity", "µS/cm", "", None, "conductivity"),
    ("w01017", "BOD5", "mg/L", "kg", "010", "bod5"),
    ("w01018", "COD (CODCr)", "mg/L", "kg", "011", "cod"),
    ("w01019", "permanganate index (CODMn)", "mg/L", "kg", None, "codmn"),
    ("w01020", "TOC", "mg/L", "kg", "015", "toc"),
    ("w02003", "fecal coliform", "count/L", "", "550", "fecal_coliform"),
    ("w19002", "anionic surfactant (LAS)", "mg/L", "kg", "520", "las"),
    ("w20111", "total mercury", "µg/L", "g", "020", "hg"),
    ("w20115", "total cadmium", "µg/L", "g", "022", "cd"),
    ("w20116", "total chromium", "mg/L", "kg", "023", "cr"),
    ("w20117", "hexavalent chromium", "µg/L", "g", "024", "cr6"),
    ("w20119", "total arsenic", "µg/L", "g", "026", "as"),
    ("w20120", "total lead", "µg/L", "g", "027", "pb"),
    ("w20121", "total nickel", "mg/L", "kg", "028", "ni"),
    ("w20122", "total copper", "mg/L", "kg", "029", "cu"),
    ("w20123", "total zinc", "mg/L", "kg", "030", "zn"),
    ("w20124", "total manganese", "mg/L", "kg", "031", "mn"),
    ("w20125", "total iron", "mg/L", "kg", "032", "fe"),
    ("w20128", "total selenium", "µg/L", "g", "035", "se"),
    ("w20138", "copper", "mg/L", "kg", None, "cu"),
    ("w20139", "zinc", "mg/L", "kg", None, "zn"),
    ("w20140", "selenium", "mg/L", "kg", None, "se"),
    ("w20141", "arsenic", "mg/L", "kg", None, "as"),
    ("w20142", "mercury", "µg/L", "g", None, "hg"),
    ("w20143", "cadmium", "µg/L", "g", None, "cd"),
    ("w20144", "lead", "mg/L", "kg", None, "pb"),
    ("w21001", "total nitrogen", "mg/L", "kg", "065", "tn"),
    ("w21003", "ammonia nitrogen", "mg/L", "kg", "060", "nh3n"),
    ("w21004", "Kjeldahl nitrogen", "mg/L", "kg", "062", "kjeldahl_n"),
    ("w21006", "nitrite", "mg/L", "kg", "063", "no2_n"),
    ("w21007", "nitrate", "mg/L", "kg", "064", "no3_n"),
    ("w21011", "total phosphorus", "mg/L", "kg", "101", "tp"),
    ("w21016", "cyanide", "mg/L", "kg", "070", "cn"),
    ("w21017", "fluoride", "mg/L", "kg", "072", "f"),
    ("w21019", "sulfide", "mg/L", "kg", "071", "sulfide"),
    ("w21022", "chloride", "mg/L", "kg", "090", "chloride"),
    ("w22001", "petroleum (oils)", "mg/L", "kg", "080", "oil"),
    ("w23002", "volatile phenol", "mg/L", "kg", "110", "phenol"),
    ("w99001", "organic nitrogen", "mg/L", "kg", "061", "organic_n"),
    # air / flue gas, Table B.2 (+ ambient met codes)
    ("a00000", "flue-gas flow", "m3/s", "m3", "B02", "flow"),
    ("a01001", "ambient temperature", "°C", "", None, "temp"),
    ("a01002", "ambient humidity", "%", "", None, "humidity"),
    ("a01006", "atmospheric pressure", "kPa", "", None, "pressure"),
    ("a01007", "wind speed", "m/s", "", None, "wind_speed"),
    ("a01008", "wind direction", "°", "", None, "wind_dir"),
    ("a01010", "Ringelmann blackness", "", "", "37", "ringelmann"),
    ("a01011", "flue-gas velocity", "m/s", "", "S02", "flue_velocity"),
    ("a01012", "flue-gas temperature", "°C", "", "S03", "flue_temp"),
    ("a01013", "flue-gas pressure", "kPa", "", "S08", "flue_pressure"),
    ("a01014", "flue-gas humidity", "%", "", "S05", "flue_humidity"),
    ("a01015", "cooler temperature", "°C", "", "S06", "cooler_temp"),
    ("a01016", "duct cross-section", "m2", "", "S07", "duct_area"),
    ("a01017", "flue-gas dynamic pressure", "kPa", "", "S04", "flue_dynamic_pressure"),
    ("a01901", "incinerator furnace mean temperature", "°C", "", None, "furnace_temp"),
    ("a01902", "incinerator DCS temperature", "°C", "", None, "furnace_dcs_temp"),
    ("a05001", "CO2", "mg/m3", "kg", "30", "co2"),
    ("a05002", "methane (HJ 524 code, UNCONFIRMED)", "mg/m3", "kg", None, "ch4"),
    ("a05024", "O3 (HJ 524 code seen in field packets, UNCONFIRMED)", "µg/m3", "", None, "o3"),
    ("a19001", "oxygen content", "%", "", "S01", "o2"),
    ("a21001", "ammonia", "mg/m3", "kg", "10", "nh3"),
    ("a21002", "NOx", "mg/m3", "kg", "03", "nox"),
    ("a21003", "NO", "mg/m3", "kg", None, "no"),
    ("a21004", "NO2", "mg/m3", "kg", None, "no2"),
    ("a21005", "CO", "mg/m3", "kg", "04", "co"),
    ("a21017", "cyanide", "mg/m3", "kg", "07", "hcn"),
    ("a21018", "fluoride", "mg/m3", "kg", "06", "fluoride_gas"),
    ("a21022", "chlorine", "mg/m3", "kg", "11", "cl2"),
    ("a21024", "HCl", "mg/m3", "kg", "08", "hcl"),
    ("a21026", "SO2", "mg/m3", "kg", "02", "so2"),
    ("a21028", "H2S", "mg/m3", "kg", "05", "h2s"),
    ("a24087", "hydrocarbons (total)", "mg/m3", "kg", "25", "thc"),
    ("a24088", "non-methane hydrocarbons", "mg/m3", "kg", None, "nmhc"),
    ("a25002", "benzene", "mg/m3", "kg", None, "benzene"),
    ("a25003", "toluene", "mg/m3", "kg", "17", "toluene"),
    ("a25005", "xylene", "mg/m3", "kg", "18", "xylene"),
    ("a34001", "TSP", "µg/m3", "g", None, "tsp"),
    ("a34002", "PM10", "µg/m3", "g", None, "pm10"),
    ("a34004", "PM2.5", "µg/m3", "g", None, "pm25"),
    ("a34005", "PM1.0", "µg/m3", "g", None, "pm1"),
    ("a34013", "smoke / particulate", "mg/m3", "kg", "01", "smoke"),
    ("a20057", "Hg and compounds", "mg/m3", "kg", "31", "hg_gas"),
    ("a20043", "Pb and compounds", "mg/m3", "kg", "32", "pb_gas"),
    ("a20025", "Cd and compounds", "mg/m3", "kg", "33", "cd_gas"),
    # noise, Table B.3 (codes are the level names)
    ("LA", "A-weighted sound level", "dB", "", None, "noise_la"),
    ("L5", "percentile level L5", "dB", "", None, "noise_l5"),
    ("L10", "percentile level L10", "dB", "", None, "noise_l10"),
    ("L50", "percentile level L50", "dB", "", None, "noise_l50"),
    ("L90", "percentile level L90", "dB", "", None, "noise_l90"),
    ("L95", "percentile level L95", "dB", "", None, "noise_l95"),
    ("Leq", "equivalent continuous level", "dB", "", "B03", "noise_leq"),
    ("Ldn", "day-night level", "dB", "", None, "noise_ldn"),
    ("Ld", "day level", "dB", "", None, "noise_ld"),
    ("Ln", "night level", "dB", "", None, "noise_ln"),
    ("LMx", "maximum instantaneous level", "dB", "", None, "noise_lmax"),
    ("LMn", "minimum instantaneous level", "dB", "", None, "noise_lmin"),
]

#: 2017 code → :class:`Factor`.
FACTORS: dict[str, Factor] = {row[0]: Factor(*row) for row in _F}
#: HJ/T 212-2005 code → HJ 212-2017 code (from the "old code" column of Appendix B).
OLD_CODES: dict[str, str] = {f.old_code: f.code for f in FACTORS.values() if f.old_code}
#: factor code (2017 or 2005) → ecohub canonical parameter name.
PARAMETERS: dict[str, str] = {f.code: f.parameter for f in FACTORS.values() if f.parameter}
PARAMETERS.update({old: PARAMETERS[new] for old, new in OLD_CODES.items() if new in PARAMETERS})


def code_2017(code: str) -> str:
    """2005 code → its 2017 code (``"011"`` → ``"w01018"``); other codes unchanged."""
    return OLD_CODES.get(code, code)


def factor(code: str) -> Factor | None:
    """The table entry of a 2017 or 2005 factor code, or ``None`` if not in the tables."""
    return FACTORS.get(OLD_CODES.get(code, code))


def parameter_for(code: str) -> str | None:
    """ecohub canonical parameter name of a factor code (2017 or 2005), ``None`` if unknown."""
    return PARAMETERS.get(code)


def st_name(st: str) -> str | None:
    entry = SYSTEM_CODES.get(st)
    return entry[0] if entry else None


def cn_name(cn: str) -> str | None:
    entry = COMMAND_CODES.get(cn)
    return entry[0] if entry else None


def data_flags(version: str) -> dict[str, str]:
    """The data-flag table of an edition (2025 assumed equal to 2017, UNCONFIRMED)."""
    return DATA_FLAGS_2005 if version == "2005" else DATA_FLAGS_2017
