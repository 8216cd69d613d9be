"""Environmental quality: air (AQI by edition), surface water and noise monitoring points and data."""
