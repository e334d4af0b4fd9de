"""state_sync package."""
