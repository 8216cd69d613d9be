"""Network side of HJ 212: the ingestion server and the device simulator."""
