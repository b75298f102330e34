"""The applications behind the command line: `voxtrio run` and `voxtrio console`."""
