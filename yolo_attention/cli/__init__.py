"""The `yolo-attn` command line.

main.py holds the group, one ``*_cmd.py`` file each command family, overrides.py the one ``key=value`` parser and
errors.py the one error path. ``import yolo_attention`` imports nothing from here.
"""
