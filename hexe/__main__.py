from hexe.cli import main

raise SystemExit(main())
