# A stdout callback for the parity tests: the whole run as one JSON document on stdout, in the
# shape of the json callback of the ansible.posix collection (plays → tasks → hosts, stats), which
# ansible-core alone does not ship. Each host's result is what the default callback would show
# (no_log censored, internal keys stripped), plus "status": ok, changed, failed, skipped or
# unreachable, and "ignored" when ignore_errors kept a failure from counting. A task's "path" is
# its file:line.
import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: parity_json
    type: stdout
    short_description: the run as one JSON document
    description: plays, tasks and each host's result, then the stats
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "parity_json"

    def __init__(self, display=None):
        super().__init__(display)
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def _start(self, task, handler=False):
        entry = {"task": {"name": task.get_name(), "action": task.action, "path": task.get_path()}, "hosts": {}}
        if handler:
            entry["task"]["handler"] = True
        self.plays[-1]["tasks"].append(entry)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task, handler=True)

    def _record(self, result, status, **extra):
        clean = result.clean_copy()._result
        clean.update(extra)
        clean["status"] = status
        self.plays[-1]["tasks"][-1]["hosts"][result._host.get_name()] = clean

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed", **({"ignored": True} if ignore_errors else {}))

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for h in sorted(stats.processed):
            s = stats.summarize(h)
            hosts[h] = {
                "ok": s["ok"],
                "changed": s["changed"],
                "failed": s["failures"],
                "skipped": s["skipped"],
                "rescued": s["rescued"],
                "ignored": s["ignored"],
                "unreachable": s["unreachable"],
            }
        self._display.display(json.dumps({"plays": self.plays, "stats": hosts}, default=str))
