"""ORM tables. Column names carry their unit (``energy_tce``, ``value_10k_yuan``, ``area_mu``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Park(Base):
    __tablename__ = "park"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(64), default="")
    grid_region: Mapped[str] = mapped_column(String(64), default="")
    area_km2: Mapped[float | None] = mapped_column(Float)
    accounting_profile_json: Mapped[str] = mapped_column(Text, default="{}")
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    #: Bumped whenever the park's activity or economic records change (cache key of results).
    data_revision: Mapped[int] = mapped_column(Integer, default=0)
    zones: Mapped[list[Zone]] = relationship(back_populates="park", order_by="Zone.id")


class Zone(Base):
    __tablename__ = "zone"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    code: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    area_km2: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    park: Mapped[Park] = relationship(back_populates="zones")


class Enterprise(Base):
    __tablename__ = "enterprise"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), default="")  # 统一社会信用代码
    industry_code: Mapped[str] = mapped_column(String(8), default="")  # GB/T 4754
    land_area_mu: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[str] = mapped_column(String(400), default="")  # comma-separated EnterpriseTag values
    note: Mapped[str] = mapped_column(Text, default="")


class Carrier(Base):
    __tablename__ = "carrier"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32))
    color: Mapped[str] = mapped_column(String(16), default="#888888")
    note: Mapped[str] = mapped_column(Text, default="")


class FactorSet(Base):
    __tablename__ = "factor_set"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32), default="")
    title_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    document: Mapped[str] = mapped_column(Text)
    edition: Mapped[str] = mapped_column(String(32))
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    inherits: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    factors: Mapped[list[Factor]] = relationship(back_populates="factor_set", order_by="Factor.id")


class Factor(Base):
    __tablename__ = "factor"
    id: Mapped[int] = mapped_column(primary_key=True)
    factor_set_id: Mapped[int] = mapped_column(ForeignKey("factor_set.id"), index=True)
    carrier_code: Mapped[str] = mapped_column(String(32))
    parameter: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(32), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    source_table: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    factor_set: Mapped[FactorSet] = relationship(back_populates="factors")


class ImportBatch(Base):
    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer)
    rows_changed: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ActivityRecord(Base):
    """A quantity of a carrier used by an entity in a period (or its tce, if that is all we have).

    ``carrier_code`` NULL means "all carriers" and ``sector`` NULL "all sectors": sources often
    report totals and breakdowns side by side; the inventory picks one layer and checks the rest.
    """

    __tablename__ = "activity_record"
    __table_args__ = (
        Index("ix_activity_scope", "park_id", "year", "zone_id", "enterprise_id"),
        Index("ix_activity_enterprise_year", "enterprise_id", "year"),
        # Covers the inventory's GROUP BY in its own column order, so the database aggregates
        # straight off the index (no sort, no table access).
        Index(
            "ix_activity_rollup",
            "park_id",
            "year",
            "boundary",
            "enterprise_id",
            "zone_id",
            "sector",
            "carrier_code",
            "unit",
            "tce_basis",
            "quantity",
            "energy_tce",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    natural_key: Mapped[str] = mapped_column(String(300), unique=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    sector: Mapped[str | None] = mapped_column(String(32))
    boundary: Mapped[str] = mapped_column(String(32), default="all")
    carrier_code: Mapped[str | None] = mapped_column(ForeignKey("carrier.code"))
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    energy_tce: Mapped[float | None] = mapped_column(Float)
    tce_basis: Mapped[str] = mapped_column(String(16), default="calorific")
    source_ref: Mapped[str] = mapped_column(String(300), default="")
    quality: Mapped[str] = mapped_column(String(16), default="reported")
    note: Mapped[str] = mapped_column(Text, default="")
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class EconomicRecord(Base):
    __tablename__ = "economic_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    natural_key: Mapped[str] = mapped_column(String(300), unique=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    indicator: Mapped[str] = mapped_column(String(64))
    value_10k_yuan: Mapped[float] = mapped_column(Float)
    price_basis: Mapped[str] = mapped_column(String(32), default="current")
    source_ref: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AppUser(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class InventorySnapshot(Base):
    """A saved inventory result and the factor-set versions that produced it (for restatement)."""

    __tablename__ = "inventory_snapshot"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    scope: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    boundary: Mapped[str] = mapped_column(String(32))
    factor_versions_json: Mapped[str] = mapped_column(Text)
    restates_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_snapshot.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    figures: Mapped[list[SnapshotFigure]] = relationship(order_by="SnapshotFigure.id")


class SnapshotFigure(Base):
    __tablename__ = "snapshot_figure"
    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("inventory_snapshot.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))


# Plan data that later capabilities work on (loaded now from the demo data set).


class PlanTable(Base):
    """Rows of plan tables kept as given (indicators 3.3.1, tasks 4.3.1, projects 4.3.2, ...).

    Each row is stored column by column in ``PlanCell`` so nothing is reinterpreted before the
    capability that owns the table models it.
    """

    __tablename__ = "plan_table"
    __table_args__ = (UniqueConstraint("park_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    name: Mapped[str] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(200))
    source_ref: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer, default=0)


class PlanCell(Base):
    __tablename__ = "plan_cell"
    __table_args__ = (Index("ix_plan_cell_row", "plan_table_id", "row_no"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_table_id: Mapped[int] = mapped_column(ForeignKey("plan_table.id"))
    row_no: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)


# Environmental monitoring (issue 3). Times are stored in UTC; days are Beijing days.


class MonitoringPoint(Base):
    """An air station, a river/lake section or a noise point of the park."""

    __tablename__ = "monitoring_point"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # air | water | noise
    water_body: Mapped[str | None] = mapped_column(String(16))  # river | lake
    target_class: Mapped[str | None] = mapped_column(String(8))  # GB 3838 I-V
    noise_zone_class: Mapped[str | None] = mapped_column(String(4))  # GB 3096 0-4b
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    data_note: Mapped[str] = mapped_column(Text, default="")  # e.g. that demo data are synthetic
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    data_revision: Mapped[int] = mapped_column(Integer, default=0)


class AirHour(Base):
    """Hourly ambient concentrations of one station (hour_utc = start of the hour, UTC)."""

    __tablename__ = "air_hour"
    __table_args__ = (UniqueConstraint("point_id", "hour_utc"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("monitoring_point.id"))
    hour_utc: Mapped[datetime] = mapped_column(DateTime)
    so2_ug_m3: Mapped[float | None] = mapped_column(Float)
    no2_ug_m3: Mapped[float | None] = mapped_column(Float)
    co_mg_m3: Mapped[float | None] = mapped_column(Float)
    o3_ug_m3: Mapped[float | None] = mapped_column(Float)
    pm10_ug_m3: Mapped[float | None] = mapped_column(Float)
    pm25_ug_m3: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(64), default="import")


class WaterSample(Base):
    __tablename__ = "water_sample"
    __table_args__ = (UniqueConstraint("point_id", "sampled_on", "item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("monitoring_point.id"))
    sampled_on: Mapped[date] = mapped_column(Date)
    item: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)  # mg/L (pH dimensionless)
    source: Mapped[str] = mapped_column(String(64), default="import")


class NoiseMeasurement(Base):
    __tablename__ = "noise_measurement"
    __table_args__ = (UniqueConstraint("point_id", "measured_on", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("monitoring_point.id"))
    measured_on: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(8))  # day | night
    leq_db: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(64), default="import")
