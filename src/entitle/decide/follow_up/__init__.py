"""Weekly follow-up from MAGDA mutation notifications (`entitle watch …`), one job per module:

- `run`: one week for every followed campaign (`run_week`: fetch, decide, store, move the cursor);
- `subjects`: which subjects a week's changed persons can affect (the mapping step);
- `redecide`: decide those again and compare with their last decisions;
- `seed`: the first week taken from finished campaign runs;
- `standing`: the standing approval of a campaign's follow-up (granted, withdrawn);
- `batches`: each week's batch, a run of its own in the store (held, released, due);
- `issue`: sending a batch (letters, notifications) and `billing`: its billing lists;
- `schedule`: the follow-up in `entitle campaign schedule`;
- `figures`: the week-by-week figures for the dashboard; `folders`: where things are kept.
"""
