"""The command registry: every action hexe can do, declared once (see :mod:`.registry`)."""
