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
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
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
    #: Where notifications go by e-mail ("" for none).
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    #: The user's scope: a park (None: every park, for a bureau or the house's admin), optionally
    #: one zone of it, or one enterprise.
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """A machine client's token: only its hash is kept; it expires and can be revoked."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_utc: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_utc: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[str] = mapped_column(String(100), default="")


class UserSession(Base):
    """A signed-in browser session, kept on the server: the cookie only carries its id, so logout,
    expiry, deactivation and a password reset end it for good (a replayed cookie is worth nothing)."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    sid_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_utc: Mapped[datetime] = mapped_column(DateTime)
    ended_utc: Mapped[datetime | None] = mapped_column(DateTime)
    ended_reason: Mapped[str] = mapped_column(
        String(32), default=""
    )  # logout | revoked | deactivated | password
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class LoginAttempt(Base):
    """Every password login, successful or not (throttling per user and per address, and audit)."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    at_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    # ok | failed (wrong password or unknown user) | throttled (refused before any check)
    result: Mapped[str] = mapped_column(String(16), default="failed")


class AuditEvent(Base):
    """Who changed what, when, and from which value to which (settings, limits, device keys, users,
    tokens, and every record an import, a form or an API call changes). History is appended,
    never rewritten."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity_key", "entity", "entity_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The park whose data changed (None: a house-wide thing such as a user of every park).
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"), index=True)
    #: The import batch or request that made the change (a file's name and digest, a form, an API
    #: call), so that one import's changes can be listed together.
    batch: Mapped[str] = mapped_column(String(200), default="")
    at_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(64))
    entity_key: Mapped[str] = mapped_column(String(200), default="")
    field: Mapped[str] = mapped_column(String(64), default="")
    old_json: Mapped[str] = mapped_column(Text, default="")
    new_json: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    #: The enterprise whose record changed (None: a park's or a zone's record), and the zone it
    #: belongs to: who may read the history follows who may read the record (web/scope.py).
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))


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


# Pollution sources over HJ 212 (issue 4): the enterprise file (一企一档), devices, raw frames,
# readings, roll-ups, alarms. Times are UTC (HJ 212 DataTime is Beijing time, converted on entry).


class River(Base):
    """A river or lake with its tributary link: ``confluence_km`` is where it joins ``parent``,
    measured along the parent from its upstream end (km grow downstream)."""

    __tablename__ = "river"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("river.id"))
    confluence_km: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")


class RiverSection(Base):
    """A water monitoring point's place on a river (km from the river's upstream end)."""

    __tablename__ = "river_section"
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("monitoring_point.id"), unique=True)
    river_id: Mapped[int] = mapped_column(ForeignKey("river.id"))
    km: Mapped[float] = mapped_column(Float)


class Outlet(Base):
    """A discharge outlet (排口) of an enterprise: waste water or waste gas."""

    __tablename__ = "outlet"
    __table_args__ = (UniqueConstraint("enterprise_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    medium: Mapped[str] = mapped_column(String(8))  # water | gas
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    receiving_water: Mapped[str] = mapped_column(String(200), default="")  # 受纳水体
    river_id: Mapped[int | None] = mapped_column(ForeignKey("river.id"))
    river_km: Mapped[float | None] = mapped_column(Float)
    discharge_rule: Mapped[str] = mapped_column(String(200), default="")  # e.g. 间接排放 to a WWTP
    note: Mapped[str] = mapped_column(Text, default="")


class SourcePoint(Base):
    """An automatic monitoring point of an outlet: the data logger (数采仪) with its MN and PW."""

    __tablename__ = "source_point"
    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlet.id"))
    mn: Mapped[str] = mapped_column(String(32), unique=True)
    pw: Mapped[str] = mapped_column(String(16))
    edition: Mapped[str] = mapped_column(String(8), default="2017")  # 2005 | 2017 | 2025
    maker: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    data_note: Mapped[str] = mapped_column(Text, default="")  # e.g. that demo data are synthetic
    last_seen_utc: Mapped[datetime | None] = mapped_column(DateTime)
    last_peer: Mapped[str] = mapped_column(String(64), default="")
    created_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # frames that named this MN with a wrong PW (an alarm, never an adoption candidate)
    pw_failures: Mapped[int] = mapped_column(Integer, default=0)
    pw_failure_utc: Mapped[datetime | None] = mapped_column(DateTime)
    pw_failure_peer: Mapped[str] = mapped_column(String(64), default="")


class Channel(Base):
    """A monitored factor of a point with its permit limit and alarm settings (None = park default)."""

    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("point_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("source_point.id"))
    code: Mapped[str] = mapped_column(String(16))  # HJ 212-2017 pollutant code
    name: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(32), default="")
    limit_value: Mapped[float | None] = mapped_column(Float)
    limit_standard: Mapped[str] = mapped_column(String(200), default="")
    pre_alarm_ratio: Mapped[float | None] = mapped_column(Float)
    use_zs: Mapped[bool] = mapped_column(Boolean, default=False)  # judge on the converted (折算) value
    is_flow: Mapped[bool] = mapped_column(Boolean, default=False)
    flat_line_readings: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")


class Permit(Base):
    """A discharge permit (排污许可证) of an enterprise."""

    __tablename__ = "permit"
    __table_args__ = (UniqueConstraint("enterprise_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    number: Mapped[str] = mapped_column(String(64))
    management: Mapped[str] = mapped_column(String(32), default="")  # 重点管理 | 简化管理 | 登记管理
    issuer: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class Contact(Base):
    __tablename__ = "contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(200), default="")


class UnknownDevice(Base):
    """A data logger that connected with an unregistered MN (or a wrong PW), kept for adoption."""

    __tablename__ = "unknown_device"
    id: Mapped[int] = mapped_column(primary_key=True)
    mn: Mapped[str] = mapped_column(String(32), unique=True)
    reason: Mapped[str] = mapped_column(String(32))  # unknown_mn | bad_pw
    pw_seen: Mapped[str] = mapped_column(String(16), default="")
    first_seen_utc: Mapped[datetime] = mapped_column(DateTime)
    last_seen_utc: Mapped[datetime] = mapped_column(DateTime)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    last_peer: Mapped[str] = mapped_column(String(64), default="")
    last_cn: Mapped[str] = mapped_column(String(8), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | adopted | ignored


class RawFrame(Base):
    """Every frame received, as received, with what became of it (audit; pruned by retention)."""

    __tablename__ = "raw_frame"
    # Frames of unknown devices by MN (for adoption); partial, so the hot path only appends.
    __table_args__ = (
        Index(
            "ix_raw_frame_unknown_mn", "mn",
            sqlite_where=text("status IN ('unknown_mn', 'bad_pw')"),
            postgresql_where=text("status IN ('unknown_mn', 'bad_pw')"),
        ),
    )  # fmt: skip
    id: Mapped[int] = mapped_column(primary_key=True)
    received_utc: Mapped[datetime] = mapped_column(DateTime, index=True)
    peer: Mapped[str] = mapped_column(String(64), default="")
    mn: Mapped[str] = mapped_column(String(32), default="")
    cn: Mapped[str] = mapped_column(String(8), default="")
    qn: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(16))  # stored | unknown_mn | bad_pw | rejected | other
    reason: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[str] = mapped_column(Text)


class SourceReading(Base):
    """One pollutant value of one upload: kind rtd (2011), min (2051), hour (2061), day (2031),
    runtime (2041). The key is point, kind, time and code, so a resent upload is stored once; the
    rows are clustered by that key (SQLite WITHOUT ROWID: one b-tree, a channel's series is one
    range)."""

    __tablename__ = "source_reading"
    __table_args__ = ({"sqlite_with_rowid": False},)
    point_id: Mapped[int] = mapped_column(ForeignKey("source_point.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    time_utc: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)  # Rtd or Avg (RT for runtime)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    cou: Mapped[float | None] = mapped_column(Float)  # cumulative (e.g. kg, m3)
    zs_value: Mapped[float | None] = mapped_column(Float)  # converted (折算) value
    flag: Mapped[str] = mapped_column(String(4), default="")


class SourceRollup(Base):
    """Hourly and daily statistics of a channel for pages and alarms (origin: the device's own
    2061/2031 upload, or computed from finer data)."""

    __tablename__ = "source_rollup"
    __table_args__ = (UniqueConstraint("point_id", "period", "start_utc", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("source_point.id"))
    period: Mapped[str] = mapped_column(String(8))  # hour | day
    start_utc: Mapped[datetime] = mapped_column(DateTime)
    code: Mapped[str] = mapped_column(String(16))
    avg: Mapped[float | None] = mapped_column(Float)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    zs_avg: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer, default=0)
    flags: Mapped[str] = mapped_column(String(16), default="")  # distinct flags seen, e.g. "NM"
    origin: Mapped[str] = mapped_column(String(16))  # device | computed


class DeviceCommand(Base):
    """A command for a device queued from a page (e.g. 1012 time sync), sent when it is connected."""

    __tablename__ = "device_command"
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("source_point.id"))
    cn: Mapped[str] = mapped_column(String(8))
    qn: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    requested_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_utc: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|accepted|done|failed
    result: Mapped[str] = mapped_column(Text, default="")


class Alarm(Base):
    """One alarm episode: opened when a rule fires, updated while it keeps firing, closed by an
    officer (or automatically when the condition has cleared, if the setting says so)."""

    __tablename__ = "alarm"
    __table_args__ = (Index("ix_alarm_open", "point_id", "rule", "code", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("source_point.id"))
    code: Mapped[str] = mapped_column(String(16), default="")  # channel ('' for device-level rules)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))  # info | warning | critical
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged | closed
    opened_utc: Mapped[datetime] = mapped_column(DateTime)
    last_fired_utc: Mapped[datetime] = mapped_column(DateTime)
    cleared_utc: Mapped[datetime | None] = mapped_column(DateTime)  # condition no longer holds
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    ack_by: Mapped[str] = mapped_column(String(100), default="")
    ack_utc: Mapped[datetime | None] = mapped_column(DateTime)
    ack_note: Mapped[str] = mapped_column(Text, default="")
    closed_by: Mapped[str] = mapped_column(String(100), default="")
    closed_utc: Mapped[datetime | None] = mapped_column(DateTime)
    close_note: Mapped[str] = mapped_column(Text, default="")


class AlarmLog(Base):
    """Who did what to an alarm, and when (history is never rewritten)."""

    __tablename__ = "alarm_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarm.id"), index=True)
    at_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(16))  # open | fire | clear | ack | close | webhook
    note: Mapped[str] = mapped_column(Text, default="")


class WebhookDelivery(Base):
    """An alarm notification waiting to be POSTed, written in the alarm's own transaction and
    delivered after its commit by a worker with a timeout and retries (transactional outbox)."""

    __tablename__ = "webhook_delivery"
    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarm.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    payload_json: Mapped[str] = mapped_column(Text)
    created_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    delivered_utc: Mapped[datetime | None] = mapped_column(DateTime)
    last_result: Mapped[str] = mapped_column(Text, default="")


class Setting(Base):
    """Park settings editable by officers (alarm thresholds, raw-frame retention, webhook URL)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    updated_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# Indicators and targets (issue 5).


class Indicator(Base):
    """An indicator of the plan (Table 3.3.1) or one an officer added: how it is obtained, its
    baseline and (in :class:`IndicatorTarget`) its yearly targets."""

    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    code: Mapped[str] = mapped_column(String(16))  # "1a", "2", … or an officer's code
    seq: Mapped[int] = mapped_column(Integer, default=0)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(32), default="")
    direction: Mapped[str] = mapped_column(String(8))  # lower | higher
    kind: Mapped[str] = mapped_column(String(16))  # binding (约束性) | expected (预期性)
    method: Mapped[str] = mapped_column(String(64), default="reported")  # reported | a computed method
    department: Mapped[str] = mapped_column(String(200), default="")
    baseline_year: Mapped[int | None] = mapped_column(Integer)
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_text: Mapped[str] = mapped_column(String(200), default="")
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    basis_note: Mapped[str] = mapped_column(Text, default="")  # the plan's 备注：数据依据
    flag: Mapped[str] = mapped_column(Text, default="")  # e.g. an inconsistency of the plan
    custom: Mapped[bool] = mapped_column(Boolean, default=False)


class IndicatorTarget(Base):
    __tablename__ = "indicator_target"
    __table_args__ = (UniqueConstraint("indicator_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    year: Mapped[int] = mapped_column(Integer)
    comparator: Mapped[str] = mapped_column(String(4), default="")  # < <= > >= = ('' for text only)
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(String(200), default="")  # as the plan writes it


class IndicatorValue(Base):
    """A reported value of an indicator for a year (computed indicators are computed, not stored)."""

    __tablename__ = "indicator_value"
    __table_args__ = (UniqueConstraint("indicator_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(String(100), default="")
    updated_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# The plan's tasks and projects (issue 5).


class PlanMeasure(Base):
    """A measure of the task table (4.3.1): task group → action → measure, with departments."""

    __tablename__ = "plan_measure"
    __table_args__ = (UniqueConstraint("park_id", "group_seq", "action_seq", "measure_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    group_seq: Mapped[int] = mapped_column(Integer)
    task_group: Mapped[str] = mapped_column(String(200))
    action_seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(200))
    measure_seq: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    departments: Mapped[str] = mapped_column(String(200), default="")
    source_ref: Mapped[str] = mapped_column(String(64), default="")


class Project(Base):
    """A construction project of the plan (4.3.2), kept as the plan gives it (with its flags), plus
    its schedule and current progress."""

    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("park_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    seq: Mapped[int] = mapped_column(Integer)
    task_group: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200), default="")
    cycle_text: Mapped[str] = mapped_column(String(64), default="")
    cycle_years: Mapped[float | None] = mapped_column(Float)
    content: Mapped[str] = mapped_column(Text, default="")
    investment_text: Mapped[str] = mapped_column(String(64), default="")
    investment_10k_yuan: Mapped[float | None] = mapped_column(Float)
    benefit: Mapped[str] = mapped_column(Text, default="")
    flag: Mapped[str] = mapped_column(Text, default="")  # duplicate_of_17, stray_text, …
    note: Mapped[str] = mapped_column(Text, default="")
    source_ref: Mapped[str] = mapped_column(String(64), default="")
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    spent_10k_yuan: Mapped[float] = mapped_column(Float, default=0.0)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    last_update: Mapped[date | None] = mapped_column(Date)


class ProjectUpdate(Base):
    """A progress report of a project: the audit trail of who changed what, and when."""

    __tablename__ = "project_update"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    on_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    percent: Mapped[float] = mapped_column(Float)
    spent_10k_yuan: Mapped[float] = mapped_column(Float)
    milestone: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    attachment_name: Mapped[str] = mapped_column(String(200), default="")
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    by: Mapped[str] = mapped_column(String(100), default="")
    at_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ProjectEffect(Base):
    """A project's expected effect on an indicator (e.g. t CO₂ avoided per year)."""

    __tablename__ = "project_effect"
    __table_args__ = (UniqueConstraint("project_id", "indicator_code", "unit"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    indicator_code: Mapped[str] = mapped_column(String(16))
    effect: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")


# Land-use intensity (亩均效益, plan 4.1) (issue 5).


class LandUseRecord(Base):
    """An enterprise's land and yearly results for 亩均 evaluation."""

    __tablename__ = "land_use_record"
    __table_args__ = (UniqueConstraint("enterprise_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    year: Mapped[int] = mapped_column(Integer)
    land_mu: Mapped[float] = mapped_column(Float)
    investment_10k_yuan: Mapped[float | None] = mapped_column(Float)  # fixed-asset investment to date
    tax_10k_yuan: Mapped[float | None] = mapped_column(Float)
    output_10k_yuan: Mapped[float | None] = mapped_column(Float)
    energy_tce: Mapped[float | None] = mapped_column(Float)
    in_production: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(200), default="")


class IdleParcel(Base):
    """A parcel approved but not supplied (批而未供) or idle (闲置): the "三年清零" register."""

    __tablename__ = "idle_parcel"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    code: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))  # unsupplied | idle
    area_mu: Mapped[float] = mapped_column(Float)
    since: Mapped[date | None] = mapped_column(Date)
    disposal_plan: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | in_progress | disposed
    disposed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


# The carbon-peak roadmap and forest carbon sinks (issue 6).


class Scenario(Base):
    """A named set of driver paths (the spec, as JSON); a scenario inherits its parent's drivers and
    overrides only what it changes. Presets come from ``data/scenarios``; officers add their own."""

    __tablename__ = "scenario"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    code: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    parent_code: Mapped[str] = mapped_column(String(64), default="")
    spec_json: Mapped[str] = mapped_column(Text)
    preset: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    updated_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ForestStand(Base):
    """Forest land of one type in one zone at one inventory (area, growing stock, yearly harvest)."""

    __tablename__ = "forest_stand"
    __table_args__ = (UniqueConstraint("zone_id", "forest_type", "inventory_year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"))
    forest_type: Mapped[str] = mapped_column(String(16))  # coniferous | broadleaf | mixed | bamboo | economic
    inventory_year: Mapped[int] = mapped_column(Integer)
    area_ha: Mapped[float] = mapped_column(Float)
    volume_m3_per_ha: Mapped[float | None] = mapped_column(Float)  # growing stock; none for bamboo, orchards
    harvest_m3_per_yr: Mapped[float] = mapped_column(Float, default=0.0)
    disturbed_ha_per_yr: Mapped[float] = mapped_column(Float, default=0.0)
    disturbance_fraction: Mapped[float] = mapped_column(Float, default=0.0)
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class SinkProject(Base):
    """A forest carbon-sink project (CCER-style): methodology, area, crediting period."""

    __tablename__ = "sink_project"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    methodology: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # afforestation | forest_management | bamboo_afforestation | …
    area_ha: Mapped[float] = mapped_column(Float)
    owner: Mapped[str] = mapped_column(String(200), default="")
    crediting_start: Mapped[date] = mapped_column(Date)
    crediting_end: Mapped[date] = mapped_column(Date)
    estimated_tco2_per_yr: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    note: Mapped[str] = mapped_column(Text, default="")


class SinkPeriod(Base):
    """A monitoring period of a sink project: estimated and verified removals, issued and retired credits."""

    __tablename__ = "sink_period"
    __table_args__ = (UniqueConstraint("project_id", "period_start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("sink_project.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    estimated_tco2: Mapped[float] = mapped_column(Float)
    verified_tco2: Mapped[float | None] = mapped_column(Float)
    issued_credits_tco2: Mapped[float] = mapped_column(Float, default=0.0)
    retired_credits_tco2: Mapped[float] = mapped_column(Float, default=0.0)
    verifier: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")


# The enterprise reporting and verification cycle (issue 13): key units, the data quality control
# plan, monthly evidence, the annual GHG report, review, verification, and the tamper-evident log.


class MrvUnitDecision(Base):
    """A park officer's decision on the key-unit register for one enterprise and year: designate
    (include although under a threshold) or exempt (exclude although over it), with the reason.
    Decisions are appended; the latest one per (enterprise, year, kind) holds."""

    __tablename__ = "mrv_unit_decision"
    __table_args__ = (Index("ix_mrv_unit_decision_scope", "park_id", "year", "enterprise_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # key_energy_user | key_carbon_emitter
    included: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MrvDqcp(Base):
    """One version of an enterprise's data quality control plan (数据质量控制计划). A filed version
    is never changed; a revision is a new version naming one of the guide's five triggers."""

    __tablename__ = "mrv_dqcp"
    __table_args__ = (UniqueConstraint("enterprise_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="filed")  # filed | superseded
    revision_trigger: Mapped[str] = mapped_column(String(32), default="")  # "" for version 1
    revision_note: Mapped[str] = mapped_column(Text, default="")
    guideline: Mapped[str] = mapped_column(String(64), default="")  # the sector guideline code
    boundary: Mapped[str] = mapped_column(Text, default="")
    facilities_json: Mapped[str] = mapped_column(Text, default="[]")  # [{code, name, location, sources}]
    valid_from: Mapped[date] = mapped_column(Date)
    filed_by: Mapped[str] = mapped_column(String(100))
    filed_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    parameters: Mapped[list[MrvDqcpParameter]] = relationship(order_by="MrvDqcpParameter.id")


class MrvDqcpParameter(Base):
    """How one parameter of the plan is determined (guide 4.2.1.6 d)."""

    __tablename__ = "mrv_dqcp_parameter"
    id: Mapped[int] = mapped_column(primary_key=True)
    dqcp_id: Mapped[int] = mapped_column(ForeignKey("mrv_dqcp.id"), index=True)
    parameter: Mapped[str] = mapped_column(String(32))  # fuel_quantity | ncv | carbon_content | …
    item: Mapped[str] = mapped_column(String(64), default="")  # the fuel/carrier/process it is for
    unit: Mapped[str] = mapped_column(String(32), default="")
    method: Mapped[str] = mapped_column(String(32))  # measured | default | calculated | supplier
    meter: Mapped[str] = mapped_column(String(200), default="")  # model and location
    accuracy: Mapped[str] = mapped_column(String(64), default="")
    calibration: Mapped[str] = mapped_column(String(200), default="")  # interval, last date
    monitoring_frequency: Mapped[str] = mapped_column(String(64), default="")
    recording_frequency: Mapped[str] = mapped_column(String(64), default="")
    missing_data_rule: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(200), default="")


class MrvAttachment(Base):
    """A supporting file (invoice, meter photo, lab report, declaration…) kept with its digest."""

    __tablename__ = "mrv_attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    owner_kind: Mapped[str] = mapped_column(String(32))  # evidence | report | ncr | verification | appeal
    owner_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MrvEvidence(Base):
    """One month's evidence (月度存证) of an enterprise; a resubmission is a new version."""

    __tablename__ = "mrv_evidence"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "year", "month", "version"),
        # covers the status board's months of a park and year, grouped by enterprise and month
        Index("ix_mrv_evidence_scope", "park_id", "year", "enterprise_id", "month", "late"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date] = mapped_column(Date)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    values: Mapped[list[MrvEvidenceValue]] = relationship(order_by="MrvEvidenceValue.id")


class MrvEvidenceValue(Base):
    __tablename__ = "mrv_evidence_value"
    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("mrv_evidence.id"), index=True)
    parameter: Mapped[str] = mapped_column(String(32))  # energy | ncv | carbon_content | output | …
    item: Mapped[str] = mapped_column(String(64))  # carrier code, product, …
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))


class MrvReport(Base):
    """One version of an enterprise's annual GHG report. Its figures are never edited after it is
    submitted: a correction is a new version; ``status`` moves through the review and verification
    cycle (every move is in the MRV log)."""

    __tablename__ = "mrv_report"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "year", "version"),
        Index("ix_mrv_report_scope", "park_id", "year", "enterprise_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    # submitted | returned | accepted | verified | superseded
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    guideline: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(16), default="page")  # page | excel | api
    filename: Mapped[str] = mapped_column(String(200), default="")
    grid_factor_ref: Mapped[str] = mapped_column(String(200), default="")
    heat_factor_ref: Mapped[str] = mapped_column(String(200), default="")
    combustion_co2_t: Mapped[float] = mapped_column(Float, default=0.0)
    process_co2_t: Mapped[float] = mapped_column(Float, default=0.0)
    electricity_co2_t: Mapped[float] = mapped_column(Float, default=0.0)
    heat_co2_t: Mapped[float] = mapped_column(Float, default=0.0)
    total_excl_purchased_co2_t: Mapped[float] = mapped_column(Float, default=0.0)
    total_co2_t: Mapped[float] = mapped_column(Float, default=0.0)
    energy_tce: Mapped[float] = mapped_column(Float, default=0.0)
    contact: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by: Mapped[str] = mapped_column(String(100), default="")
    reviewed_utc: Mapped[datetime | None] = mapped_column(DateTime)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    lines: Mapped[list[MrvReportLine]] = relationship(order_by="MrvReportLine.id")
    checks: Mapped[list[MrvReportCheck]] = relationship(order_by="MrvReportCheck.id")


class MrvReportLine(Base):
    """One row of a report's tables: a fuel burnt, a process source, purchased electricity or heat,
    or an output, with how each parameter was obtained (measured or default) and its CO₂."""

    __tablename__ = "mrv_report_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("mrv_report.id"), index=True)
    section: Mapped[str] = mapped_column(String(16))  # combustion | process | electricity | heat | output
    item: Mapped[str] = mapped_column(String(64))  # carrier code, process source code, product
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    ncv_gj_per_unit: Mapped[float | None] = mapped_column(Float)
    ncv_source: Mapped[str] = mapped_column(String(16), default="")  # measured | default
    carbon_content_tc_per_gj: Mapped[float | None] = mapped_column(Float)
    carbon_content_source: Mapped[str] = mapped_column(String(16), default="")
    oxidation_fraction: Mapped[float | None] = mapped_column(Float)
    oxidation_source: Mapped[str] = mapped_column(String(16), default="")
    factor: Mapped[float | None] = mapped_column(Float)  # process/electricity/heat factor
    factor_unit: Mapped[str] = mapped_column(String(32), default="")
    factor_ref: Mapped[str] = mapped_column(String(200), default="")
    co2_t: Mapped[float | None] = mapped_column(Float)
    energy_tce: Mapped[float | None] = mapped_column(Float)


class MrvReportCheck(Base):
    """The result of one consistency check of a report, kept on the report."""

    __tablename__ = "mrv_report_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("mrv_report.id"), index=True)
    check: Mapped[str] = mapped_column(String(32))  # evidence_sum | previous_year | metered | …
    item: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[str] = mapped_column(String(8))  # pass | warn | fail | none
    reported: Mapped[float | None] = mapped_column(Float)
    reference: Mapped[float | None] = mapped_column(Float)
    difference_fraction: Mapped[float | None] = mapped_column(Float)
    tolerance_fraction: Mapped[float | None] = mapped_column(Float)
    detail_json: Mapped[str] = mapped_column(Text, default="{}")


class MrvBody(Base):
    """A third-party verification body (核查机构) registered by a park."""

    __tablename__ = "mrv_body"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), default="")
    accreditation: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    #: The body's Ed25519 public key (PEM) that checks its verification statements.
    public_key_pem: Mapped[str] = mapped_column(Text, default="")
    #: The private key, encrypted with the house secret (greenpark signs on the verifier's action).
    private_key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class MrvBodyMember(Base):
    __tablename__ = "mrv_body_member"
    __table_args__ = (UniqueConstraint("body_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("mrv_body.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)


class MrvVerification(Base):
    """The verification of one enterprise's report for one year, by one body (2021 guide, 4.1)."""

    __tablename__ = "mrv_verification"
    __table_args__ = (Index("ix_mrv_verification_scope", "park_id", "year", "enterprise_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    year: Mapped[int] = mapped_column(Integer)
    body_id: Mapped[int] = mapped_column(ForeignKey("mrv_body.id"), index=True)
    initial_report_id: Mapped[int] = mapped_column(ForeignKey("mrv_report.id"))
    final_report_id: Mapped[int | None] = mapped_column(ForeignKey("mrv_report.id"))
    # assigned | declared | doc_review | site_visit | concluded | notified | appealed | closed | withdrawn
    stage: Mapped[str] = mapped_column(String(16), default="assigned")
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_date: Mapped[date | None] = mapped_column(Date)
    coi_declared_by: Mapped[str] = mapped_column(String(100), default="")
    coi_declared_utc: Mapped[datetime | None] = mapped_column(DateTime)
    coi_statement: Mapped[str] = mapped_column(Text, default="")
    doc_review_json: Mapped[str] = mapped_column(Text, default="[]")  # [{item, result, note}]
    doc_review_by: Mapped[str] = mapped_column(String(100), default="")
    doc_review_utc: Mapped[datetime | None] = mapped_column(DateTime)
    site_visit_date: Mapped[date | None] = mapped_column(Date)
    site_visit_team: Mapped[str] = mapped_column(String(400), default="")
    site_visit_record: Mapped[str] = mapped_column(Text, default="")
    site_visit_json: Mapped[str] = mapped_column(Text, default="[]")  # the site checklist
    conclusion: Mapped[str] = mapped_column(String(8), default="")  # pass | fail
    reported_total_co2_t: Mapped[float | None] = mapped_column(Float)
    verified_total_co2_t: Mapped[float | None] = mapped_column(Float)
    verified_energy_tce: Mapped[float | None] = mapped_column(Float)
    differences_json: Mapped[str] = mapped_column(Text, default="[]")  # [{item, reported, verified, reason}]
    concluded_by: Mapped[str] = mapped_column(String(100), default="")
    concluded_utc: Mapped[datetime | None] = mapped_column(DateTime)
    statement_docx: Mapped[bytes | None] = mapped_column(LargeBinary)
    statement_sha256: Mapped[str] = mapped_column(String(64), default="")
    statement_signature_b64: Mapped[str] = mapped_column(Text, default="")
    notified_utc: Mapped[datetime | None] = mapped_column(DateTime)
    appeal_due_date: Mapped[date | None] = mapped_column(Date)


class MrvNonConformity(Base):
    """A non-conformity (不符合项) opened by the verifier and answered by the enterprise."""

    __tablename__ = "mrv_nonconformity"
    __table_args__ = (UniqueConstraint("verification_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("mrv_verification.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    clause: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_date: Mapped[date | None] = mapped_column(Date)
    # open | answered | closed | estimated
    status: Mapped[str] = mapped_column(String(16), default="open")
    response: Mapped[str] = mapped_column(Text, default="")
    responded_by: Mapped[str] = mapped_column(String(100), default="")
    responded_utc: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str] = mapped_column(String(100), default="")
    closed_utc: Mapped[datetime | None] = mapped_column(DateTime)
    close_note: Mapped[str] = mapped_column(Text, default="")
    estimate_co2_t: Mapped[float | None] = mapped_column(Float)
    estimate_reasoning: Mapped[str] = mapped_column(Text, default="")


class MrvAppeal(Base):
    """An enterprise's request to review a verification result (≤ 7 working days after notice),
    decided by the park (≤ 10 working days after filing)."""

    __tablename__ = "mrv_appeal"
    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("mrv_verification.id"), index=True)
    filed_by: Mapped[str] = mapped_column(String(100))
    filed_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    grounds: Mapped[str] = mapped_column(Text)
    decision_due_date: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(16), default="")  # upheld | revised
    decision_note: Mapped[str] = mapped_column(Text, default="")
    revised_total_co2_t: Mapped[float | None] = mapped_column(Float)
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_utc: Mapped[datetime | None] = mapped_column(DateTime)


class MrvLogEntry(Base):
    """The tamper-evident log of the cycle: every entry carries the hash of the one before, so an
    edited, deleted or reordered row breaks the chain (``greenpark audit verify``)."""

    __tablename__ = "mrv_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    prev_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))


class MrvLogHead(Base):
    """A signature over the log's head at one moment (the house key signs it periodically)."""

    __tablename__ = "mrv_log_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    signed_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    public_key_pem: Mapped[str] = mapped_column(Text)
    signature_b64: Mapped[str] = mapped_column(Text)


class Notification(Base):
    """A message to one user in the inbox (and, when configured, by e-mail and group robot).
    ``key`` makes a reminder idempotent: the same reminder is not created twice."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notification_user_read", "user_id", "read_utc"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # due | returned | assigned | overdue | reminder | notice
    subject_json: Mapped[str] = mapped_column(Text)  # {msgid, params}: rendered in the reader's language
    link: Mapped[str] = mapped_column(String(300), default="")
    created_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_utc: Mapped[datetime | None] = mapped_column(DateTime)
    email_status: Mapped[str] = mapped_column(String(64), default="")  # "" | sent | failed: … | off
    robot_status: Mapped[str] = mapped_column(String(64), default="")


# --- The energy platform: meters, gateways, readings (issue 14) -------------------------------------


class EnergySite(Base):
    """A site of an enterprise (a plant, a workshop building) that meters hang under."""

    __tablename__ = "energy_site"
    __table_args__ = (UniqueConstraint("enterprise_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


class EnergyMeter(Base):
    """One meter: park → enterprise → site → meter, with what it counts and how to read it.

    ``kind``: counter (cumulative register), interval (each value is one period's quantity, labelled
    with the period's start), manual (readings typed in or imported), virtual (``formula`` over other
    meters' codes). ``level`` is its place in the enterprise's energy tree (GB 17167: the unit as a
    whole, a secondary unit / process, a main energy-using equipment, a usage). ``counted``: whether
    its energy adds to the enterprise's total (a sub-meter under a counted meter is not).
    ``purpose``: energy, feedstock (原料用能) or new renewable — the dual-control rules exclude the
    last two from assessed energy."""

    __tablename__ = "energy_meter"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("energy_site.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    carrier_code: Mapped[str] = mapped_column(ForeignKey("carrier.code"))
    unit: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), default="counter")
    multiplier: Mapped[float] = mapped_column(Float, default=1.0)
    rollover: Mapped[float | None] = mapped_column(Float)
    max_rate_per_h: Mapped[float | None] = mapped_column(Float)
    reading_interval_s: Mapped[int] = mapped_column(Integer, default=900)
    accuracy_class: Mapped[str] = mapped_column(String(16), default="")
    calibrated_on: Mapped[date | None] = mapped_column(Date)
    calibration_due: Mapped[date | None] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(16), default="plant")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("energy_meter.id"))
    formula: Mapped[str] = mapped_column(String(400), default="")
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    purpose: Mapped[str] = mapped_column(String(16), default="energy")
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("energy_gateway.id"))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    #: Where a Modbus gateway holds this meter's value: {"unit", "function" (3 holding / 4 input),
    #: "address", "type" (uint16 … float64), "word_order" (big | little), "scale"}.
    register_json: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class EnergyGateway(Base):
    """A data logger or gateway that pushes readings for one enterprise's meters (HTTP token, MQTT
    topic ``greenpark/<park>/<gateway>/readings``). Only the token's SHA-256 is kept."""

    __tablename__ = "energy_gateway"
    __table_args__ = (UniqueConstraint("park_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_utc: Mapped[datetime | None] = mapped_column(DateTime)
    created_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: ``push`` (the gateway sends over HTTP or MQTT) or ``modbus_tcp`` (greenpark polls it at
    #: ``host:port`` every ``poll_interval_s``, each meter by its ``register_json``).
    protocol: Mapped[str] = mapped_column(String(16), default="push", server_default="push")
    host: Mapped[str] = mapped_column(String(200), default="", server_default="")
    port: Mapped[int | None] = mapped_column(Integer)
    poll_interval_s: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    last_error: Mapped[str] = mapped_column(String(400), default="", server_default="")


class MeterReading(Base):
    """A raw reading as received (never edited; a repeat of one meter and time is ignored)."""

    __tablename__ = "meter_reading"
    __table_args__ = (UniqueConstraint("meter_id", "at_utc"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("energy_meter.id"))
    at_utc: Mapped[datetime] = mapped_column(DateTime)
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # mqtt | http | modbus | manual | import | simulated
    received_utc: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MeterSlot(Base):
    """A meter's cleaned energy in one 15-minute slot (start, UTC) with what happened in it
    (``core.meters.Flag`` bits) and how many readings arrived against how many were expected."""

    __tablename__ = "meter_slot"
    meter_id: Mapped[int] = mapped_column(ForeignKey("energy_meter.id"), primary_key=True)
    start_utc: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    energy: Mapped[float] = mapped_column(Float)
    flags: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)
    expected: Mapped[float] = mapped_column(Float, default=1.0)
