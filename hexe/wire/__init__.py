"""The wire: the frames client and server exchange over the session socket."""
