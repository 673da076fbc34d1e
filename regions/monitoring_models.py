"""Health and replication samples (see DESIGN §4). Filled in by the watch work."""
