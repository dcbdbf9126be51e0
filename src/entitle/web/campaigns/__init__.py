"""Campaign pages: the dashboard of campaigns and their runs, review before sending, what-if,
the week-by-week follow-up and coupon verification — one module per page or page group,
mounted by `routes.install`.

For campaign managers and administrators (a desk officer or an auditor gets 403; the coupon
pages have their own roles). Everything the pages show comes from the campaign module
(`entitle.decide.campaign`): `campaign_runs` and `run_figures` for the figures, `approve_run` /
`reject_run` for the review (they record the verdict and audit it), `issue_run` once a run is
approved (letters and billing lists, in the background after the response), `simulate` for the
what-if (stores and issues nothing).

- `setup`: `CampaignSetup` (one per application) and who may manage campaigns;
- `charts`, `words`: bar charts as inline SVG, the figures and sample decisions in words;
- `overview`: the dashboard and the monitoring endpoint; `runs`: a run's page;
- `review`: approve, reject, issue; `downloads`: a run's files and letters;
- `whatif`, `whatif_stream`: the what-if and its progress; `weeks`: the weekly follow-up;
- `coupons`: coupon verification, a page and an API.

The pages never show a value read from a source: a decision is shown by its pseudonym, outcome,
conditions (those reading income or health data as "protected") and the missing facts' kinds.
"""
