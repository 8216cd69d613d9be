"""Pollution sources: the enterprise file (一企一档), HJ 212 devices and ingestion, alarms, river
tracing."""
