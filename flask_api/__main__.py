"""``python -m flask_api``: Flask's development server, for trying the app on the host."""

from .cli import main

main()
