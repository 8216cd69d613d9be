"""Notifications: telling people and systems outside greenpark (alarm webhooks now). Alarms call it;
it calls nothing above it."""
