"""The enterprise reporting and verification cycle: key units, the data quality control plan,
monthly evidence, the annual GHG report, review, third-party verification, and its tamper-evident
log (issue 13)."""
