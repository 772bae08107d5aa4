"""``voicedsp serve``: run the call platform as a process with an HTTP control plane."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "serve",
        help="run the call platform: HTTP control plane + media WebSockets + local model",
        description="Run the voicedsp call platform as a process: an HTTP control plane with "
        "the ClutchCall wire shape (POST /voice.calls.originate, GET /voice.calls.get, POST "
        "/voice.agents.attach, ...; bearer API keys per organization), the media WebSocket "
        "server (Twilio Media Streams caller legs at /twilio, events, audio bridges) and, "
        "unless --model-url is given, the local Realtime-protocol speech model.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    p.add_argument("--port", type=int, default=8080, help="control-plane port (0 = any)")
    p.add_argument("--media-port", type=int, default=0, help="media WebSocket port (0 = any)")
    p.add_argument("--api-key", action="append", metavar="ORG:KEY",
                   help="an API key and its organization (repeatable; also "
                   "VOICEDSP_API_KEYS=org:key,org2:key2); none given: one key is generated "
                   "for organization 'default' and printed")
    p.add_argument("--max-calls", type=int, default=1000, help="calls beyond this are refused")
    p.add_argument("--model-url", default=None,
                   help="Realtime-protocol model WebSocket URL (default: local model)")
    p.add_argument("--model-api-key", default=None, help="the model's API key (Bearer)")
    p.add_argument("--local-model", choices=["speak", "echo"], default="speak",
                   help="what the local model answers with (espeak-ng speech or an echo)")
    p.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto",
                   help="event loop (auto: uvloop when installed; it cuts the platform's CPU "
                   "per call-frame, see BENCHMARKS.md)")
    p.add_argument("-v", "--verbose", action="store_true", help="log each call")
    return p


def run(args) -> int:
    from voicedsp.platform.server import default_keys, parse_api_keys, serve

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("websockets").setLevel(logging.WARNING)
    keys = parse_api_keys(args.api_key) if args.api_key else default_keys()
    if args.max_calls < 1:
        raise ValueError("--max-calls must be at least 1")

    def ready(url, platform):
        print(f"voicedsp serve: control plane {url}", flush=True)
        print(f"voicedsp serve: media {platform.media_url} (Twilio Media Streams at "
              f"{platform.twilio_url})", flush=True)
        print(f"voicedsp serve: model {platform.model_url}", flush=True)
        if not args.api_key and "VOICEDSP_API_KEYS" not in __import__("os").environ:
            for k, org in keys.items():
                print(f"voicedsp serve: API key for organization {org!r}: {k}", flush=True)
        print("voicedsp serve: ready", flush=True)

    if args.loop != "asyncio":
        try:
            import uvloop

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        except ImportError:
            if args.loop == "uvloop":
                raise ValueError("--loop uvloop: uvloop is not installed "
                                 "(pip install uvloop)") from None
    try:
        asyncio.run(serve(args.host, args.port, media_port=args.media_port, api_keys=keys,
                          max_calls=args.max_calls, model_url=args.model_url,
                          model_api_key=args.model_api_key,
                          local_model={"mode": args.local_model}, ready=ready))
    except KeyboardInterrupt:
        pass
    print("voicedsp serve: stopped", file=sys.stderr)
    return 0
