"""pipelinesdk: the step side of PipelineSdk, the counterpart of Azure ML SDK v1's ``Run``.

A step script gets its run the way an Azure ML script does::

    from pipelinesdk import Run

    run = Run.get_context()
    run.log("accuracy", 0.93)                       # logging again adds a point to a series
    run.log_list("losses", [0.9, 0.5, 0.3])
    run.log_row("per_class", **{"class": "setosa", "f1": 0.97})
    run.log_table("confusion", {"actual": ["a", "b"], "predicted": ["a", "a"]})
    run.log_image("roc", "roc.png")
    run.set_tags({"team": "vision"}); run.tag("stage", "dev")
    run.upload_file("model.json", "model.json")     # copied to ./outputs/model.json

    run.id, run.parent.id, run.step, run.experiment.name, run.experiment.workspace.path
    run.input_datasets["raw"]      # local path of an input (file or folder)
    run.output_datasets["clean"]   # folder to write an output into
    run.parameters["learning_rate"]  # string value
    for row in run.read_rows("raw"): ...   # csv.DictReader over the input's *.csv files
    run.read_dataframe("raw")              # the same as one pandas DataFrame (needs pandas)

Outside the engine (plain ``python train.py``) ``Run.get_context()`` returns an offline run (id
``OfflineRun_<uuid>``) that prints every logged value (``[offline run] accuracy = 0.93``) and writes
no metrics file, so scripts stay runnable by hand. Standard library only (Python 3.11).

The protocol
============

The engine starts every step with its working directory set to a copy of the step's snapshot, puts
the folder holding this package on ``PYTHONPATH``, and sets these environment variables:

==========================  ===========================================================================
``PIPELINE_RUN_ID``         this step run's id. Unset or empty: the script runs offline (by hand).
``PIPELINE_PARENT_RUN_ID``  the pipeline run's id (``run.parent.id``).
``PIPELINE_STEP``           the step's name (``run.step``).
``PIPELINE_EXPERIMENT``     the experiment's name (``run.experiment.name``).
``PIPELINE_WORKSPACE``      the workspace folder (``run.experiment.workspace.path``).
``PIPELINE_WORKSPACE_NAME`` the workspace's name (``run.experiment.workspace.name``).
``PIPELINE_INPUTS``         JSON object ``{input name: local path}`` (a file or a folder).
``PIPELINE_OUTPUTS``        JSON object ``{output name: folder to write the output into}``.
``PIPELINE_PARAMS``         JSON object ``{parameter name: value as a string}``.
``PIPELINE_METRICS_FILE``   path of the JSON-lines file the step appends what it logs to.
==========================  ===========================================================================

Missing variables read as ``None`` (names) or ``{}`` (the JSON objects). A JSON variable that is not an
object of strings to strings makes ``Run.get_context()`` raise ``ValueError`` naming the variable.

The metrics file is opened for appending (``O_APPEND``, created if missing) and every call writes
exactly one line, one JSON object in UTF-8 (ASCII-escaped), in a single ``write``: nothing is
buffered, so a step that crashes keeps everything it logged. Every line has ``"kind"``, every line but
tags has ``"name"``, and every line has ``"time"`` (ISO-8601 UTC with milliseconds and ``Z``). Keys are
written in this order, without spaces::

    {"kind":"metric","name":"accuracy","value":0.93,"time":"2026-11-26T15:53:06.196Z"}
    {"kind":"list","name":"losses","value":[0.9,0.5,0.3],"time":"..."}
    {"kind":"row","name":"per_class","value":{"class":"setosa","f1":0.97},"time":"..."}
    {"kind":"table","name":"confusion","value":{"actual":["a","b"],"predicted":["a","a"]},"time":"..."}
    {"kind":"image","name":"roc","path":"/abs/path/roc.png","time":"..."}
    {"kind":"tags","value":{"team":"vision","stage":"dev"},"time":"..."}

- ``metric``: value is a number, string or bool; the same name logged again adds a point to a series.
- ``list``: value is a list of numbers, strings or bools (possibly empty); the same name logged again
  extends the list.
- ``row`` and ``table``: value maps column names to one cell (row) or to equal-length lists of cells
  (table); cells are numbers, strings, bools or null. Rows and tables of the same name build one
  table: columns are the union, a cell a line lacks is null.
- ``image``: path is the absolute path of an existing file at the time it was logged; the engine
  copies it into the run's artifacts.
- ``tags``: value maps tag names to strings (``None`` is written as ``""``, numbers and bools as
  ``str(value)``); a later tag of the same name replaces the earlier one.

A name keeps one kind (metric, list, row/table, image) within a process: logging it as another kind
raises ``ValueError``. Names are non-empty strings; numbers must be finite (JSON has no NaN or
infinity). NumPy-like scalars and arrays (anything with ``tolist()``) are converted to plain values.

A run that has an id but no ``PIPELINE_METRICS_FILE`` (an engine that does not collect metrics)
prints what it logs like an offline run, prefixed ``[run <id>]``, so it lands in the step's log.

Files the step writes under ``./outputs`` and ``./logs`` (relative to its working directory) are kept
by the engine as run artifacts; ``run.upload_file(name, path_or_stream)`` copies a file to
``./outputs/<name>``.
"""

from .run import Experiment, ParentRun, Run, Workspace

__all__ = ["Run", "Experiment", "Workspace", "ParentRun"]
__version__ = "0.1.0"
