"""airpicture sim: aircraft, flights, radars, detection and Monte Carlo."""
__version__ = "0.1.0"
