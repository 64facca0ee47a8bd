"""The multiplexer's model: layout, keys and mouse input, copy mode, the view a frame is drawn from."""
