"""Persistence: engine now; drafts, runs and reminders with the engine issue."""
