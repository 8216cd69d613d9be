"""The plan: indicators and their targets, tasks and projects, land-use intensity, the annual
report, and the check that reproduces the plan's published figures."""
