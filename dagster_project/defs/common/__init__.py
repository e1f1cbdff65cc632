"""Resources every integration folder shares (the warehouse connection)."""
