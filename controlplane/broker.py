"""A private Redis-compatible server for laptops without Redis (`make run` starts it).

It keeps everything in memory; production installations point REDIS_URL at a real Redis."""

import argparse
import signal
import sys

from fakeredis import TcpFakeServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6390)
    args = parser.parse_args()
    try:
        server = TcpFakeServer((args.host, args.port), server_type="redis")
    except OSError as exc:
        print(f"broker: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"broker: Redis-compatible server on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
