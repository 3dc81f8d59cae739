"""
Builds the payload of a user's Ansible module (a module in a `library/` directory) with
ansible-core's own `ansible.executor.module_common.modify_module`: the AnsiballZ wrapper with
the module_utils the module imports and the arguments embedded, as ansible-playbook sends it.

Reads one JSON request on stdin (so no argument is on a command line):
  {"name", "path", "args", "check", "diff", "no_log", "tmpdir", "interpreter"}
Writes the payload's bytes on stdout. Exit 3 with a line on stderr when the module is not one
ansible-core wraps in AnsiballZ; 1 when ansible-core fails (its message, never the arguments).
"""
import json
import sys


def internal_args(request):
    """The `_ansible_*` arguments ansible-core's action base adds (_update_module_args)."""
    from ansible import constants as C
    from ansible.release import __version__

    return {
        "_ansible_check_mode": bool(request["check"]),
        "_ansible_no_log": bool(request["no_log"]),
        "_ansible_debug": False,
        "_ansible_diff": bool(request["diff"]),
        "_ansible_verbosity": 0,
        "_ansible_version": __version__,
        "_ansible_module_name": request["name"],
        "_ansible_syslog_facility": getattr(C, "DEFAULT_SYSLOG_FACILITY", "LOG_USER"),
        "_ansible_selinux_special_fs": getattr(C, "DEFAULT_SELINUX_SPECIAL_FS", []),
        "_ansible_string_conversion_action": getattr(C, "STRING_CONVERSION_ACTION", "warn"),
        "_ansible_shell_executable": "/bin/sh",
        "_ansible_keep_remote_files": False,
        "_ansible_tmpdir": request["tmpdir"],
        "_ansible_remote_tmp": "~/.ansible/tmp",
    }


def main():
    request = json.load(sys.stdin)
    try:
        from ansible import constants as C
        from ansible.executor.module_common import modify_module
        from ansible.parsing.dataloader import DataLoader
        from ansible.template import Templar
    except ImportError as e:
        sys.stderr.write("ansible-core is not importable: %s\n" % e)
        return 1
    args = dict(request["args"])
    args.update(internal_args(request))
    templar = Templar(loader=DataLoader())
    task_vars = {"ansible_python_interpreter": request["interpreter"]}
    try:
        data, style, _shebang = modify_module(
            request["name"],
            request["path"],
            args,
            templar,
            task_vars=task_vars,
            module_compression=C.DEFAULT_MODULE_COMPRESSION,
        )
    except Exception as e:  # ansible-core's own error about the module, without the arguments
        sys.stderr.write("%s: %s\n" % (type(e).__name__, e))
        return 1
    if style != "new":
        sys.stderr.write("module style %s is not an AnsiballZ module\n" % style)
        return 3
    sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
