"""The panel's dataset box and the notebook's own data: a DataFrame picked by its variable name trains."""

from __future__ import annotations

import pandas as pd
import pytest
import user_files as uf

from workbench.ui import Workbench, code_for
from workbench.ui.namespace import data_name, notebook_data, shown_name


@pytest.fixture
def kernel():
    """An IPython shell as a notebook's kernel is one: ``get_ipython().user_ns`` holds its variables."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    yield shell
    InteractiveShell.clear_instance()


def test_only_data_objects_are_offered_by_their_variable_names(kernel):
    kernel.user_ns.update(reviews=pd.DataFrame(uf.reviews()), rows=uf.answers(), n=3, words=["a"],
                          _private=pd.DataFrame(uf.reviews()))  # fmt: skip
    assert notebook_data() == {"reviews": "pandas DataFrame", "rows": "list of dicts"}
    assert data_name("reviews") == "memory:reviews" and shown_name("memory:reviews") == "reviews"
    assert data_name("toy-e2e") == "toy-e2e" and data_name("n") == "n"  # not data: left for the loader to judge


def test_the_panel_previews_and_trains_a_dataframe_from_the_notebook(kernel, make_config):
    kernel.user_ns["reviews"] = pd.DataFrame(uf.reviews())
    panel = Workbench(make_config("tiny-bert", train={"steps": 3, "eval_every": 0}), chart_interval_s=0,
                      chart_budget=None)  # fmt: skip
    assert panel.settled(timeout=120)
    assert "reviews" in panel.controls.dataset.options
    panel.controls.dataset.value = "reviews"
    assert panel.settled(timeout=120)
    assert "The food was" in panel.info.preview.value  # the same preview as a file's
    panel.train_button.click()
    run = panel.wait(timeout=120)
    assert run is not None and run.history.ends[-1].reason == "completed"
    assert run.config.data.name == "memory:reviews" and run.data.source["type"] == "pandas DataFrame"
    code = code_for(run.config)
    assert "config.data.name = reviews  # held in memory" in code and "reviews.to_parquet('reviews.parquet')" in code
    assert "--dataset reviews.parquet" in code
    cell = {"__name__": "cell", **kernel.user_ns}
    exec(code.split("run = wb.Run.create")[0], cell)  # the cell's settings, run in the notebook's namespace
    assert cell["config"].validate() == run.config
