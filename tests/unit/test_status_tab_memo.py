"""The tab of a pane that printed is remembered between reads (issue 18: ``Tabs.find``
on every PTY read was a tenth of the server's time at 100 panes): the remembered tab
is always the one ``Tabs.find`` gives, through splits, moves, closes and floats."""

from __future__ import annotations

import random

from hexe.mux.layout import DIRECTIONS
from hexe.mux.tabs import Tab, Tabs
from hexe.server.status import tab_of


def test_the_remembered_tab_is_the_one_find_gives():
    rng = random.Random(18)
    tabs = Tabs()
    next_pane = 1
    for _ in range(4):
        tabs.new(Tab.single(next_pane))
        next_pane += 1
    memo: dict = {}
    for _ in range(1200):  # ~200 panes in ~50 tabs by the end: each step looks at all
        panes = [p for t in tabs for p in (*t.layout.order(), *t.floats)]
        step = rng.random()
        if step < 0.3 and len(tabs):  # a split
            tab = rng.choice(tabs.tabs)
            target = rng.choice(tab.layout.order())
            tab.split(rng.choice(DIRECTIONS), next_pane, pane=target)
            next_pane += 1
        elif step < 0.45 and panes:  # a pane exits (its tab closes when empty)
            pane = rng.choice(panes)
            tab = tabs.find(pane)
            if tab.remove(pane):
                tabs.close(tab)
        elif step < 0.55 and panes:  # a pane moves to another tab (join-pane)
            pane = rng.choice(panes)
            source = tabs.find(pane)
            if not source.remove(pane):
                dest = rng.choice(tabs.tabs)
                dest.split("right", pane, pane=rng.choice(dest.layout.order()))
            else:
                tabs.close(source)
                tabs.new(Tab.single(pane))
        elif step < 0.6:
            tabs.new(Tab.single(next_pane))
            next_pane += 1
        for pane in rng.sample(range(1, next_pane + 2), min(6, next_pane + 1)):
            assert tab_of(tabs, memo, pane) is tabs.find(pane), pane
