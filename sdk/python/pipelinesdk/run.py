"""``Run``: the current step run, read from the engine's environment (the protocol is in the package docstring)."""

import csv
import json
import math
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

ENV_RUN_ID = "PIPELINE_RUN_ID"
ENV_PARENT_RUN_ID = "PIPELINE_PARENT_RUN_ID"
ENV_STEP = "PIPELINE_STEP"
ENV_EXPERIMENT = "PIPELINE_EXPERIMENT"
ENV_WORKSPACE = "PIPELINE_WORKSPACE"
ENV_WORKSPACE_NAME = "PIPELINE_WORKSPACE_NAME"
ENV_INPUTS = "PIPELINE_INPUTS"
ENV_OUTPUTS = "PIPELINE_OUTPUTS"
ENV_PARAMS = "PIPELINE_PARAMS"
ENV_METRICS_FILE = "PIPELINE_METRICS_FILE"
ENV_TABULAR = "PIPELINE_TABULAR"
_ENV_NAMES = (ENV_RUN_ID, ENV_PARENT_RUN_ID, ENV_STEP, ENV_EXPERIMENT, ENV_WORKSPACE, ENV_WORKSPACE_NAME,
              ENV_INPUTS, ENV_OUTPUTS, ENV_PARAMS, ENV_METRICS_FILE)

OFFLINE_EXPERIMENT = "offline"
OFFLINE_WORKSPACE = "offline"

# The one piece of global state: the current run, with the environment it was read from.
_current_lock = threading.Lock()
_current = None  # (tuple of the PIPELINE_* values, Run)


@dataclass(frozen=True)
class Workspace:
    """The workspace the run is recorded in: its ``name`` and folder ``path`` (``None`` when unknown)."""
    name: Optional[str]
    path: Optional[str]


@dataclass(frozen=True)
class Experiment:
    """The experiment the pipeline run belongs to."""
    name: Optional[str]
    workspace: Workspace


@dataclass(frozen=True)
class ParentRun:
    """The pipeline run a step run belongs to (``run.parent``)."""
    id: str


class Run:
    """A step run (online) or a script run by hand (offline). Get it with ``Run.get_context()``."""

    def __init__(self, *, run_id, parent_id=None, step=None, experiment=None, inputs=None, outputs=None,
                 parameters=None, metrics_file=None, offline=False, tabular=None):
        self.id = run_id
        self.parent = ParentRun(parent_id) if parent_id else None
        self.step = step
        self.experiment = experiment or Experiment(None, Workspace(None, None))
        self.input_datasets = dict(inputs or {})
        self.output_datasets = dict(outputs or {})
        self.parameters = dict(parameters or {})
        self._tabular = dict(tabular or {})
        self.offline = offline
        self._metrics_file = metrics_file
        self._prefix = "[offline run]" if offline else f"[run {run_id}]"
        self._lock = threading.Lock()
        self._fd = None
        self._metrics = {}  # name -> [family, data]
        self._tags = {}

    # ---- getting the run ----------------------------------------------------------------------

    @classmethod
    def get_context(cls, allow_offline=True):
        """The current run: the step run the engine started, or an offline run when run by hand.

        The run is read from the environment once and cached; ``allow_offline=False`` raises
        ``RuntimeError`` instead of returning an offline run.
        """
        global _current
        key = tuple(os.environ.get(name) for name in _ENV_NAMES)
        with _current_lock:
            if _current is None or _current[0] != key:
                run = cls._from_environ(os.environ)
                if _current is not None:
                    _current[1]._close()
                _current = (key, run)
            run = _current[1]
        if run.offline and not allow_offline:
            raise RuntimeError(f"not running as a pipeline step ({ENV_RUN_ID} is not set) and allow_offline=False")
        return run

    @classmethod
    def _from_environ(cls, environ):
        run_id = environ.get(ENV_RUN_ID)
        if not run_id:
            return cls(run_id=f"OfflineRun_{uuid.uuid4()}", offline=True,
                       experiment=Experiment(OFFLINE_EXPERIMENT, Workspace(OFFLINE_WORKSPACE, None)))
        workspace = Workspace(environ.get(ENV_WORKSPACE_NAME) or None, environ.get(ENV_WORKSPACE) or None)
        return cls(
            run_id=run_id,
            parent_id=environ.get(ENV_PARENT_RUN_ID) or None,
            step=environ.get(ENV_STEP) or None,
            experiment=Experiment(environ.get(ENV_EXPERIMENT) or None, workspace),
            inputs=_json_env(environ, ENV_INPUTS),
            outputs=_json_env(environ, ENV_OUTPUTS),
            parameters=_json_env(environ, ENV_PARAMS),
            metrics_file=environ.get(ENV_METRICS_FILE) or None,
            tabular=json.loads(environ.get(ENV_TABULAR) or "{}"),
        )

    def __repr__(self):
        return f"Run(id={self.id!r}, step={self.step!r}, experiment={self.experiment.name!r})"

    # ---- logging ------------------------------------------------------------------------------

    def log(self, name, value, description=""):
        """Log a number, string or bool; logging the same name again adds a point to a series.

        ``description`` is accepted for Azure ML compatibility and not recorded.
        """
        _check_name(name)
        value = _scalar(name, value)
        self._record("metric", name, value, lambda: f"{name} = {_show(value)}")

    def log_list(self, name, values, description=""):
        """Log a list of numbers, strings or bools (logging the name again extends it)."""
        _check_name(name)
        values = _plain(values)
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise TypeError(f"metric {name!r}: log_list needs a list of values, got {type(values).__name__}")
        values = [_scalar(name, v) for v in values]
        self._record("list", name, values, lambda: f"{name} = {_show(values)}")

    def log_row(self, name, **values):
        """Log one row of the table ``name``: ``run.log_row("per_class", **{"class": "a", "f1": 0.9})``."""
        _check_name(name)
        if not values:
            raise ValueError(f"metric {name!r}: log_row needs at least one column")
        row = {column: _cell(name, value) for column, value in values.items()}
        self._record("row", name, row, lambda: f"{name} (row): {_show(row)}")

    def log_table(self, name, value, description=""):
        """Log a table: a dict mapping column names to equal-length lists of cells."""
        _check_name(name)
        if not isinstance(value, dict):
            raise TypeError(f"metric {name!r}: log_table needs a dict of column name -> list, "
                            f"got {type(value).__name__}")
        if not value:
            raise ValueError(f"metric {name!r}: log_table needs at least one column")
        table = {}
        for column, cells in value.items():
            _check_name(column, f"column of table {name!r}")
            cells = _plain(cells)
            if isinstance(cells, (str, bytes, dict)) or not hasattr(cells, "__iter__"):
                raise TypeError(f"metric {name!r}: column {column!r} must be a list, got {type(cells).__name__}")
            table[column] = [_cell(name, c) for c in cells]
        lengths = {column: len(cells) for column, cells in table.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"metric {name!r}: columns must have equal lengths, got "
                             + ", ".join(f"{c}={n}" for c, n in lengths.items()))
        rows = next(iter(lengths.values()))
        self._record("table", name, table, lambda: f"{name} (table, {rows} rows): {_show(table)}")

    def log_image(self, name, path=None, plot=None, description=""):
        """Log an image file (``path``, which must exist) or a matplotlib figure (``plot``).

        A figure is saved to ``./logs/<name>.png`` first (the engine keeps ./logs as artifacts).
        """
        _check_name(name)
        if (path is None) == (plot is None):
            raise TypeError(f"metric {name!r}: log_image needs exactly one of path or plot")
        if plot is not None:
            path = os.path.join("logs", _safe_file_name(name) + ".png")
            os.makedirs("logs", exist_ok=True)
            plot.savefig(path)
        path = os.path.abspath(os.fspath(path))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"metric {name!r}: image file {path} does not exist")
        self._record("image", name, path, lambda: f"{name} (image) = {path}")

    def tag(self, key, value=None):
        """Set one tag (``value`` ``None`` makes an empty tag, as in Azure ML)."""
        self.set_tags({key: value})

    def set_tags(self, tags):
        """Set several tags from a dict; a later tag of the same name replaces the earlier one."""
        if not isinstance(tags, dict):
            raise TypeError(f"set_tags needs a dict, got {type(tags).__name__}")
        clean = {}
        for key, value in tags.items():
            _check_name(key, "tag")
            value = _plain(value)
            if value is None:
                value = ""
            elif isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"tag {key!r}: {value} is not a finite number")
            elif not isinstance(value, (str, int, float)):
                raise TypeError(f"tag {key!r}: value of type {type(value).__name__} is not a string, number or bool")
            clean[key] = value if isinstance(value, str) else str(value)
        if not clean:
            return
        line = {"kind": "tags", "value": clean}
        with self._lock:
            self._tags.update(clean)
            self._emit(line, lambda: "tags: " + ", ".join(f"{k}={v}" for k, v in clean.items()))

    def get_tags(self):
        """The tags this process set."""
        with self._lock:
            return dict(self._tags)

    def get_metrics(self):
        """What this process logged: name -> value, or list of values for a series.

        Metrics give their value (a list once logged twice), lists the list, rows and tables a dict
        of column -> list of cells, images the path (a list once logged twice).
        """
        with self._lock:
            result = {}
            for name, (family, data) in self._metrics.items():
                if family in ("metric", "image"):
                    result[name] = data[0] if len(data) == 1 else list(data)
                elif family == "list":
                    result[name] = list(data)
                else:
                    result[name] = {column: list(cells) for column, cells in data["columns"].items()}
            return result

    # ---- files --------------------------------------------------------------------------------

    def upload_file(self, name, path_or_stream):
        """Copy a file (a path, or a binary or text stream) to ``./outputs/<name>``; returns the destination.

        ``name`` is a relative path; a leading ``outputs/`` is accepted (the Azure ML idiom
        ``upload_file("outputs/model.pkl", ...)``) and not doubled.
        """
        relative = _artifact_name(name)
        destination = os.path.abspath(os.path.join("outputs", relative))
        if isinstance(path_or_stream, (str, os.PathLike)):
            source = os.fspath(path_or_stream)
            if not os.path.isfile(source):
                raise FileNotFoundError(f"upload_file {name!r}: {source} is not a file")
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            if not (os.path.exists(destination) and os.path.samefile(source, destination)):
                shutil.copyfile(source, destination)
        elif callable(getattr(path_or_stream, "read", None)):
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            with open(destination, "wb") as out:
                while True:
                    chunk = path_or_stream.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        else:
            raise TypeError(f"upload_file {name!r}: needs a path or a readable stream, "
                            f"got {type(path_or_stream).__name__}")
        if self.offline:
            with self._lock:
                print(f"{self._prefix} uploaded {name} -> {os.path.relpath(destination)}", flush=True)
        return destination

    def read_rows(self, name):
        """Rows of the input ``name`` as dicts. For a TabularDataset, with the delimiter, header and
        encoding it declares and each value converted to its inferred column type (int, float, bool,
        str; an empty field is None), over all its files. Otherwise csv.DictReader over the input's CSV
        file, or over every ``*.csv`` below its folder, in sorted relative-path order."""
        schema = self.tabular_schema(name)
        if schema is None:
            files = _csv_files(self._input_path(name))

            def rows():
                for file in files:
                    with open(file, newline="", encoding="utf-8-sig") as f:
                        yield from csv.DictReader(f)
            return rows()
        files = _all_files(self._input_path(name))
        columns = [(c["Name"], _CONVERTERS[c["Type"]]) for c in schema["Columns"]]

        def typed_rows():
            for file in files:
                with open(file, newline="", encoding=schema["Encoding"]) as f:
                    reader = csv.reader(f, delimiter=schema["Delimiter"])
                    if schema["Header"]:
                        next(reader, None)
                    for record in reader:
                        if record:
                            yield {name: (convert(value) if value != "" else None) for (name, convert), value in zip(columns, record)}
        return typed_rows()

    def tabular_schema(self, name):
        """The schema the engine inferred for TabularDataset input ``name`` (Delimiter, Header, Encoding,
        Columns with Name and Type, Rows), or None for any other input."""
        return self._tabular.get(name)

    def read_dataframe(self, name, **read_csv_args):
        """The input ``name`` as one pandas DataFrame (its CSV files concatenated in read_rows order)."""
        try:
            import pandas
        except ImportError as error:
            raise ImportError("Run.read_dataframe needs pandas, which is not installed in this Python "
                              "(pip install pandas); Run.read_rows(name) yields the same rows as dicts "
                              "with the standard library only") from error
        schema = self.tabular_schema(name)
        if schema is None:
            files = _csv_files(self._input_path(name))
        else:
            # A TabularDataset's own format, unless the caller says otherwise.
            files = _all_files(self._input_path(name))
            read_csv_args.setdefault("sep", schema["Delimiter"])
            read_csv_args.setdefault("encoding", schema["Encoding"])
            if not schema["Header"]:
                read_csv_args.setdefault("header", None)
                read_csv_args.setdefault("names", [c["Name"] for c in schema["Columns"]])
        frames = [pandas.read_csv(file, **read_csv_args) for file in files]
        return frames[0] if len(frames) == 1 else pandas.concat(frames, ignore_index=True)

    def complete(self):
        """Close the metrics file (Azure ML compatibility; the engine records the end of the run itself)."""
        with self._lock:
            self._close_locked()

    # ---- internals ----------------------------------------------------------------------------

    def _input_path(self, name):
        if name in self.input_datasets:
            return self.input_datasets[name]
        if self.offline:
            raise KeyError(f"no input {name!r}: an offline run has no inputs (the engine passes them in {ENV_INPUTS})")
        known = ", ".join(sorted(self.input_datasets)) or "none"
        raise KeyError(f"no input {name!r} in this step (inputs: {known})")

    def _record(self, kind, name, value, display):
        family = "table" if kind == "row" else kind
        with self._lock:
            entry = self._metrics.get(name)
            if entry is not None and entry[0] != family:
                raise ValueError(f"metric {name!r} was logged as a {entry[0]}; it cannot also be a {family} "
                                 f"(use another name)")
            line = {"kind": kind, "name": name, "path" if kind == "image" else "value": value}
            self._emit(line, display)  # write first: a failed write records nothing
            if entry is None:
                entry = self._metrics[name] = [family, {"columns": {}, "rows": 0} if family == "table" else []]
            if family == "metric" or family == "image":
                entry[1].append(value)
            elif family == "list":
                entry[1].extend(value)
            else:
                _append_rows(entry[1], [value] if kind == "row" else _rows_of(value))

    def _emit(self, line, display):
        """Write one protocol line (or print it); called with the lock held."""
        if self._metrics_file is None:
            print(f"{self._prefix} {display()}", flush=True)
            return
        line["time"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        data = (json.dumps(line, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
        if self._fd is None:
            parent = os.path.dirname(os.path.abspath(self._metrics_file))
            os.makedirs(parent, exist_ok=True)
            self._fd = os.open(self._metrics_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        written = 0
        while written < len(data):  # one write() for a regular file; loop in case of a short write
            written += os.write(self._fd, data[written:])

    def _close(self):
        with self._lock:
            self._close_locked()

    def _close_locked(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# ---- helpers --------------------------------------------------------------------------------------

def _json_env(environ, variable):
    text = environ.get(variable)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{variable} is not valid JSON: {error}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"{variable} must be a JSON object of strings to strings, got {text[:200]}")
    return value


def _check_name(name, what="metric"):
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a string, got {type(name).__name__}")
    if not name.strip():
        raise ValueError(f"{what} name must be a non-empty string")


def _plain(value):
    """NumPy-like scalars and arrays (anything with tolist()) to plain Python values."""
    if value is None or isinstance(value, (str, bool, int, float, list, tuple, dict)):
        return value
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


def _scalar(name, value):
    value = _plain(value)
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"metric {name!r}: {value} is not a finite number (JSON has no NaN or infinity)")
        return value
    if isinstance(value, (list, tuple, dict)):
        raise TypeError(f"metric {name!r}: a {type(value).__name__} is not a number, string or bool "
                        f"(log_list, log_row and log_table take several values)")
    raise TypeError(f"metric {name!r}: value of type {type(value).__name__} is not JSON-serializable "
                    f"as a number, string or bool")


def _cell(name, value):
    value = _plain(value)
    return None if value is None else _scalar(name, value)


def _rows_of(table):
    columns = list(table)
    return [dict(zip(columns, cells)) for cells in zip(*table.values())]


def _append_rows(data, rows):
    columns = data["columns"]
    for row in rows:
        for column in row:
            if column not in columns:
                columns[column] = [None] * data["rows"]
        for column, cells in columns.items():
            cells.append(row.get(column))
        data["rows"] += 1


def _show(value):
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    return repr(value)


def _artifact_name(name):
    if not isinstance(name, str):
        raise TypeError(f"upload_file name must be a string, got {type(name).__name__}")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or os.path.isabs(name) or ".." in parts:
        raise ValueError(f"upload_file name {name!r} must be a relative path inside ./outputs")
    if parts[0] == "outputs" and len(parts) > 1:
        parts = parts[1:]
    return os.path.join(*parts)


def _safe_file_name(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "image"


_CONVERTERS = {"int": int, "float": float, "bool": lambda v: v.lower() == "true", "string": str}


def _all_files(path):
    if os.path.isfile(path):
        return [path]
    found = []
    for folder, _, files in os.walk(path):
        found.extend(os.path.relpath(os.path.join(folder, f), path).replace(os.sep, "/") for f in files)
    return [os.path.join(path, relative) for relative in sorted(found)]


def _csv_files(path):
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"input path {path} does not exist")
    found = []
    for folder, _, files in os.walk(path):
        for file in files:
            if file.lower().endswith(".csv"):
                found.append(os.path.relpath(os.path.join(folder, file), path).replace(os.sep, "/"))
    if not found:
        raise FileNotFoundError(f"no *.csv files under {path}")
    return [os.path.join(path, relative) for relative in sorted(found)]
