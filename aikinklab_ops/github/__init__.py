"""The one place that talks to GitHub: the REST API (PyGithub) and the Actions runtime files."""
