"""A local imitation of the Ordway REST API v1 with a deterministic synthetic tenant.

- ``server``: the HTTP server (``SandboxApp``, ``SandboxHTTPServer``), one module per concern.
- ``process``: ``SandboxProcess`` (the server as a managed subprocess), ``SandboxThread`` (the
  same server in a thread of this process), ``credentials_env()``.
- ``tenant`` / ``generator`` / ``recognition``: the synthetic tenant generator.
- ``python -m ordway_sandbox generate|serve``: the command line (README.md).

Kept import-free so that starting the server does not import the generator or httpx.
"""
