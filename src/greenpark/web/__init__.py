"""Web layer: JSON API (FastAPI) and server-rendered pages. Routes are thin over services."""
