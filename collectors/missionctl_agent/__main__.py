"""`python -m missionctl_agent` is the same as the `missionctl-agent` script."""

from missionctl_agent.cli import main

raise SystemExit(main())
