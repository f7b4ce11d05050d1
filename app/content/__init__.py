"""Loading, validating and rendering training content (scenarios, lessons, tracks, red flags)."""
