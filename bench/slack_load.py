"""Slack load on one replica, then two: acks stay under Slack's 3 s, Autotask sees at most 3 calls
in flight per entity from all replicas together.

N simulated people (default 200) at once, each: ``/onboard <company>``, a typeahead
(``block_suggestion``) on the company field, the first page, another typeahead, and the pages up
to the review (a break/fix client; nothing is applied). Requests go to the replicas in turn.
Real ``onboard-bot run`` processes on one PostgreSQL; Autotask is ``onboard-bot sandbox
--latency 1`` in a process of its own; Slack is the local Web API stub. Prints p50 and p99 of the
ack (the HTTP answer to each signed request) per request kind, the p99 ratio two / one replica,
the slowest ack, and the peak Autotask calls in flight per entity the sandbox saw
(``GET /_sandbox/stats``; rejected calls included).

    .venv/bin/python -m bench.slack_load [--users 200] [--latency 1] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from services.autotask.sandbox import build_tenant
from services.store.migrate import upgrade
from tests.onboarding_support import company_id, reset_database
from tests.process import autotask_env, bot_process
from tests.replicas import Person, Slack, people
from tests.slack_stub import SIGNING_SECRET, SlackStub, checkbox, radio, running_stub, select, state

COMPANIES = ["Acme Dental", "Blue Ridge Logistics", "Cedar & Pine Law", "Delta Print Works",
             "Evergreen Montessori", "Fjord Outdoor Supply", "Granite Peak Engineering",
             "Clínica San Rafael", "Hillside Veterinary", "Ironwood Brewing Co"]  # fmt: skip
KINDS = ("command", "typeahead", "page")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def sandbox_process(latency: float) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """``onboard-bot sandbox`` in a process of its own: its base URL and the replicas' settings."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--latency", str(latency),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(base + "/_sandbox/stats") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
        yield base, autotask_env(port)
    finally:
        proc.terminate()
        await proc.wait()


async def one_person(person: Person, company: str, cid: int) -> bool:
    """True when the person reached the review; False when an ack failed (Slack would have shown
    an error) or a page did not come within 30 s, and they gave up."""
    try:
        await _one_person(person, company, cid)
    except (AssertionError, TimeoutError):  # a failed ack, or a page not shown within 30 s
        return False
    return True


async def _one_person(person: Person, company: str, cid: int) -> None:
    view = await person.open(company)
    await person.typeahead("company", company[:3])
    view = await person.submit(view, state(company=select(cid), client_type=radio("break_fix"),
                                           convert_to_customer=checkbox(True)))  # fmt: skip
    await person.typeahead("company", company[:5])
    for _ in range(4):
        view = await person.submit(view, {"values": {}})
    assert view["callback_id"] == "onboard_review", view


async def phase(replicas: int, users: int, url: str, latency: float) -> dict[str, Any]:
    tenant = build_tenant()
    await reset_database(url)
    await upgrade(url)
    stub = SlackStub()
    async with AsyncExitStack() as stack:
        stack.push_async_callback(reset_database, url)
        await stack.enter_async_context(running_stub(stub))
        base, autotask = await stack.enter_async_context(sandbox_process(latency))
        env = {**autotask, "DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-bench",
               "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": stub.url,
               "LOG_LEVEL": "WARNING"}  # fmt: skip
        cwd = Path(tempfile.mkdtemp())
        bots = await asyncio.gather(*(
            stack.enter_async_context(bot_process(cwd, {**env, "REPLICA_ID": f"r{n}"}))
            for n in range(replicas)
        ))  # fmt: skip
        http = await stack.enter_async_context(aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0)))  # fmt: skip
        await asyncio.sleep(2 * latency + 1)  # the start-up reference refresh, as in production
        async with http.post(base + "/_sandbox/stats/reset"):
            pass
        slack = Slack(stub, [b.url + "/slack/events" for b in bots], http)
        emails = sorted(str(r["email"]) for r in tenant.table("Resources").values()
                        if r.get("isActive") and r.get("licenseType") == 1 and r.get("email"))  # fmt: skip
        crowd = people(stub, [emails[n % len(emails)] for n in range(users)], slack)
        started = time.monotonic()
        reached = await asyncio.gather(*(
            one_person(p, COMPANIES[n % len(COMPANIES)], company_id(tenant, COMPANIES[n % len(COMPANIES)]))
            for n, p in enumerate(crowd)
        ))  # fmt: skip
        took = time.monotonic() - started
        async with http.get(base + "/_sandbox/stats") as response:
            stats = await response.json()
        for bot in bots:
            await bot.stop()
    failed = {kind: len(acks) for kind, acks in slack.acks.failed.items()}
    # Bolt answers 200 even when a listener crashed: the replicas' own logs say whether one did.
    errors = [line for bot in bots for line in bot.output if "ERROR" in line or "Traceback" in line]
    return {"acks": dict(slack.acks.seconds), "failed": failed, "stats": stats, "took": took,
            "reached": sum(reached), "errors": errors}  # fmt: skip


def default_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


async def main(users: int, url: str, latency: float) -> int:
    results = {n: await phase(n, users, url, latency) for n in (1, 2)}
    print(f"{users} people at once, Autotask latency {latency:.1f} s; ack times in seconds")
    print(f"{'kind':<10}{'n':>6}{'p50 one':>10}{'p99 one':>10}{'p50 two':>10}{'p99 two':>10}"
          f"{'p99 two/one':>13}")  # fmt: skip
    slowest = 0.0
    for kind in KINDS:
        one, two = results[1]["acks"][kind], results[2]["acks"][kind]
        slowest = max(slowest, *one, *two)
        print(f"{kind:<10}{len(one):>6}{pct(one, 50):>10.3f}{pct(one, 99):>10.3f}"
              f"{pct(two, 50):>10.3f}{pct(two, 99):>10.3f}{pct(two, 99) / pct(one, 99):>13.2f}")  # fmt: skip
    print(f"slowest ack: {slowest:.3f} s ({'under' if slowest < 3 else 'OVER'} Slack's 3 s)")
    for n in (1, 2):
        stats = results[n]["stats"]
        print(
            f"{n} replica(s): acks other than 200: {results[n]['failed'] or 'none'}; "
            f"errors logged: {len(results[n]['errors'])}"
        )
        for line in results[n]["errors"][:5]:
            print(f"  {line}")
        print(f"{n} replica(s): {results[n]['reached']} of {users} people at the review in "
              f"{results[n]['took']:.1f} s; "
              f"Autotask calls {stats['calls']}, peak in flight per entity (arrived, rejected "
              f"included) {stats['peak_arrived']}, thread-limit rejections "
              f"{stats['thread_limit_rejections']}")  # fmt: skip
    peaks = [v for n in (1, 2) for v in results[n]["stats"]["peak_arrived"].values()]
    failed = any(results[n]["failed"] for n in (1, 2))
    errors = any(results[n]["errors"] for n in (1, 2))
    return 0 if slowest < 3 and not (failed or errors) and max(peaks, default=0) <= 3 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--url", default=default_url(), help="PostgreSQL (dropped and re-made)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.users, args.url, args.latency)))
