"""Data files shipped with airpicture (see PROVENANCE.md)."""
