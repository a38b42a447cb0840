"""Use-cases shared by the CLI, and later the web app and the API: they call these unchanged."""
