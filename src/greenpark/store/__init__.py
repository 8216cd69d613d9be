"""Storage: SQLAlchemy models, the engine and session, Alembic migrations, repositories.

The store never computes: it keeps records and answers queries; formulas live in ``core``.
"""
