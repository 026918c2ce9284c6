"""`python -m riskapp.cli`, as tests start it."""

from riskapp.cli.main import main

main()
