"""Model surgery: where attention goes, inserting and removing it in YAML dicts, layer correspondence, weight transfer.

- ``where.py``: a placement name (``backbone``, ``neck``) or indices -> the original layers to attend.
- ``yaml_edit.py``: insert / remove attention layers in a model YAML dict, shifting every ``from`` index.
- ``model_yaml.py``: write a generated model YAML that Ultralytics rebuilds at the right scale.
- ``insert.py``: one line from a baseline model, checkpoint or YAML to the same model with attention.
- ``correspondence.py``: which layers are attention / backbone / neck / head; source <-> destination layer map.
- ``transfer.py``: pretrained weights into an attention model by layer correspondence, identity-safe new layers.
- ``transfer_report.py``: what a transfer moved, dropped and left unfilled, counted and printed.
"""
