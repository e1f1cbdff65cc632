"""`python -m dashboard [--address A] [--port P]`: the dashboard on 127.0.0.1 wherever it is started from."""

from dashboard.launch import main

main()
