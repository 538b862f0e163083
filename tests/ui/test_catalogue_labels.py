"""Two kept models of one name and accuracy read differently in the model picker."""

from __future__ import annotations

from cnnviz.core.networks import catalogue
from cnnviz.core.networks.weights import load_shipped


def test_kept_models_of_one_name_get_their_file_names(tmp_path):
    shipped = load_shipped("cnnviz")
    card = dict(shipped.card)
    first = catalogue.save_user_model(shipped.model, "twin", card, tmp_path)
    second = catalogue.save_user_model(shipped.model, "twin", card, tmp_path)
    assert first != second  # never replaced
    kept, problems = catalogue.user_entries(tmp_path)
    assert problems == [] and len(kept) == 2
    assert kept[0].label == kept[1].label  # what the picker showed before
    entries = catalogue.with_entries([], kept)
    labels = [e.label for e in entries]
    assert len(set(labels)) == 2
    assert {label.rsplit(" · ", 1)[1] for label in labels} == {first.name, second.name}
    assert all(label.startswith("twin (yours) — MNIST") for label in labels)


def test_distinct_labels_are_left_alone(tmp_path):
    shipped = load_shipped("cnnviz")
    path = catalogue.save_user_model(shipped.model, "only one", dict(shipped.card), tmp_path)
    kept, _ = catalogue.user_entries(tmp_path)
    [entry] = catalogue.with_entries([], kept)
    assert entry.label == catalogue.user_entry(path, kept[0].loaded).label
    assert " · " not in entry.label
