"""How many lines `frameforge up` prints for a start and a few jobs.

    python bench/console.py [--jobs 3] [--seconds 10] [--linger 20] [-- UP OPTIONS]

Starts `frameforge up` on free ports in a temporary data dir, with its console (stdout and
stderr) in a file, registers a user, uploads a generated 640x360 clip per job and asks for
its frames (1, 2, 3... fps: one rendition each), polls each job until it ends as a client
does, waits ``--linger`` seconds more (what the stack prints while idle: sensor ticks,
heartbeats), stops it with Ctrl-C and counts the console's lines (the figure before the
console was quieted, 477, came from the same steps on the commit before it).
Options after ``--`` go to `frameforge up` (``--verbose``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from frameforge.demo import Api, running_stack
from frameforge_pipeline.samples import write_clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--linger", type=float, default=20)
    parser.add_argument("up", nargs="*", help="options for `frameforge up`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FRAMEFORGE_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("DAGSTER_HOME", None)
        clip = Path(tmp) / "clip.mp4"
        write_clip(clip, seconds=args.seconds, size=(640, 360))
        console = Path(tmp) / "console.log"
        with running_stack(console, extra=args.up) as stack:
            api = Api(stack.api)
            account = {"email": "console@example.com", "password": "count the lines 1"}
            api.call("POST", "/api/v1/auth/register", account)
            api.token = api.call("POST", "/api/v1/auth/login", account)["accessToken"]
            data = clip.read_bytes()
            jobs = []
            for n in range(args.jobs):
                slot = api.call(
                    "POST",
                    "/api/v1/videos/upload-url",
                    {
                        "filename": f"clip{n}.mp4",
                        "contentType": "video/mp4",
                        "sizeBytes": len(data),
                    },
                )
                api.call("PUT", slot["uploadUrl"], raw=data)
                body = {"videoId": slot["videoId"], "options": {"fps": n + 1}}
                jobs.append(api.call("POST", "/api/v1/videos/jobs", body)["jobId"])
            for job in jobs:
                while api.call("GET", f"/api/v1/videos/jobs/{job}")["status"] not in (
                    "completed", "failed", "cancelled"
                ):  # fmt: skip
                    time.sleep(1)
            time.sleep(args.linger)
        lines = console.read_text(errors="replace").splitlines()
    skipped = sum("skipped" in line for line in lines)
    print(f"{len(lines)} console lines for a start and {args.jobs} jobs ({skipped} 'skipped')")


if __name__ == "__main__":
    main()
