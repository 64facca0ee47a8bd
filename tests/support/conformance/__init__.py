"""The terminal conformance suite's fixtures and the code that reads them.

``cases.py`` lists the synthetic cases (bytes and a size); ``tmux.json`` holds
what tmux drew for each (written by ``scripts/conformance_record.py``);
``xterm.py`` the hand-written cases where hexe follows xterm and tmux does not;
``programs.json`` the recorded output of real programs with tmux's screen.
``screens.py`` reads a screen as text, attributes and cursor, from hexe or
from ``tmux capture-pane -p -e``.
"""
