"""Run a command and write its wall ms, CPU ms (user + sys) and peak RSS KiB to a file.

`python3 rusage.py OUT cmd args...`: the child's own rusage (os.wait4), at microsecond
resolution (GNU time prints CPU seconds to two decimals, too coarse for a start-up of tens of ms).
"""
import json
import os
import sys
import time

out, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall_ms = (time.perf_counter() - t0) * 1000
with open(out, "w") as f:
    json.dump({"wallMs": wall_ms, "cpuMs": (ru.ru_utime + ru.ru_stime) * 1000, "maxRssKiB": ru.ru_maxrss}, f)
sys.exit(os.waitstatus_to_exitcode(status))
