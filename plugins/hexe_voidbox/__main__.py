"""``python3 -m hexe_voidbox``: build hexe-init (the sandbox's PID 1) now and print its path."""

from hexe_voidbox.initbin import main

raise SystemExit(main())
