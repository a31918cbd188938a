"""airpicture geo: the Earth (geodesy, projection, borders, airports, terrain, geofences)."""
