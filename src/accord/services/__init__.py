"""Use cases shared by the CLI, the API and the console: thin layers over the engine."""
