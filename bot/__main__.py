"""python -m bot → the wgbot command line."""
from bot.cli import main

raise SystemExit(main())
