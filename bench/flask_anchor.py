"""The plain Flask design, as the anchor for runbox serve's load figures: a
minimal Flask app that, per request, writes the runbook's script to a fresh
temp directory, runs it with a shell through subprocess, captures its
output and answers JSON. No token check, no sandbox, no records: the
cheapest version of that design.

    python3 bench/flask_anchor.py DIR PORT
"""
import json
import os
import re
import subprocess
import sys
import tempfile

from flask import Flask, request

app = Flask(__name__)
RUNBOOKS = sys.argv[1]


def script_of(name):
    with open(os.path.join(RUNBOOKS, os.path.basename(name)), encoding="utf-8") as f:
        text = f.read()
    match = re.search(r"```(?:sh|bash|zsh)\n(.*?)```", text, re.S)
    return match.group(1) if match else ""


@app.post("/api/runbooks/<name>/execute")
def execute(name):
    script = script_of(name)
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "temp.sh")
        with open(path, "w", encoding="utf-8") as f:
            f.write(script)
        os.chmod(path, 0o700)
        done = subprocess.run(["bash", path], cwd=work, capture_output=True, text=True, timeout=30)
    return json.dumps({"return_code": done.returncode, "stdout": done.stdout, "stderr": done.stderr})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[2]), threaded=True)
