"""Products of a run: files (JSON, CSV, GeoJSON, KML), maps, charts, the brief."""
