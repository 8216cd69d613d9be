"""Names for the codes greenpark keeps (kinds, methods, statuses, parameters, units), as message
ids of the catalogue: a page shows ``tr(LABEL[code], lang)``, never the code itself."""

from __future__ import annotations

from greenpark.i18n import N_, tr

FACTOR_KIND = {
    "combustion": N_("fuel combustion"), "grid": N_("electricity grid"), "heat": N_("purchased heat"),
    "coal_coefficient": N_("standard-coal coefficients"), "equal_value": N_("equal-value coal rate"),
    "forest_sink": N_("forest carbon sink"), "yearly": N_("yearly"),
}  # fmt: skip
FACTOR_METHOD = {
    "carbon_content": N_("carbon content × oxidation"), "emission_factor": N_("emission factor"),
    "calorific": N_("calorific equivalent"), "equal_value": N_("equal value"), "yearly": N_("yearly"),
}  # fmt: skip
PARAMETER = {
    "grid_factor": N_("grid emission factor"), "ncv": N_("net calorific value"), "oxidation": N_("oxidation rate"),
    "co2_factor": N_("CO₂ emission factor"), "carbon_content": N_("carbon content per unit of heat"),
    "coal_coefficient": N_("standard-coal coefficient"), "equal_value_coefficient": N_("equal-value coefficient"),
    "carbon_fraction": N_("carbon fraction"), "wood_density": N_("basic wood density"),
    "volume_increment": N_("volume increment"), "root_shoot": N_("root-to-shoot ratio"),
    "bef": N_("biomass expansion factor"), "sequestration_rate": N_("sequestration rate"),
    "heat_factor": N_("heat emission factor"), "parameter": N_("parameter"),
}  # fmt: skip
STATUS = {
    "confirmed": N_("confirmed"), "secondary": N_("secondary source"), "unconfirmed": N_("unconfirmed"),
    "assumed": N_("assumed"), "derived": N_("derived"),
}  # fmt: skip
BOUNDARY = {"all": N_("whole society"), "above_scale": N_("above-scale industry")}
#: Sectors of the activity records (``services.carbon.inventory.SECTORS``).
SECTOR = {
    "industry": N_("industry"), "transport": N_("transport"), "commercial": N_("commercial"),
    "residential": N_("residential"),
}  # fmt: skip
#: Units as data files write them → how a reader writes them (Chinese conventions in the catalogue).
UNIT = {
    "t": N_("t"), "10^4 t": N_("10⁴ t"), "m3": N_("m³"), "10^4 m3": N_("10⁴ m³"), "kWh": N_("kWh"),
    "10^4 kWh": N_("10⁴ kWh"), "MWh": N_("MWh"), "GJ": N_("GJ"), "tce": N_("tce"), "kgce": N_("kgce"),
    "tce/10^4 yuan": N_("tce per 10⁴ yuan"), "tCO2/10^4 yuan": N_("t CO₂ per 10⁴ yuan"),
    "tCO2": N_("t CO₂"), "tCO2/MWh": N_("t CO₂/MWh"), "tCO2/TJ": N_("t CO₂/TJ"), "kgCO2/TJ": N_("kg CO₂/TJ"),
    "kgCO2/kWh": N_("kg CO₂/kWh"), "tC/TJ": N_("t C/TJ"), "GJ/t": N_("GJ/t"), "kJ/kg": N_("kJ/kg"),
    "kJ/m3": N_("kJ/m³"), "tce/t": N_("tce/t"), "kgce/kWh": N_("kgce/kWh"), "kgce/kg": N_("kgce/kg"),
    "kgce/m3": N_("kgce/m³"), "tce/10^4 m3": N_("tce per 10⁴ m³"), "tce/10^4 kWh": N_("tce per 10⁴ kWh"),
    "gce/kWh": N_("gce/kWh"), "tCO2/GJ": N_("t CO₂/GJ"), "%": N_("%"), "day": N_("days"), "days": N_("days"),
    "10^4 yuan": N_("10⁴ yuan"), "10^8 yuan": N_("10⁸ yuan"), "m2": N_("m²"), "10^4 m2": N_("10⁴ m²"),
    "mu": N_("mu"), "1/year": N_("per year"),
    "t/m3": N_("t/m³"), "tC/t": N_("t C/t"), "tCO2/ha/yr": N_("t CO₂/ha/yr"), "mg/L": N_("mg/L"), "kg": N_("kg"),
    "L/s": N_("L/s"), "m3/h": N_("m³/h"), "GWh": N_("GWh"), "MW": N_("MW"), "10^4 t CO2": N_("10⁴ t CO₂"),
    "tCO2/yr": N_("t CO₂/yr"), "mg/m3": N_("mg/m³"), "m3/s": N_("m³/s"), "uS/cm": N_("μS/cm"), "°C": N_("°C"), "10^4 tCO2": N_("10⁴ t CO₂"), "yuan": N_("yuan"), "t/d": N_("t/d"), "tce/mu": N_("tce per mu"), "10^4 yuan/mu": N_("10⁴ yuan per mu"), "ha": N_("ha"), "-": N_("–"), "": "", "count": N_("count"),
}  # fmt: skip


def label(table: dict[str, str], code: str | None, lang: str) -> str:
    """The name of ``code`` in ``lang`` (the code itself when the table has none)."""
    if code is None:
        return ""
    msgid = table.get(code)
    return tr(msgid, lang) if msgid else code


def unit(u: str | None, lang: str) -> str:
    """A unit as a reader of ``lang`` writes it (吨标准煤/万元, 万千瓦时 …)."""
    return label(UNIT, u or "", lang)


#: The tables page scripts get (``GP.label(table, code)``, ``GP.unit(u)``), by name.
TABLES = {
    "factor_kind": FACTOR_KIND, "factor_method": FACTOR_METHOD, "parameter": PARAMETER, "status": STATUS,
    "boundary": BOUNDARY, "sector": SECTOR, "unit": UNIT,
}  # fmt: skip


def tables(lang: str) -> dict[str, dict[str, str]]:
    """Every table in ``lang``: code → name (for the page scripts)."""
    return {name: {code: label(t, code, lang) for code in t} for name, t in TABLES.items()}
