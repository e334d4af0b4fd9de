"""mempool package."""
