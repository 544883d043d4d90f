"""`make webhooks`: the webhook receiver on ``WEBHOOK_HOST:WEBHOOK_PORT`` (uvicorn).

    python -m pipelines.webhooks [--env-file .env] [--port N]

Needs ``WEBHOOK_SECRET``; stores deliveries in ``WEBHOOK_DB_PATH`` (see README, "Near real time
(webhooks)"). Point the Ordway webhook at ``http://<host>:<port>/ordway/webhooks`` (behind your
TLS proxy) with the custom header ``WEBHOOK_SECRET_HEADER: <WEBHOOK_SECRET>``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from pipelines.config import ConfigError, required, value
from pipelines.webhooks.app import PATH, build_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.webhooks", description=__doc__)
    parser.add_argument("--env-file", help="dotenv file to load first (the file wins)")
    parser.add_argument("--port", type=int, help="overrides WEBHOOK_PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if args.env_file:
        from dotenv import load_dotenv

        load_dotenv(args.env_file, override=True)  # the file wins, as in `make run`
    try:
        secret = required("WEBHOOK_SECRET", "the shared secret Ordway sends with each webhook")
        header = value("WEBHOOK_SECRET_HEADER")
        host = value("WEBHOOK_HOST")
        port = args.port or value("WEBHOOK_PORT")
        db_path = value("WEBHOOK_DB_PATH")
    except ConfigError as exc:
        print(f"webhook receiver: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    app = build_app(secret, header, db_path)
    logging.getLogger("pipelines.webhooks").info(
        "receiving Ordway webhooks at http://%s:%d%s (secret header %s), storing in %s",
        host,
        port,
        PATH,
        header,
        db_path,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
