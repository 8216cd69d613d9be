"""Versioned reference data shipped with greenpark: carriers, factor sets, the demo park.

Everything here is read from files in this package; nothing is computed. Each factor row keeps
its unit, source table and status (confirmed / secondary / unconfirmed / assumed / derived).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(str(resources.files("greenpark.data")))
FACTOR_DIR = DATA_DIR / "factors"
DEMO_DIR = DATA_DIR / "demo"

FACTOR_STATUSES = ("confirmed", "secondary", "unconfirmed", "assumed", "derived")
FACTOR_PARAMETERS = (
    "coal_coefficient",  # standard-coal coefficient [kgce/unit]
    "equal_value_coefficient",  # electricity 等价值 [kgce/kWh]
    "ncv",  # net calorific value [energy/unit]
    "carbon_content",  # carbon per energy [tC/TJ]
    "oxidation",  # oxidation rate [-]
    "co2_factor",  # CO2 per energy [kgCO2/TJ]
    "grid_factor",  # CO2 per electricity [tCO2/MWh]
    "heat_factor",  # CO2 per heat [tCO2/GJ]
    # forest sinks (the "carrier" column holds the forest type)
    "wood_density",  # basic wood density [t/m3]
    "bef",  # biomass expansion factor [-]
    "root_shoot",  # root-shoot ratio [-]
    "carbon_fraction",  # carbon fraction of dry matter [tC/t]
    "volume_increment",  # net annual stem-volume increment [m3/ha/yr]
    "sequestration_rate",  # screening removals per area [tCO2/ha/yr]
)


@dataclass(frozen=True)
class Carrier:
    """An energy carrier and the physical unit its quantities are recorded in."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    unit: str
    color: str
    note: str = ""


@dataclass(frozen=True)
class FactorRow:
    """One reference value with its unit and provenance."""

    carrier: str
    parameter: str
    value: float
    unit: str
    region: str
    year: int | None
    source_table: str
    status: str
    note: str
    line: int


@dataclass(frozen=True)
class FactorSetSpec:
    """A named, versioned factor set as shipped (metadata plus its own rows)."""

    code: str
    version: str
    kind: str
    title_zh: str
    title_en: str
    document: str
    edition: str
    file: str
    method: str = ""
    effective_from: date | None = None
    effective_to: date | None = None
    inherits: str = ""
    note: str = ""
    rows: tuple[FactorRow, ...] = field(default=())

    @property
    def content_sha256(self) -> str:
        """Hash of the set's metadata and rows: a changed file is a new version."""
        h = hashlib.sha256()
        h.update(repr(self.metadata()).encode())
        for r in self.rows:
            h.update(repr((r.carrier, r.parameter, r.value, r.unit, r.region, r.year)).encode())
        return h.hexdigest()

    def metadata(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "kind": self.kind,
            "method": self.method,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "document": self.document,
            "edition": self.edition,
            "effective_from": self.effective_from,
            "effective_to": self.effective_to,
            "inherits": self.inherits,
            "note": self.note,
        }


class ReferenceDataError(ValueError):
    """A shipped or user-supplied reference file is malformed."""


def load_carriers() -> list[Carrier]:
    """Read the carrier table."""
    path = DATA_DIR / "carriers.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return [Carrier(**row) for row in csv.DictReader(fh)]


def read_factor_rows(path: Path) -> tuple[FactorRow, ...]:
    """Read and validate one factor-set CSV file."""
    rows: list[FactorRow] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for line, raw in enumerate(csv.DictReader(fh), start=2):
            where = f"{path.name}, line {line}"
            if raw["parameter"] not in FACTOR_PARAMETERS:
                raise ReferenceDataError(f"{where}: unknown parameter {raw['parameter']!r}")
            if raw["status"] not in FACTOR_STATUSES:
                raise ReferenceDataError(f"{where}: unknown status {raw['status']!r}")
            try:
                value = float(raw["value"])
            except ValueError:
                raise ReferenceDataError(f"{where}: value {raw['value']!r} is not a number") from None
            if not raw["unit"]:
                raise ReferenceDataError(f"{where}: every factor needs a unit")
            rows.append(
                FactorRow(
                    carrier=raw["carrier"],
                    parameter=raw["parameter"],
                    value=value,
                    unit=raw["unit"],
                    region=raw["region"] or "",
                    year=int(raw["year"]) if raw["year"] else None,
                    source_table=raw["source_table"],
                    status=raw["status"],
                    note=raw["note"] or "",
                    line=line,
                )
            )
    return tuple(rows)


def load_factor_set_specs(directory: Path = FACTOR_DIR) -> list[FactorSetSpec]:
    """Read every factor set listed in ``index.yaml`` of ``directory``."""
    index = yaml.safe_load((directory / "index.yaml").read_text(encoding="utf-8"))
    specs = []
    for meta in index["sets"]:
        specs.append(
            FactorSetSpec(
                code=meta["code"],
                version=str(meta["version"]),
                kind=meta["kind"],
                method=meta.get("method", ""),
                title_zh=meta["title_zh"],
                title_en=meta["title_en"],
                document=meta["document"],
                edition=str(meta["edition"]),
                effective_from=meta.get("effective_from"),
                effective_to=meta.get("effective_to"),
                inherits=meta.get("inherits", ""),
                note=meta.get("note", ""),
                file=meta["file"],
                rows=read_factor_rows(directory / meta["file"]),
            )
        )
    return specs


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a UTF-8 CSV file into a list of dicts."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
