"""The park's energy platform (issue 14): meters and gateways, readings over MQTT, HTTP and files,
cleaned 15-minute slots and their roll-ups with coverage."""
