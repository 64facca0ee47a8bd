"""The session server: panes, PTYs, clients; see server.py."""
