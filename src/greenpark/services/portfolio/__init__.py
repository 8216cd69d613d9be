"""Across a park's domains and across parks: onboarding a park from its workbook, and the overview
of many parks a city or provincial bureau watches."""
