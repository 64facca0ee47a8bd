"""The multiplexer's model: layout, keys and mouse input, copy mode, a frame's view."""
