"""Measure how many list pages per second the sandbox serves.

    .venv/bin/python -m ordway_sandbox.measure [--invoices 5000] [--seconds 5]
    .venv/bin/python -m ordway_sandbox.measure --customers 200 --seed 42

Starts the server as a subprocess (``SandboxProcess``), then requests pages of 50 invoices
(``sort=updated_date,id``, as the dlt source does) over and over: first with one keep-alive httpx
client, then with 4 and with 8 concurrent clients (one keep-alive connection each). Bodies are read
but not parsed, so the figure is the server's, not the client's JSON decoding. By default the
tenant is synthetic invoices of realistic size (3 lines each, ~1.9 kB); ``--customers`` serves a
generated tenant instead.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

from ordway_sandbox.process import SandboxProcess

PAGE_SIZE = 50


def synthetic_invoices(count: int) -> dict[str, Any]:
    """``count`` invoices shaped like the generator's, with three line items each."""
    invoices = []
    for n in range(1, count + 1):
        lines = [
            {
                "line_no": str(line),
                "subscription_id": f"S-{n:05d}",
                "subscription_line_id": f"SCHG-{line:02d}",
                "charge_id": f"CHG-{line:05d}",
                "product_id": f"P-{line:05d}",
                "plan_id": "PLN-00001",
                "charge_type": "recurring",
                "description": "Platform fee, per seat per month",
                "start_date": "2024-03-01",
                "end_date": "2024-03-31",
                "unit_price": "100.00",
                "list_price": "100.00",
                "quantity": 12.0,
                "discount": 0.0,
                "effective_price": "1200.00",
                "line_tax": "120.00",
                "taxable": True,
                "tax_lines": [],
                "applied_tiers": "",
            }
            for line in range(1, 4)
        ]
        invoices.append(
            {
                "id": f"INV-{n:05d}",
                "customer_id": f"C-{n % 997:05d}",
                "customer_name": f"Customer {n % 997}",
                "billing_contact": f"CT-{n % 997:05d}",
                "invoice_date": "2024-03-01",
                "due_date": "2024-03-31",
                "start_date": "2024-03-01",
                "end_date": "2024-03-31",
                "subtotal": "3600.00",
                "invoice_tax": "360.00",
                "invoice_amount": "3960.00",
                "paid_amount": "0.00",
                "balance": "3960.00",
                "status": "Posted",
                "currency": "USD",
                "exchange_rate": 1.0,
                "payment_terms": "Net 30",
                "line_items": lines,
                "payments": [],
                "credits": [],
                "created_date": "2024-03-01T00:00:00.000Z",
                "updated_date": f"2024-03-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:"
                f"{n % 60:02d}.{n % 1000:03d}Z",
                "created_by": "system@ordwaylabs.com",
                "updated_by": "system@ordwaylabs.com",
            }
        )
    return {"invoices": invoices}


def run_clients(sandbox: SandboxProcess, clients: int, seconds: float, pages: int) -> float:
    """Pages per second served to ``clients`` concurrent keep-alive clients."""
    served = [0] * clients
    deadline = time.monotonic() + seconds
    errors: list[str] = []

    def work(index: int) -> None:
        with sandbox.client() as client:
            page = index % pages + 1
            while time.monotonic() < deadline:
                response = client.get(
                    "/invoices", params={"sort": "updated_date,id", "size": PAGE_SIZE, "page": page}
                )
                if response.status_code != 200 or not response.content.startswith(b"[{"):
                    errors.append(f"page {page}: HTTP {response.status_code}")
                    return
                served[index] += 1
                page = page % pages + 1

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"measurement failed: {errors[0]}")
    return sum(served) / (time.monotonic() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=5000, help="synthetic invoices to serve")
    parser.add_argument("--customers", type=int, help="serve a generated tenant instead")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each run")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 4, 8])
    args = parser.parse_args(argv)

    if args.customers:
        sandbox = SandboxProcess(["--customers", str(args.customers), "--seed", str(args.seed)])
    else:
        sandbox = SandboxProcess(tenant=synthetic_invoices(args.invoices))
    with sandbox:
        with sandbox.client() as client:
            invoices = pages = 0
            while batch := len(
                client.get("/invoices", params={"size": PAGE_SIZE, "page": pages + 1}).json()
            ):
                invoices += batch
                pages += 1
        print(f"serving {invoices} invoices = {pages} pages of {PAGE_SIZE}")
        for clients in args.concurrency:
            rate = run_clients(sandbox, clients, args.seconds, pages)
            label = "1 keep-alive client" if clients == 1 else f"{clients} concurrent clients"
            print(f"{label}: {rate:,.0f} pages/s ({rate * PAGE_SIZE:,.0f} invoices/s)", flush=True)


if __name__ == "__main__":
    main()
