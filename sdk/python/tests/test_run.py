"""Tests of pipelinesdk.Run. From the repository root: python3 -m unittest discover -s sdk/python/tests -v"""

import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import types
import unittest
from unittest import mock

SDK = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, SDK)

import pipelinesdk  # noqa: E402
import pipelinesdk.run as run_module  # noqa: E402
from pipelinesdk import Run  # noqa: E402

TIME = re.compile(r',"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"}$')


class RunTestCase(unittest.TestCase):
    """Each test runs in an empty temporary working directory with no PIPELINE_* variables."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(_rmtree, self.dir)
        old_cwd = os.getcwd()
        os.chdir(self.dir)
        self.addCleanup(os.chdir, old_cwd)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")}
        patcher = mock.patch.dict(os.environ, clean, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        run_module._current = None
        self.addCleanup(setattr, run_module, "_current", None)
        self.metrics_file = os.path.join(self.dir, "run", "metrics.jsonl")

    def online(self, **extra):
        env = {
            "PIPELINE_RUN_ID": "20261126-155306-196953-train",
            "PIPELINE_PARENT_RUN_ID": "20261126-155306-196953",
            "PIPELINE_STEP": "train",
            "PIPELINE_EXPERIMENT": "seed-pipeline",
            "PIPELINE_WORKSPACE": "/ws/.mlworkspace",
            "PIPELINE_WORKSPACE_NAME": "team",
            "PIPELINE_METRICS_FILE": self.metrics_file,
        }
        env.update(extra)
        os.environ.update(env)
        run = Run.get_context()
        self.addCleanup(run.complete)
        return run

    def lines(self):
        with open(self.metrics_file, encoding="utf-8") as f:
            return f.read().splitlines()

    def records(self):
        return [json.loads(line) for line in self.lines()]

    def files_in_cwd(self):
        return sorted(os.path.relpath(os.path.join(d, f), self.dir) for d, _, fs in os.walk(self.dir) for f in fs)


def _rmtree(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


class ContextTests(RunTestCase):
    def test_online_run_reads_every_variable(self):
        data = os.path.join(self.dir, "data")
        run = self.online(
            PIPELINE_INPUTS=json.dumps({"raw": data, "prepared": "/d/prepared"}),
            PIPELINE_OUTPUTS=json.dumps({"model": "/staging/model"}),
            PIPELINE_PARAMS=json.dumps({"learning_rate": "0.1"}),
        )
        self.assertFalse(run.offline)
        self.assertEqual(run.id, "20261126-155306-196953-train")
        self.assertEqual(run.parent.id, "20261126-155306-196953")
        self.assertEqual(run.step, "train")
        self.assertEqual(run.experiment.name, "seed-pipeline")
        self.assertEqual(run.experiment.workspace.name, "team")
        self.assertEqual(run.experiment.workspace.path, "/ws/.mlworkspace")
        self.assertEqual(run.input_datasets, {"raw": data, "prepared": "/d/prepared"})
        self.assertEqual(run.output_datasets, {"model": "/staging/model"})
        self.assertEqual(run.parameters, {"learning_rate": "0.1"})

    def test_missing_optional_variables_read_as_none_and_empty(self):
        os.environ["PIPELINE_RUN_ID"] = "r1"
        run = Run.get_context()
        self.assertEqual((run.id, run.parent, run.step, run.experiment.name), ("r1", None, None, None))
        self.assertEqual((run.input_datasets, run.output_datasets, run.parameters), ({}, {}, {}))

    def test_context_is_cached_until_the_environment_changes(self):
        first = self.online()
        self.assertIs(Run.get_context(), first)
        os.environ["PIPELINE_RUN_ID"] = "another"
        second = Run.get_context()
        self.assertIsNot(second, first)
        self.assertEqual(second.id, "another")

    def test_bad_json_variables_are_named(self):
        for value in ("{not json", "[1, 2]", '{"lr": 0.1}'):
            with self.subTest(value=value):
                run_module._current = None
                os.environ.update(PIPELINE_RUN_ID="r", PIPELINE_PARAMS=value)
                with self.assertRaisesRegex(ValueError, "PIPELINE_PARAMS"):
                    Run.get_context()

    def test_offline_run(self):
        run = Run.get_context()
        self.assertTrue(run.offline)
        self.assertRegex(run.id, r"^OfflineRun_[0-9a-f-]{36}$")
        self.assertIsNone(run.parent)
        self.assertEqual((run.input_datasets, run.output_datasets, run.parameters), ({}, {}, {}))
        self.assertEqual(run.experiment.name, "offline")
        self.assertIs(Run.get_context(), run)
        with self.assertRaises(RuntimeError):
            Run.get_context(allow_offline=False)

    def test_package_exports(self):
        self.assertIs(pipelinesdk.Run, Run)
        self.assertIn("PIPELINE_METRICS_FILE", pipelinesdk.__doc__)


class LineShapeTests(RunTestCase):
    def assertLine(self, line, expected_without_time):
        self.assertRegex(line, TIME)
        self.assertEqual(TIME.sub("}", line), expected_without_time)

    def test_each_kind_writes_its_exact_line(self):
        run = self.online()
        with open("roc.png", "wb") as f:
            f.write(b"\x89PNG")
        run.log("accuracy", 0.93)
        run.log("model", "logreg")
        run.log("converged", True)
        run.log_list("losses", [0.9, 0.5, 0.3])
        run.log_row("per_class", **{"class": "setosa", "f1": 0.97})
        run.log_table("confusion", {"actual": ["a", "b"], "predicted": ["a", "a"]})
        run.log_image("roc", "roc.png")
        run.set_tags({"team": "vision", "stage": "dev"})
        run.tag("reviewed")
        roc = json.dumps(os.path.join(self.dir, "roc.png"))
        expected = [
            '{"kind":"metric","name":"accuracy","value":0.93}',
            '{"kind":"metric","name":"model","value":"logreg"}',
            '{"kind":"metric","name":"converged","value":true}',
            '{"kind":"list","name":"losses","value":[0.9,0.5,0.3]}',
            '{"kind":"row","name":"per_class","value":{"class":"setosa","f1":0.97}}',
            '{"kind":"table","name":"confusion","value":{"actual":["a","b"],"predicted":["a","a"]}}',
            '{"kind":"image","name":"roc","path":' + roc + '}',
            '{"kind":"tags","value":{"team":"vision","stage":"dev"}}',
            '{"kind":"tags","value":{"reviewed":""}}',
        ]
        lines = self.lines()
        self.assertEqual(len(lines), len(expected))
        for line, want in zip(lines, expected):
            self.assertLine(line, want)
        self.assertEqual(run.get_tags(), {"team": "vision", "stage": "dev", "reviewed": ""})

    def test_lines_are_appended_to_an_existing_file(self):
        os.makedirs(os.path.dirname(self.metrics_file))
        with open(self.metrics_file, "w") as f:
            f.write('{"kind":"metric","name":"earlier","value":1}\n')
        self.online().log("later", 2)
        self.assertEqual([r["name"] for r in self.records()], ["earlier", "later"])

    def test_numpy_like_values_become_plain(self):
        class Scalar:
            def tolist(self):
                return 3

        class Array:
            def tolist(self):
                return [1.5, 2.5]

        run = self.online()
        run.log("n", Scalar())
        run.log_list("xs", Array())
        run.log_table("t", {"x": Array()})
        self.assertEqual([r["value"] for r in self.records()], [3, [1.5, 2.5], {"x": [1.5, 2.5]}])

    def test_non_ascii_is_escaped(self):
        self.online().log("précision", "héllo")
        line = self.lines()[0]
        self.assertTrue(line.isascii())
        self.assertEqual(json.loads(line)["name"], "précision")

    def test_a_crash_keeps_what_was_logged(self):
        script = ("from pipelinesdk import Run\nimport os\nrun = Run.get_context()\n"
                  "run.log('before', 1)\nos._exit(3)\n")
        env = dict(os.environ, PYTHONPATH=SDK, PIPELINE_RUN_ID="crash", PIPELINE_METRICS_FILE=self.metrics_file)
        result = subprocess.run([sys.executable, "-c", script], env=env, cwd=self.dir)
        self.assertEqual(result.returncode, 3)
        self.assertEqual([(r["kind"], r["name"], r["value"]) for r in self.records()], [("metric", "before", 1)])

    def test_concurrent_logging_writes_whole_lines(self):
        run = self.online()

        def work(n):
            for i in range(200):
                run.log(f"m{n}", i)
                run.log_row("rows", thread=n, i=i, text="x" * 100)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        records = self.records()
        self.assertEqual(len(records), 8 * 200 * 2)
        metrics = run.get_metrics()
        for n in range(8):
            self.assertEqual(metrics[f"m{n}"], list(range(200)))
        self.assertEqual(len(metrics["rows"]["thread"]), 1600)


class SeriesAndMetricsTests(RunTestCase):
    def test_logging_a_name_again_adds_points(self):
        run = self.online()
        run.log("loss", 0.9)
        self.assertEqual(run.get_metrics(), {"loss": 0.9})
        run.log("loss", 0.5)
        run.log("loss", 0.3)
        self.assertEqual([r["value"] for r in self.records()], [0.9, 0.5, 0.3])
        self.assertEqual(run.get_metrics(), {"loss": [0.9, 0.5, 0.3]})

    def test_get_metrics_of_every_kind(self):
        run = self.online()
        open("a.png", "wb").close()
        run.log_list("xs", [1, 2])
        run.log_list("xs", (3,))
        run.log_row("per_class", **{"class": "a", "f1": 0.5})
        run.log_row("per_class", **{"class": "b", "support": 4})
        run.log_table("per_class", {"class": ["c"], "f1": [0.25]})
        run.log_image("img", "a.png")
        metrics = run.get_metrics()
        self.assertEqual(metrics["xs"], [1, 2, 3])
        self.assertEqual(metrics["per_class"], {"class": ["a", "b", "c"], "f1": [0.5, None, 0.25],
                                                "support": [None, 4, None]})
        self.assertEqual(metrics["img"], os.path.join(self.dir, "a.png"))
        metrics["xs"].append(99)
        self.assertEqual(run.get_metrics()["xs"], [1, 2, 3])


class ValidationTests(RunTestCase):
    def test_bad_values_raise_and_write_nothing(self):
        run = self.online()
        cases = [
            (ValueError, lambda: run.log("nan", math.nan)),
            (ValueError, lambda: run.log("inf", math.inf)),
            (ValueError, lambda: run.log_list("xs", [1.0, -math.inf])),
            (ValueError, lambda: run.log_row("r", f1=math.nan)),
            (ValueError, lambda: run.log_table("t", {"a": [math.nan]})),
            (TypeError, lambda: run.log("obj", object())),
            (TypeError, lambda: run.log("none", None)),
            (TypeError, lambda: run.log("dict", {"a": 1})),
            (TypeError, lambda: run.log_list("str", "abc")),
            (TypeError, lambda: run.log_list("nested", [[1]])),
            (TypeError, lambda: run.log_table("t", [1, 2])),
            (TypeError, lambda: run.log_table("t", {"a": 1})),
            (ValueError, lambda: run.log_table("t", {"a": [1, 2], "b": [1]})),
            (ValueError, lambda: run.log_table("t", {})),
            (ValueError, lambda: run.log_row("r")),
            (ValueError, lambda: run.log("", 1)),
            (ValueError, lambda: run.log("  ", 1)),
            (TypeError, lambda: run.log(3, 1)),
            (TypeError, lambda: run.set_tags({"t": object()})),
            (ValueError, lambda: run.set_tags({"": "x"})),
            (FileNotFoundError, lambda: run.log_image("img", "missing.png")),
            (TypeError, lambda: run.log_image("img")),
        ]
        for error, call in cases:
            with self.subTest(error=error.__name__):
                with self.assertRaises(error):
                    call()
        self.assertFalse(os.path.exists(self.metrics_file))
        self.assertEqual(run.get_metrics(), {})

    def test_errors_name_the_metric(self):
        run = self.online()
        with self.assertRaisesRegex(TypeError, "'weights'"):
            run.log("weights", object())
        with self.assertRaisesRegex(ValueError, "'loss'.*finite"):
            run.log("loss", math.nan)
        with self.assertRaisesRegex(ValueError, "'confusion'.*a=2, b=1"):
            run.log_table("confusion", {"a": [1, 2], "b": [1]})

    def test_a_name_keeps_its_kind(self):
        run = self.online()
        run.log("x", 1)
        with self.assertRaisesRegex(ValueError, "'x' was logged as a metric"):
            run.log_list("x", [1])
        self.assertEqual(len(self.lines()), 1)


class OfflineTests(RunTestCase):
    def test_offline_run_prints_and_writes_nothing(self):
        run = Run.get_context()
        open("roc.png", "wb").close()
        before = self.files_in_cwd()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run.log("accuracy", 0.93)
            run.log("model", "logreg")
            run.log_list("losses", [0.9, 0.5])
            run.log_row("per_class", **{"class": "setosa", "f1": 0.97})
            run.log_table("confusion", {"actual": ["a", "b"], "predicted": ["a", "a"]})
            run.log_image("roc", "roc.png")
            run.set_tags({"best_model": "logreg"})
        self.assertEqual(out.getvalue().splitlines(), [
            "[offline run] accuracy = 0.93",
            "[offline run] model = logreg",
            "[offline run] losses = [0.9, 0.5]",
            "[offline run] per_class (row): class=setosa, f1=0.97",
            "[offline run] confusion (table, 2 rows): actual=[a, b], predicted=[a, a]",
            f"[offline run] roc (image) = {os.path.join(self.dir, 'roc.png')}",
            "[offline run] tags: best_model=logreg",
        ])
        self.assertEqual(self.files_in_cwd(), before)
        self.assertEqual(run.get_metrics()["accuracy"], 0.93)

    def test_offline_validation_is_the_same(self):
        run = Run.get_context()
        with self.assertRaises(ValueError):
            run.log("x", math.nan)

    def test_online_run_without_metrics_file_prints_with_its_id(self):
        os.environ["PIPELINE_RUN_ID"] = "r-7"
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            Run.get_context().log("accuracy", 1)
        self.assertEqual(out.getvalue(), "[run r-7] accuracy = 1\n")
        self.assertEqual(self.files_in_cwd(), [])

    def test_inputs_are_missing_offline(self):
        with self.assertRaisesRegex(KeyError, "offline"):
            Run.get_context().read_rows("raw")


class UploadTests(RunTestCase):
    def test_upload_file_copies_into_outputs(self):
        run = self.online()
        with open("model.bin", "wb") as f:
            f.write(b"\x00weights")
        destination = run.upload_file("models/best/model.bin", "model.bin")
        self.assertEqual(destination, os.path.join(self.dir, "outputs", "models", "best", "model.bin"))
        with open(destination, "rb") as f:
            self.assertEqual(f.read(), b"\x00weights")

    def test_upload_streams_and_the_azure_outputs_prefix(self):
        run = self.online()
        run.upload_file("outputs/a.txt", io.StringIO("text"))
        run.upload_file("b.bin", io.BytesIO(b"\x01\x02"))
        self.assertEqual(self.files_in_cwd(), ["outputs/a.txt", "outputs/b.bin"])
        with open("outputs/b.bin", "rb") as f:
            self.assertEqual(f.read(), b"\x01\x02")

    def test_upload_of_a_file_already_in_place_is_kept(self):
        run = self.online()
        os.makedirs("outputs")
        with open("outputs/m.txt", "w") as f:
            f.write("m")
        run.upload_file("m.txt", "outputs/m.txt")
        with open("outputs/m.txt") as f:
            self.assertEqual(f.read(), "m")

    def test_upload_rejects_bad_names_and_sources(self):
        run = self.online()
        open("x", "w").close()
        for name in ("../x", "/abs/x", "", "a/../../x"):
            with self.subTest(name=name), self.assertRaises(ValueError):
                run.upload_file(name, "x")
        with self.assertRaises(FileNotFoundError):
            run.upload_file("y", "missing")
        with self.assertRaises(TypeError):
            run.upload_file("y", 42)
        self.assertFalse(os.path.exists("outputs"))

    def test_offline_upload_copies_and_says_so(self):
        run = Run.get_context()
        open("m.txt", "w").close()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run.upload_file("m.txt", "m.txt")
        self.assertTrue(os.path.isfile("outputs/m.txt"))
        self.assertIn("uploaded m.txt -> outputs", out.getvalue())


class InputTests(RunTestCase):
    def write(self, relative, text):
        path = os.path.join(self.dir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", newline="") as f:
            f.write(text)
        return path

    def test_read_rows_over_a_folder_of_csvs_in_sorted_order(self):
        self.write("raw/part-001.csv", "x,label\n3,c\n")
        self.write("raw/part-000.csv", "x,label\n1,a\n2,b\n")
        self.write("raw/sub/part-000.csv", "x,label\n4,d\n")
        self.write("raw/README.md", "not data\n")
        run = self.online(PIPELINE_INPUTS=json.dumps({"raw": os.path.join(self.dir, "raw")}))
        rows = list(run.read_rows("raw"))
        self.assertEqual(rows, [{"x": "1", "label": "a"}, {"x": "2", "label": "b"},
                                {"x": "3", "label": "c"}, {"x": "4", "label": "d"}])

    def test_read_rows_of_a_tabular_input_uses_its_format_and_types(self):
        self.write("sales/q1.tsv", "region\tunits\tprice\tactive\nnorth\t3\t1.5\ttrue\n")
        self.write("sales/q2.tsv", "region\tunits\tprice\tactive\nsouth\t\t2\tfalse\n")
        schema = {"Delimiter": "\t", "Header": True, "Encoding": "utf-8", "Rows": 2, "Columns": [
            {"Name": "region", "Type": "string"}, {"Name": "units", "Type": "int"},
            {"Name": "price", "Type": "float"}, {"Name": "active", "Type": "bool"}]}
        run = self.online(PIPELINE_INPUTS=json.dumps({"sales": os.path.join(self.dir, "sales")}),
                          PIPELINE_TABULAR=json.dumps({"sales": schema}))
        self.assertEqual(run.tabular_schema("sales")["Rows"], 2)
        self.assertEqual(list(run.read_rows("sales")), [
            {"region": "north", "units": 3, "price": 1.5, "active": True},
            {"region": "south", "units": None, "price": 2.0, "active": False}])

    def test_read_rows_of_one_file(self):
        path = self.write("data/train.csv", "\ufeffa,b\n1,2\n")
        run = self.online(PIPELINE_INPUTS=json.dumps({"train": path}))
        self.assertEqual(list(run.read_rows("train")), [{"a": "1", "b": "2"}])

    def test_read_rows_errors_at_the_call(self):
        os.makedirs("empty")
        run = self.online(PIPELINE_INPUTS=json.dumps({"empty": os.path.join(self.dir, "empty"), "gone": "/no/such"}))
        with self.assertRaisesRegex(KeyError, "inputs: empty, gone"):
            run.read_rows("raw")
        with self.assertRaisesRegex(FileNotFoundError, "no \\*.csv"):
            run.read_rows("empty")
        with self.assertRaises(FileNotFoundError):
            run.read_rows("gone")

    def test_read_dataframe_without_pandas_raises_import_error(self):
        path = self.write("data/a.csv", "a\n1\n")
        run = self.online(PIPELINE_INPUTS=json.dumps({"data": path}))
        with mock.patch.dict(sys.modules, {"pandas": None}):
            with self.assertRaisesRegex(ImportError, "read_dataframe needs pandas.*read_rows"):
                run.read_dataframe("data")

    def test_read_dataframe_concatenates_files_in_order(self):
        self.write("raw/b.csv", "a\n2\n")
        self.write("raw/a.csv", "a\n1\n")
        calls = []
        fake = types.ModuleType("pandas")
        fake.read_csv = lambda path, **kw: calls.append((os.path.basename(path), kw)) or os.path.basename(path)
        fake.concat = lambda frames, ignore_index: ("concat", frames, ignore_index)
        run = self.online(PIPELINE_INPUTS=json.dumps({"raw": os.path.join(self.dir, "raw")}))
        with mock.patch.dict(sys.modules, {"pandas": fake}):
            frame = run.read_dataframe("raw", sep=",")
        self.assertEqual(frame, ("concat", ["a.csv", "b.csv"], True))
        self.assertEqual(calls, [("a.csv", {"sep": ","}), ("b.csv", {"sep": ","})])

    def test_read_dataframe_of_a_tabular_input_uses_its_format(self):
        self.write("sales/q1.tsv", "1\tnorth\n")
        calls = []
        fake = types.ModuleType("pandas")
        fake.read_csv = lambda path, **kw: calls.append((os.path.basename(path), kw)) or "frame"
        schema = {"Delimiter": "\t", "Header": False, "Encoding": "latin1", "Rows": 1,
                  "Columns": [{"Name": "column1", "Type": "int"}, {"Name": "column2", "Type": "string"}]}
        run = self.online(PIPELINE_INPUTS=json.dumps({"sales": os.path.join(self.dir, "sales")}),
                          PIPELINE_TABULAR=json.dumps({"sales": schema}))
        with mock.patch.dict(sys.modules, {"pandas": fake}):
            self.assertEqual(run.read_dataframe("sales"), "frame")
        self.assertEqual(calls, [("q1.tsv", {"sep": "\t", "encoding": "latin1", "header": None, "names": ["column1", "column2"]})])


class ImageTests(RunTestCase):
    def test_a_figure_is_saved_under_logs(self):
        class Figure:
            def savefig(self, path):
                with open(path, "wb") as f:
                    f.write(b"png")

        run = self.online()
        run.log_image("roc curve", plot=Figure())
        self.assertEqual(self.records()[0]["path"], os.path.join(self.dir, "logs", "roc_curve.png"))
        self.assertTrue(os.path.isfile("logs/roc_curve.png"))


if __name__ == "__main__":
    unittest.main()
