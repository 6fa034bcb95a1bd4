"""Notebook execution: the QUICK parameter reaches the kernel, and failures name the cell."""

import os

import nbformat
import pytest

from a2common.notebooks import NotebookExecutionError, execute_notebook, main


def write_notebook(path, *sources):
    cells = [nbformat.v4.new_code_cell("QUICK = False", metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def stream_text(notebook):
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )


def test_quick_parameter_is_injected_and_outputs_saved(tmp_path):
    notebook = write_notebook(
        tmp_path / "tiny.ipynb",
        "print(f'QUICK is {QUICK}')",
        "import os\nprint('cwd', os.getcwd())",
    )
    executed = execute_notebook(notebook, quick=True, output_path=tmp_path / "done.ipynb")

    text = stream_text(nbformat.read(executed, as_version=4))
    assert "QUICK is True" in text
    assert f"cwd {tmp_path}" in text  # runs beside the notebook, as in Jupyter
    assert not nbformat.read(notebook, as_version=4).cells[1].outputs  # input left as it was


def test_failing_cell_is_named_and_notebook_saved_in_place(tmp_path):
    notebook = write_notebook(
        tmp_path / "broken.ipynb", "x = 1", "raise ValueError('the data is missing')"
    )
    with pytest.raises(NotebookExecutionError, match="ValueError: the data is missing") as info:
        execute_notebook(notebook, quick=True)
    assert "raise ValueError('the data is missing')" in str(info.value)  # the cell's source
    assert "broken.ipynb" in str(info.value)
    assert "the data is missing" in nbformat.writes(nbformat.read(notebook, as_version=4))


def test_cli_reports_failure(tmp_path, capsys):
    notebook = write_notebook(tmp_path / "broken.ipynb", "1 / 0")
    assert main(["--quick", str(notebook), "--output-dir", str(tmp_path / "scratch")]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_quick_runs_go_to_a_scratch_folder_and_full_runs_in_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    notebook = write_notebook(tmp_path / "pkg" / "tiny.ipynb", "print(f'QUICK is {QUICK}')")
    assert main(["--quick", "pkg/tiny.ipynb", "--output-dir", "scratch"]) == 0
    assert not nbformat.read(notebook, as_version=4).cells[1].outputs  # committed one untouched
    quick = nbformat.read(tmp_path / "scratch" / "pkg" / "tiny.ipynb", as_version=4)
    assert "QUICK is True" in stream_text(quick)
    assert main(["pkg/tiny.ipynb"]) == 0
    assert "QUICK is False" in stream_text(nbformat.read(notebook, as_version=4))


def test_figures_are_embedded_even_when_the_caller_uses_agg(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = write_notebook(
        tmp_path / "plot.ipynb", "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])"
    )
    executed = nbformat.read(execute_notebook(notebook, quick=True), as_version=4)

    assert any(
        "image/png" in output.get("data", {})
        for cell in executed.cells
        for output in cell.get("outputs", [])
    )
    assert os.environ["MPLBACKEND"] == "Agg"  # the caller's setting is restored


def test_tensorflow_startup_notice_is_dropped_and_other_stderr_kept(tmp_path):
    notice = (
        "I0000 00:00:1796336965.228785   10331 port.cc:153] oneDNN custom operations are on. "
        "You may see slightly different numerical results."
    )
    notebook = write_notebook(
        tmp_path / "noisy.ipynb",
        f"import sys\nprint({notice!r}, file=sys.stderr)\nprint('kept warning', file=sys.stderr)",
        f"import sys\nprint({notice!r}, file=sys.stderr)",
    )
    executed = nbformat.read(execute_notebook(notebook, quick=True), as_version=4)

    assert stream_text(executed) == "kept warning\n"
    assert executed.cells[-1].outputs == []  # a stream left empty is dropped, not kept blank
