# hexe_umask.py
"""hexe_umask: a ``umask`` isolation setting and a ``private`` profile.

The worked example of docs/plugins.md: a third-party plugin that declares a
setting and a profile through the same API the built-in plugins use
(``tests/unit/test_settings_registry.py`` installs this file as it is).
"""

import os

from hexe import hookimpl
from hexe.errors import SettingError
from hexe.plugin.settings import Flag, Profile, Setting

FORMS = 'use 3 or 4 octal digits as a string, like "077" or "0027"'


def parse_umask(label, raw):
    if not isinstance(raw, str) or not 3 <= len(raw) <= 4 or set(raw) - set("01234567"):
        raise SettingError(label, raw, FORMS, problem="is not a umask")
    return int(raw, 8)


@hookimpl
def hexe_settings():
    return [
        Setting(
            "umask",
            parse_umask,
            doc="the file mode creation mask of the sandbox's command",
            env=("HEXE_UMASK",),
            show=lambda mask: "-" if mask is None else f"{mask:04o}",
            forms=FORMS,
            # its value under profiles that do not set it: the locked ones keep files private
            profiles={"full": "077", "sandbox": "077"},
            # hexe run --umask 027 (the strongest layer)
            flag=Flag("--umask", "MASK", "file mode creation mask: {forms} (env {env})"),
        )
    ]


@hookimpl
def hexe_profiles():
    return [
        Profile(
            "private",
            "balanced, and files private to their owner (umask 077)",
            settings={"namespaces": ["user", "pid", "mount"], "umask": "077"},
        )
    ]


@hookimpl
def hexe_child_security(spawn):
    mask = spawn.plan.isolation.get("umask")
    if mask is not None:
        os.umask(mask)
