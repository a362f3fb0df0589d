"""Fitting every shipped model, in one place: pure functions over texts, labels and measurements.

- `inflammatory`: the hashed linear model, its second stage and calibration (`fit_inflammatory`);
- `offtopic`: the background (`fit_background`) and the combiner fitting helpers.

The commands that read the corpora and write the files are `lab/commands/train_inflammatory.py` and
`lab/commands/train_offtopic.py` (`modassist-lab train inflammatory|offtopic`).
"""
