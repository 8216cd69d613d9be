"""The carbon-peak roadmap: scenarios, Monte Carlo, LMDI decomposition, IAMC exchange."""
